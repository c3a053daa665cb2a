// Command cpuburn keeps N threads busy for T seconds, then prints how much
// CPU it got: CPU time (user + system, from getrusage(2)) over wall time.
//
//	cpuburn 2 4    →  cpus 0.50      (THREADS 0: one per host CPU)
//	                  host 25%
//	                  mean 0.48
//
// "cpus" is in CPUs (1.00 = one CPU all the time), "host" the same as a
// share of all the host's CPUs, both over the best one-second window; "mean"
// is over the whole run.
//
// Why the best window: a CPU limit is a ceiling. On a busy host (tests
// compiling beside us) the burner may get less than its limit for a while,
// but in no window can it get more. The best window shows the ceiling;
// without a limit, two threads show up to two CPUs.
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

const (
	tick   = 100 * time.Millisecond // one CFS period: samples every tick
	window = 10                     // ticks: one second
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cpuburn THREADS SECONDS")
		os.Exit(2)
	}
	threads, err1 := strconv.Atoi(os.Args[1])
	seconds, err2 := strconv.ParseFloat(os.Args[2], 64)
	if err1 != nil || err2 != nil || threads < 0 || seconds < 1 {
		fmt.Fprintln(os.Stderr, "cpuburn: THREADS must be 0 (one per host CPU) or more, SECONDS 1 or more")
		os.Exit(2)
	}
	if threads == 0 {
		// One per CPU: enough to reach any share of the host's CPUs,
		// on a host of 1 CPU or of 64.
		threads = runtime.NumCPU()
	}
	// Go sizes GOMAXPROCS from the cgroup's CPU limit: ask for the threads
	// we burn on, plus one that samples, so the limit, not Go, holds us back.
	runtime.GOMAXPROCS(threads + 1)

	start := time.Now()
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
			}
		}()
	}

	type sample struct{ wall, cpu time.Duration }
	samples := []sample{{0, cpuTime()}}
	for t := time.NewTicker(tick); time.Now().Before(deadline); <-t.C {
		samples = append(samples, sample{time.Since(start), cpuTime()})
	}
	wg.Wait()
	last := sample{time.Since(start), cpuTime()}

	best := 0.0
	for i := window; i < len(samples); i++ {
		a, b := samples[i-window], samples[i]
		best = max(best, (b.cpu-a.cpu).Seconds()/(b.wall-a.wall).Seconds())
	}
	fmt.Printf("cpus %.2f\n", best)
	fmt.Printf("host %.0f%%\n", 100*best/float64(runtime.NumCPU()))
	fmt.Printf("mean %.2f\n", (last.cpu-samples[0].cpu).Seconds()/last.wall.Seconds())
}

// cpuTime is the CPU time this process used so far, all threads together.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "cpuburn: getrusage:", err)
		os.Exit(1)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
