// Command mkrootfs builds root filesystems for the demo and for learners:
//
//	go run ./tools/mkrootfs build/rootfs                    # busybox
//	go run ./tools/mkrootfs -helpers testdata/helpers build/rootfs # + the test helpers
//	go run ./tools/mkrootfs -host "bash ls" build/rootfs-host # host programs and their libraries
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"scratchcontainer/internal/rootfs"
)

func main() {
	host := flag.String("host", "", "copy these host `programs` (space-separated) with their libraries, instead of busybox")
	helpers := flag.String("helpers", "", "also build the Go programs under `DIR` (one a directory) into /usr/local/bin")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkrootfs [-host \"bash ls\"] [-helpers DIR] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	var err error
	if *host != "" {
		err = rootfs.CopyHostBinaries(dir, strings.Fields(*host))
	} else {
		err = rootfs.BuildBusybox(dir)
	}
	if err == nil && *helpers != "" {
		err = rootfs.BuildHelpers(*helpers, dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkrootfs:", err)
		os.Exit(1)
	}
}
