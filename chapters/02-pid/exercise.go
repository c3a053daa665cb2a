//go:build workshop || workshop02

// Exercise for chapter 02: read README.md, write the TODO, and run
// `make chapter N=02` until it passes. (pid.go is the reference answer.)

package pid

import (
	"scratchcontainer/runtime/container"
)

// Chapter is chapter 02.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "pid",
		Capability: "own process IDs: the command is PID 1",
		// TODO: ask clone(2) for a new PID namespace, so that the child,
		// and the command it execs, is PID 1 there.
		CloneFlags: 0,
		Join:       JoinPID,
	}
}
