//go:build workshop || workshop01

// Exercise for chapter 01: read README.md, write the TODOs, and run
// `make chapter N=01` until it passes. (uts.go is the reference answer;
// chapter.go plugs your code into the runtime.)

package uts

import (
	"scratchcontainer/runtime/container"
)

// cloneFlags are the namespaces clone(2) gives the child.
// TODO: ask for a new UTS namespace (unix.CLONE_NEWUTS).
const cloneFlags = 0

// SetHostname runs inside the child, in its new UTS namespace, before the
// command: the host's hostname must stay untouched.
func SetHostname(c *container.Container) error {
	// TODO: set the hostname to c.Hostname() with sethostname(2)
	// (unix.Sethostname). Wrap an error with what you were doing.
	return nil
}
