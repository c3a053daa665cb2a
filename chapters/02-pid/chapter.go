package pid

import "scratchcontainer/runtime/container"

// Chapter is chapter 02. cloneFlags is the chapter's own code: pid.go has
// it, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "pid",
		Capability: "own process IDs: the command is PID 1",
		CloneFlags: cloneFlags,
		Namespaces: []string{"pid"},
		Join:       JoinPID,
		Inspect:    Inspect,
	}
}
