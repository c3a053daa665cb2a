package pid

import (
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// JoinPID runs in `scratchcontainer exec`, on the thread that forks the
// command. setns(2) into a PID namespace does not move the caller (its PID
// cannot change); it decides where the caller's next child is born: the
// command gets a PID of the container's, and its /proc/1 is the container's
// PID 1.
func JoinPID(c *container.Container) error {
	if err := container.JoinNamespace(c, unix.CLONE_NEWPID); err != nil {
		return fmt.Errorf("join the PID namespace: %w", err)
	}
	return nil
}
