// Command cpuburn keeps N threads busy for T seconds, then prints how much
// CPU it got: CPU time (user + system, from getrusage(2)) over wall time.
//
//	cpuburn 2 3    →  cpus 0.50
//	                  host 25%
//
// "cpus" is in CPUs (1.00 = one CPU all the time); "host" is the share of
// all the host's CPUs. A -cpus limit caps the first, whatever N is.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cpuburn THREADS SECONDS")
		os.Exit(2)
	}
	threads, err1 := strconv.Atoi(os.Args[1])
	seconds, err2 := strconv.ParseFloat(os.Args[2], 64)
	if err1 != nil || err2 != nil || threads < 1 || seconds <= 0 {
		fmt.Fprintln(os.Stderr, "cpuburn: THREADS and SECONDS must be positive numbers")
		os.Exit(2)
	}
	// Go sizes GOMAXPROCS from the cgroup's CPU limit: ask for the threads
	// we burn on, so the limit, not Go, is what holds us back.
	runtime.GOMAXPROCS(threads)

	start := time.Now()
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)

	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "cpuburn: getrusage:", err)
		os.Exit(1)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	cpus := cpu.Seconds() / wall.Seconds()
	fmt.Printf("cpus %.2f\n", cpus)
	fmt.Printf("host %.0f%%\n", 100*cpus/float64(runtime.NumCPU()))
}
