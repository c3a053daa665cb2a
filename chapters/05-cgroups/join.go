package cgroups

import (
	"os"

	"scratchcontainer/runtime/container"
)

// JoinExec runs in `scratchcontainer exec`, on the thread that forks the
// command: it moves this process into the container's cgroup, as Join moved
// the container's first process, so the command is born inside the limits.
//
// That thread may already be in the container's mount namespace (chapter
// 03 joins it first), where /sys/fs/cgroup is not the host's. But setns(2)
// moved that one thread only, and cgroup membership belongs to the whole
// process (cgroup.procs takes a process ID): so the write is made from a
// goroutine, which Go never runs on a locked thread, and whose thread still
// sees the host's files.
func JoinExec(c *container.Container) error {
	self := *c
	self.Pid = os.Getpid()
	done := make(chan error, 1)
	go func() { done <- Join(&self) }()
	return <-done
}
