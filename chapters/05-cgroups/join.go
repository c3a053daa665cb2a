package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
)

// JoinExec runs in `scratchcontainer exec`, on the thread that forks the
// command: it moves this process into the container's cgroup, so the
// command is born inside the limits.
//
// CloneInto's quick way is closed here: that thread may already be in the
// container's mount namespace (chapter 03 joins it first), where
// /sys/fs/cgroup is not the host's. So the whole process is moved, by its
// PID in cgroup.procs, and pays the kernel's global lock (see CloneInto):
// an exec is not a container's start. The write is made from a goroutine,
// which Go never runs on a locked thread, and whose thread still sees the
// host's files.
func JoinExec(c *container.Container) error {
	pid := os.Getpid()
	done := make(chan error, 1)
	go func() { done <- moveProcess(c, pid) }()
	return <-done
}

// moveProcess writes pid into cgroup.procs of each of the container's
// cgroup directories: the process, all its threads, moves there.
func moveProcess(c *container.Container, pid int) error {
	for _, dir := range strings.Fields(c.Resources["cgroup"]) {
		procs := filepath.Join(dir, "cgroup.procs")
		c.Trace("write %s = %d", procs, pid)
		if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move PID %d into the cgroup: write %s: %w", pid, procs, container.UnwrapPath(err))
		}
	}
	return nil
}
