package uts

import (
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// JoinUTS runs in `scratchcontainer exec`, on the thread that forks the
// command: it enters the container's UTS namespace, so the command sees the
// container's hostname.
func JoinUTS(c *container.Container) error {
	if err := container.JoinNamespace(c, unix.CLONE_NEWUTS); err != nil {
		return fmt.Errorf("join the UTS namespace: %w", err)
	}
	return nil
}
