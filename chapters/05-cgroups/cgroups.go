//go:build !workshop && !workshop05

// Package cgroups limits what the container may use: CPU time, memory and
// the number of processes. Namespaces decide what a process can see; control
// groups decide how much it can take.
//
// A control group (cgroup) is a directory in a special file system under
// /sys/fs/cgroup. Making a directory makes a group; a process in it, and
// every child it forks later, stays in it; writing numbers into its other
// files sets the limits the kernel enforces on the whole group:
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
// and v2.go, behind the Driver interface (driver.go); Detect picks one by
// asking statfs(2) what is mounted. The flags are read in limits.go.
//
// The order matters: the cgroup is made and its limits written before the
// child exists (Prepare); the child is born inside it (Clone), so not one
// instruction of it runs outside its limits; after exit the runtime reports
// an out-of-memory kill (Exited) and removes the cgroup (Release).
//
// Syscalls: statfs(2), mkdir(2), write(2), clone3(2), kill(2), rmdir(2).
// Man pages: cgroups(7), clone(2) (CLONE_INTO_CGROUP). Kernel docs: Documentation/admin-guide/cgroup-v1/
// (cgroups.rst, memory.rst, pids.rst), Documentation/scheduler/sched-bwc.rst,
// Documentation/admin-guide/cgroup-v2.rst.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// Create runs on the host before the child exists: it reads the limits
// from the flags, makes the cgroup at Path(c), scratchcontainer/<id>
// unless config.json names another, and writes the limits into it. It
// records the directories first, and the ancestors that are the
// container's to remove, so that gc finds them even if the runtime dies
// halfway.
func Create(c *container.Container) error {
	l, err := ParseLimits(c.Config)
	if err != nil {
		return err
	}
	c.Trace("statfs(%q): cgroup v1 or v2?", Root)
	d, err := Detect()
	if err != nil {
		return err
	}
	path := Path(c)
	dirs := d.Dirs(path)
	if err := notThereYet(dirs); err != nil {
		return err
	}
	if err := record(c, dirs, ancestors(dirs, path)); err != nil {
		return err
	}
	return d.Create(c, path, l)
}

// CloneInto runs on the host just before the clone, on the thread that
// clones the child: the child is born inside the cgroup, and nothing has to
// be moved in later.
//
// Moving a running process in, by writing its PID into cgroup.procs, is
// slow: the kernel takes a lock over every process of the system for it
// (cgroup_threadgroup_rwsem), and taking it waits for an RCU grace period,
// every CPU passing through the scheduler once: 10-25 ms on a busy machine,
// more than all the rest of a container's start. So the child is born in
// place, in one of two ways:
//
//	v2  clone3(2) takes CLONE_INTO_CGROUP and an fd of the cgroup directory.
//	v1  A child starts in the cgroups of the thread that cloned it, and a
//	    thread that moves only itself (writes "0" into tasks) takes no such
//	    lock: the cloning thread steps in, clones, and steps back out.
//
// It returns what undoes that on the same thread once the child exists:
// close the fd (v2), or step back out (v1).
func CloneInto(c *container.Container, attr *syscall.SysProcAttr) (after func() error, err error) {
	dirs := strings.Fields(c.Resources["cgroup"])
	if len(dirs) == 0 {
		return nil, nil // no cgroup: a run without root and none delegated (rootless.go)
	}
	if host.DetectCgroupMode() == host.CgroupV2 {
		c.Trace("open(%q, O_PATH|O_DIRECTORY|O_CLOEXEC): clone3 gets this fd with CLONE_INTO_CGROUP", dirs[0])
		fd, err := unix.Open(dirs[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open the cgroup %s for clone3: %w", dirs[0], err)
		}
		attr.UseCgroupFD, attr.CgroupFD = true, fd
		return func() error { return unix.Close(fd) }, nil
	}
	home, err := threadCgroups(dirs)
	if err != nil {
		return nil, err
	}
	stepOut := func() error { return moveThread(c, home, "steps back out") }
	return stepOut, moveThread(c, dirs, "steps in")
}

// moveThread writes "0" into the tasks file of each v1 cgroup directory:
// the calling thread, and no other thread of the runtime, moves there.
func moveThread(c *container.Container, dirs []string, why string) error {
	for _, dir := range dirs {
		tasks := filepath.Join(dir, "tasks")
		c.Trace("write %s = 0: the cloning thread %s", tasks, why)
		if err := os.WriteFile(tasks, []byte("0"), 0o644); err != nil {
			return fmt.Errorf("move the cloning thread: write 0 to %s: %w", tasks, container.UnwrapPath(err))
		}
	}
	return nil
}

// ExplainOOM runs on the host after the command exited. When the kernel's
// out-of-memory killer killed the command itself, all the user sees
// otherwise is a SIGKILL from nowhere: say what happened, and exit 137 as
// docker does. Only then: a command that survived the killer taking one of
// its children exits with its own status, and a SIGKILL sent by someone else
// in a cgroup that never ran out of memory is just a SIGKILL.
func ExplainOOM(c *container.Container, status int) int {
	c.Trace("exit status %d: if 137 (SIGKILL), read oom_kill from memory.events (v2) or memory.oom_control (v1) in %s", status, c.Resources["cgroup"])
	if status != StatusOOM {
		return status
	}
	d, err := driverOf(c) // Detect's, or the user's delegated subtree's (rootless.go)
	if err != nil {
		return status
	}
	if n, err := d.OOMKills(Path(c)); err != nil || n == 0 {
		return status
	}
	limit := c.Config.Memory
	if l, err := ParseLimits(c.Config); err == nil {
		limit = FormatSize(l.Memory)
	}
	fmt.Fprintf(os.Stderr, "scratchcontainer: out of memory: the container hit its memory limit of %s (-memory)\n", limit)
	return StatusOOM
}

// Remove runs on the host after exit, and from gc with only the saved
// state: it kills whatever is still in the cgroup, then removes its
// directories, then the ancestors Create recorded as the container's own
// (see ancestors), deepest first: never one it did not make. A cgroup that
// still holds a task cannot be removed (EBUSY), and the kernel needs a
// moment after the last task died to let go of it, so rmdir is retried
// briefly. Directories already gone are fine: Remove may run twice.
func Remove(c *container.Container) error {
	var errs []error
	for _, dir := range strings.Fields(c.Resources["cgroup"]) {
		c.Trace("kill what is left in %s/cgroup.procs, rmdir %s", dir, dir)
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, err)
		}
	}
	for _, dir := range strings.Fields(c.Resources["cgroup-ancestors"]) {
		c.Trace("rmdir %s", dir)
		unix.Rmdir(dir) // EBUSY while another container's cgroup is in it: fine
	}
	return errors.Join(errs...)
}

// removeCgroup kills the tasks of one cgroup directory and removes it.
func removeCgroup(dir string) error {
	var err error
	for try := 0; try < 100; try++ {
		killAll(dir)
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
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
// none: when PID 1 of a PID namespace dies, the kernel kills the rest. Never
// the runtime itself: had its cloning thread not stepped back out (see
// CloneInto), the runtime would die before saying so.
func killAll(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}
