// Package cgroups limits what the container may use: CPU time, memory and
// the number of processes. Namespaces decide what a process can see; control
// groups decide how much it can take.
//
// A control group (cgroup) is a directory in a special file system under
// /sys/fs/cgroup. Making a directory makes a group; writing a PID into its
// cgroup.procs file moves that process, and every child it forks later,
// into the group; writing numbers into its other files sets the limits the
// kernel enforces on the whole group:
//
//	limit       cgroup v1 (a tree per controller)          cgroup v2 (one tree)
//	CPU         cpu/…/cpu.cfs_quota_us  40000              cpu.max      "40000 100000"
//	            cpu/…/cpu.cfs_period_us 100000
//	memory      memory/…/memory.limit_in_bytes 2147483648  memory.max   2147483648
//	no swap     memory/…/memory.memsw.limit_in_bytes = ↑   memory.swap.max 0
//	processes   pids/…/pids.max 1024                       pids.max     1024
//	OOM kills   memory/…/memory.oom_control "oom_kill N"   memory.events "oom_kill N"
//
// Linux has two versions of this file system, and a runtime must speak
// both: v1 (a hierarchy per controller, /sys/fs/cgroup/memory, …), still
// found on older hosts and on "hybrid" ones such as this course's test
// machine, and v2 (one unified hierarchy at /sys/fs/cgroup), the default of
// every current distribution. Each has a small driver in this package, v1.go
// and v2.go, behind the Driver interface; Detect picks one by asking
// statfs(2) what is mounted.
//
// The order matters: the cgroup is made and its limits written before the
// child exists (Prepare); the host moves the child in while it still waits
// for its orders (Attach), so not one instruction of the command runs
// outside its limits; after exit the runtime reports an out-of-memory kill
// (Exited) and removes the cgroup (Release).
//
// Syscalls: statfs(2), mkdir(2), write(2), kill(2), rmdir(2).
// Man pages: cgroups(7). Kernel docs: Documentation/admin-guide/cgroup-v1/
// (cgroups.rst, memory.rst, pids.rst), Documentation/scheduler/sched-bwc.rst,
// Documentation/admin-guide/cgroup-v2.rst.
package cgroups

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 05.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "cgroups",
		Capability: "limits: CPU, memory and processes, with cgroup v1 or v2",
		Prepare:    Create,
		Attach:     Join,
		Exited:     ExplainOOM,
		Release:    Remove,
	}
}

// Limits are what the container may use, in the units the kernel's files
// take.
type Limits struct {
	CPUQuota  int64 // µs of CPU time per CPUPeriod, across all CPUs
	CPUPeriod int64 // µs
	Memory    int64 // bytes; swap is not allowed on top
	Pids      int64 // most tasks (processes and threads)
}

// A Driver speaks one version of the cgroup file system. Both versions
// share the rest: cgroup.procs to join, kill(2) and rmdir(2) to leave.
type Driver interface {
	// Dirs are the cgroup scratchcontainer/<id>: one directory per
	// controller on v1, a single one on v2.
	Dirs(id string) []string
	// Create makes the directories and writes the limits into them.
	Create(id string, l Limits) error
	// OOMKills is how many processes the kernel killed in the cgroup
	// because it hit its memory limit.
	OOMKills(id string) (int, error)
}

// Root is where the cgroup file systems are mounted.
const Root = "/sys/fs/cgroup"

// Detect returns the driver for this host, from the type of file system
// mounted at root (statfs(2)):
//
//	root is cgroup2                       → v2 (unified)
//	root is a tmpfs with cgroup dirs in it → v1; if root/unified is a
//	                                         cgroup2 too, the host is
//	                                         "hybrid": we use the v1
//	                                         controllers, which own
//	                                         cpu, memory and pids there.
func Detect(root string) (Driver, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w (is the cgroup file system mounted?)", root, err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return V2{Root: root}, nil
	case unix.TMPFS_MAGIC:
		return V1{Root: root}, nil
	}
	return nil, fmt.Errorf("%s is neither a cgroup2 file system nor a tmpfs of cgroup v1 hierarchies (statfs type %#x)", root, st.Type)
}

// Create runs on the host before the child exists: it reads the limits
// from the flags, makes the cgroup scratchcontainer/<id> and writes the
// limits into it. It records the directories first, so that gc finds them
// even if the runtime dies halfway.
func Create(c *container.Container) error {
	l, err := ParseLimits(c.Config)
	if err != nil {
		return err
	}
	d, err := Detect(Root)
	if err != nil {
		return err
	}
	if err := c.Record("cgroup", strings.Join(d.Dirs(c.ID), " ")); err != nil {
		return err
	}
	return d.Create(c.ID, l)
}

// Join runs on the host once the child exists, while it waits for its
// orders: writing its PID into cgroup.procs moves it (all its threads) into
// the cgroup. Everything it runs from here on, the command and whatever that
// forks, stays inside.
func Join(c *container.Container) error {
	for _, dir := range strings.Fields(c.Resources["cgroup"]) {
		procs := filepath.Join(dir, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(c.Pid)), 0o644); err != nil {
			return fmt.Errorf("move PID %d into the cgroup: write %s: %w", c.Pid, procs, unwrapPath(err))
		}
	}
	return nil
}

// ExplainOOM runs on the host after the command exited. When the kernel's
// out-of-memory killer struck inside the cgroup, all the user sees otherwise
// is a SIGKILL from nowhere: say what happened, and exit 137 as docker does.
func ExplainOOM(c *container.Container, status int) int {
	d, err := Detect(Root)
	if err != nil {
		return status
	}
	if n, err := d.OOMKills(c.ID); err != nil || n == 0 {
		return status
	}
	limit := c.Config.Memory
	if l, err := ParseLimits(c.Config); err == nil {
		limit = FormatSize(l.Memory)
	}
	fmt.Fprintf(os.Stderr, "scratchcontainer: out of memory: the container hit its memory limit of %s (-memory)\n", limit)
	return StatusOOM
}

// StatusOOM is the exit status of a container killed for memory: 128+SIGKILL.
const StatusOOM = container.StatusSignalBase + int(unix.SIGKILL)

// Remove runs on the host after exit, and from gc with only the saved
// state: it kills whatever is still in the cgroup, then removes its
// directories. A cgroup that still holds a task cannot be removed (EBUSY),
// and the kernel needs a moment after the last task died to let go of it, so
// rmdir is retried briefly. Directories already gone are fine: Remove may
// run twice.
func Remove(c *container.Container) error {
	var errs []error
	for _, dir := range strings.Fields(c.Resources["cgroup"]) {
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroup kills the tasks of one cgroup directory and removes it, then
// removes its parent scratchcontainer/ if no other container uses it.
func removeCgroup(dir string) error {
	var err error
	for try := 0; try < 100; try++ {
		killAll(dir)
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			unix.Rmdir(filepath.Dir(dir)) // EBUSY while other containers run: fine
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("rmdir %s: %w (still holds processes: see %s/cgroup.procs)", dir, err, dir)
}

// killAll sends SIGKILL to every process in the cgroup. Normally there is
// none: when PID 1 of a PID namespace dies, the kernel kills the rest.
func killAll(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// Defaults and bounds of the limits.
const (
	CPUPeriod      = 100_000 // µs: the kernel's default CFS period, 100 ms
	DefaultCPUs    = 0.2     // of the host's CPUs: 20%
	MinCPUQuota    = 1_000   // µs: the kernel refuses a quota under 1 ms
	DefaultMemory  = 2 << 30 // 2 GiB
	MinMemory      = 4 << 20 // 4 MiB: below this the command cannot even start
	DefaultPids    = 1024
	MinPids        = 10 // see ParsePids
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
// has 1 to 4 threads when it joins the cgroup (Threads: in
// /proc/<pid>/status) and starts more before it execs the command: with
// -pids 5 it died with "failed to create new OS thread (have 7 already)",
// from -pids 8 on it always started. MinPids leaves some room above that.
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

// writeFile writes one value into a cgroup file, with an error in the
// kernel's words that names the file.
func writeFile(dir, file, value string) error {
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, unwrapPath(err))
	}
	return nil
}

// exists reports whether the kernel offers a file: memory.memsw.* only
// exists with swap accounting, memory.swap.max likewise.
func exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

// readKey reads "key value" lines (memory.oom_control, memory.events) and
// returns the value of key; ok is false if the file has no such line.
func readKey(path, key string) (value int, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, found := strings.Cut(line, " "); found && k == key {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil, err
		}
	}
	return 0, false, nil
}

// readInt reads a file holding one number (memory.failcnt).
func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// makeCgroup makes the cgroup dir (if need be) and its parent
// scratchcontainer/, and
// runs parentReady on the parent in between (v2 enables controllers there).
// The last container to leave removes scratchcontainer/ (see
// removeCgroup); if that happens between our two mkdirs, we start again.
func makeCgroup(dir string, parentReady func(parent string) error) error {
	parent := filepath.Dir(dir)
	var err error
	for try := 0; try < 3; try++ {
		if err = os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", parent, unwrapPath(err))
		}
		if parentReady != nil {
			if err = parentReady(parent); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				return err
			}
		}
		if err = os.Mkdir(dir, 0o755); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("mkdir %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the path from a *PathError: our message names it already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
