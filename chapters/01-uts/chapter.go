package uts

import "scratchcontainer/runtime/container"

// Chapter is chapter 01. cloneFlags and SetHostname are the chapter's own
// code: uts.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "uts",
		Capability: "own hostname",
		CloneFlags: cloneFlags,
		Namespaces: []string{"uts"},
		Enter:      SetHostname,
		Join:       JoinUTS,
		Inspect:    Inspect,
	}
}
