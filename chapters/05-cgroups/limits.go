package cgroups

import (
	"fmt"
	"math"
	"runtime"
	"strconv"

	"scratchcontainer/runtime/container"
)

// Limits are what the container may use, in the units the kernel's files
// take.
type Limits struct {
	CPUQuota  int64 // µs of CPU time per CPUPeriod, across all CPUs
	CPUPeriod int64 // µs
	Memory    int64 // bytes; swap is not allowed on top
	Pids      int64 // most tasks (processes and threads)
}

// Defaults and bounds of the limits.
const (
	CPUPeriod      = 100_000 // µs: the kernel's default CFS period, 100 ms
	DefaultCPUs    = 0.2     // of the host's CPUs: 20%
	MinCPUQuota    = 1_000   // µs: the kernel refuses a quota under 1 ms
	DefaultMemory  = 2 << 30 // 2 GiB
	MinMemory      = 4 << 20 // 4 MiB: below this the command cannot even start
	DefaultPids    = 1024
	MinPids        = 16 // see ParsePids
	memoryFlagHelp = "bytes, or a number with k, m or g (e.g. 512m, 2g)"
)

// ParseLimits reads -cpus, -memory and -pids, and fills in the defaults.
// An error names the flag, its value and the range it accepts.
func ParseLimits(cfg container.Config) (Limits, error) {
	cpus := float64(runtime.NumCPU())
	l := Limits{
		CPUPeriod: CPUPeriod,
		CPUQuota:  int64(DefaultCPUs * cpus * CPUPeriod),
		Memory:    DefaultMemory,
		Pids:      DefaultPids,
	}
	var err error
	if cfg.CPUs != "" {
		if l.CPUQuota, err = ParseCPUs(cfg.CPUs, runtime.NumCPU()); err != nil {
			return l, err
		}
	}
	if cfg.Memory != "" {
		if l.Memory, err = ParseMemory(cfg.Memory); err != nil {
			return l, err
		}
	}
	if cfg.Pids != "" {
		if l.Pids, err = ParsePids(cfg.Pids); err != nil {
			return l, err
		}
	}
	return l, nil
}

// ParseCPUs turns -cpus (a decimal number of CPUs, 0.5 = half a CPU) into a
// CFS quota in µs per CPUPeriod. It accepts 0.01 (a quota of 1 ms, the
// kernel's least) up to the host's CPU count.
func ParseCPUs(s string, hostCPUs int) (int64, error) {
	cpus, err := strconv.ParseFloat(s, 64)
	quota := int64(math.Round(cpus * CPUPeriod))
	if err != nil || math.IsNaN(cpus) || quota < MinCPUQuota || cpus > float64(hostCPUs) {
		return 0, fmt.Errorf("-cpus %s: give a decimal number of CPUs from 0.01 to %d (this host has %d), e.g. -cpus 0.5", s, hostCPUs, hostCPUs)
	}
	return quota, nil
}

// ParseSize reads a size in bytes: digits with an optional suffix b, k, m
// or g (either case, powers of 1024), as docker's -memory has it.
func ParseSize(s string) (int64, error) {
	digits, shift := s, 0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'b', 'B':
			digits = s[:n-1]
		case 'k', 'K':
			digits, shift = s[:n-1], 10
		case 'm', 'M':
			digits, shift = s[:n-1], 20
		case 'g', 'G':
			digits, shift = s[:n-1], 30
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits[0] == '+' {
		return 0, fmt.Errorf("size %q: write %s", s, memoryFlagHelp)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n << shift, nil
}

// ParseMemory reads -memory: a size of at least MinMemory.
func ParseMemory(s string) (int64, error) {
	n, err := ParseSize(s)
	if err != nil || n < MinMemory {
		return 0, fmt.Errorf("-memory %s: give a size from %s upward, in %s; less leaves no room to start a process", s, FormatSize(MinMemory), memoryFlagHelp)
	}
	return n, nil
}

// ParsePids reads -pids. pids.max counts tasks, threads included, and the
// container's first task is the runtime's own child: a Go program, which
// already has a few threads when it joins the cgroup (Threads: in
// /proc/<pid>/status) and starts more before it execs the command, more
// still where its syscalls are slow (an emulated VM). Below its need the
// child dies with "failed to create new OS thread". MinPids leaves room
// for that.
func ParsePids(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < MinPids {
		return 0, fmt.Errorf("-pids %s: give a number of processes from %d upward: pids.max counts threads, and the runtime's own child is a Go program with several threads until it execs the command", s, MinPids)
	}
	return n, nil
}

// FormatSize writes bytes as the largest exact unit: 48 MiB, 2 GiB, 1000 bytes.
func FormatSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
