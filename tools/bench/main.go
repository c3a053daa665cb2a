// Command bench measures scratchcontainer against runc and against the
// kernel's own floor, on the same busybox rootfs: start-to-exit latency of
// /bin/true, twenty containers at once, and TCP throughput through a
// published port. `make bench` runs it as root; results go to the terminal
// and, as JSON and an SVG chart, to build/bench/.
//
// Traffic goes only to loopback and to the container's own address.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"scratchcontainer/internal/rootfs"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "sink" {
		// Inside a container, as PID 1: without a handler, the SIGINT
		// that ends it would be dropped.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		go func() { <-stop; os.Exit(0) }()
		serveSink(os.Args[2])
		return
	}
	runs := flag.Int("runs", 30, "runs per latency case")
	sc := flag.String("scratchcontainer", "./scratchcontainer", "the runtime to measure")
	root := flag.String("rootfs", "build/rootfs", "busybox rootfs")
	out := flag.String("out", "build/bench", "where results.json and results.svg go")
	flag.Parse()
	if err := run(*runs, *sc, *root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int, sc, root, out string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: sudo make bench")
	}
	root, _ = filepath.Abs(root)
	sc, _ = filepath.Abs(sc)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The sink runs inside containers: a static copy of this program.
	os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755)
	if err := rootfs.CopyFile(self, filepath.Join(root, "usr/local/bin/scbench")); err != nil {
		return err
	}

	var results []Result
	add := func(r Result) {
		results = append(results, r)
		show(r)
	}

	fmt.Println("start to exit of /bin/true:")
	add(latency("scratchcontainer run -net none", runs, sc, "run", "-net", "none", root, "/bin/true"))
	add(latency("scratchcontainer run (veth)", runs, sc, "run", root, "/bin/true"))
	add(latency("scratchcontainer run -p 18990:80", runs, sc, "run", "-p", "18990:80", root, "/bin/true"))
	if r, err := runcLatency(runs, root, out); err == nil {
		add(r)
	} else {
		fmt.Println("runc:", err)
	}
	add(latency(floorName, runs, "unshare", "--uts", "--pid", "--mount", "--net", "--ipc", "--fork", "chroot", root, "/bin/true"))
	ratio(results, runcName)

	fmt.Println("twenty at once:")
	add(concurrent(20, sc, root))

	fmt.Println("TCP throughput (256 MiB, median of 7):")
	for _, r := range throughput(sc, root) {
		add(r)
	}
	ratio(results, "TCP to the container's address")

	return write(out, results)
}
