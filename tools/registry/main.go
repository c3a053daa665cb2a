// Command registry serves chapter 10's test images (see
// internal/testregistry) from an in-memory registry on 127.0.0.1, for the
// lesson and for trying `scratchcontainer pull` without the internet:
//
//	go run ./tools/registry -addr 127.0.0.1:15000 -rootfs build/rootfs &
//	scratchcontainer pull 127.0.0.1:15000/test/busybox:1
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"scratchcontainer/internal/testregistry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:15000", "listen on `HOST:PORT` (127.0.0.1 or localhost only)")
	rootfs := flag.String("rootfs", "build/rootfs", "the busybox rootfs `DIR` the images are built from")
	outside := flag.String("outside", os.TempDir(), "the host `DIR` test/evil:1 tries to write into")
	flag.Parse()
	listening, stop, err := testregistry.Serve(*addr, *rootfs, *outside)
	if err != nil {
		fmt.Fprintf(os.Stderr, "registry: %v\n", err)
		os.Exit(1)
	}
	defer stop()
	fmt.Printf("serving test/busybox:1, test/corrupt:1 and test/evil:1 on %s\n", listening)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
}
