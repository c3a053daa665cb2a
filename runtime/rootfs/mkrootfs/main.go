// Command mkrootfs builds a busybox rootfs for the demo and for learners:
//
//	go run ./runtime/rootfs/mkrootfs build/rootfs
package main

import (
	"fmt"
	"os"

	"scratchcontainer/runtime/rootfs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkrootfs DIR")
		os.Exit(2)
	}
	if err := rootfs.BuildBusybox(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkrootfs:", err)
		os.Exit(1)
	}
}
