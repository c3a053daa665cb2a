//go:build workshop || workshop01

// Exercise for chapter 01: read README.md, write the TODOs, and run
// `make chapter N=01` until it passes. (uts.go is the reference answer.)

package uts

import (
	"scratchcontainer/runtime/container"
)

// Chapter is chapter 01.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "uts",
		Capability: "own hostname",
		CloneFlags: 0, // TODO: ask clone(2) for a new UTS namespace (unix.CLONE_NEWUTS)
		Enter:      SetHostname,
		Join:       JoinUTS,
	}
}

// SetHostname runs inside the child, in its new UTS namespace, before the
// command: the host's hostname must stay untouched.
func SetHostname(c *container.Container) error {
	// TODO: set the hostname to c.Hostname() with sethostname(2)
	// (unix.Sethostname). Wrap an error with what you were doing.
	return nil
}
