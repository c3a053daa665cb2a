package cgroups

import (
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 05. Create, CloneInto, ExplainOOM and Remove are the
// chapter's own code: cgroups.go has them, or exercise.go in the workshop.
// Without root, prepare makes the cgroup only where one is delegated to
// the user (rootless.go).
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "cgroups",
		Capability: "limits: CPU, memory and processes, with cgroup v1 or v2",
		Flags:      []string{"cpus", "memory", "pids"},
		Prepare:    prepare,
		Clone:      CloneInto,
		Exited:     ExplainOOM,
		Release:    Remove,
		Join:       JoinExec,
		Inspect:    Inspect,
	}
}

// StatusOOM is the exit status of a container killed for memory: 128+SIGKILL.
const StatusOOM = container.StatusSignalBase + int(unix.SIGKILL)
