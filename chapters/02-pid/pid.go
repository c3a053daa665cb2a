//go:build !workshop && !workshop02

// Package pid gives the container its own process IDs: the command is PID 1.
//
// A child cloned with CLONE_NEWPID is the first process of a new PID
// namespace, so it is PID 1 there (the host still sees it under its host
// PID). The command replaces the child by execve(2), so the command is PID 1,
// as with `docker run`. Being PID 1 is special in two ways:
//
//   - Signals: the kernel drops a signal sent to PID 1 of a namespace unless
//     PID 1 installed a handler for it. Only SIGKILL and SIGSTOP sent from an
//     ancestor namespace (the host) are forced. So Ctrl-C does nothing to a
//     `sleep` running as PID 1; a shell that traps SIGTERM does react.
//   - Orphans: a process whose parent dies is reparented to PID 1 of its
//     namespace, which must reap it with wait(2) or it stays a zombie. When
//     PID 1 exits, the kernel kills every other process of the namespace.
//
// The container's /proc still shows the host's processes until chapter 04
// mounts a proc of its own.
//
// Syscalls: clone(2) with CLONE_NEWPID. Man pages: pid_namespaces(7).
package pid

import (
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 02.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "pid",
		Capability: "own process IDs: the command is PID 1",
		CloneFlags: unix.CLONE_NEWPID,
		Join:       JoinPID,
	}
}
