package veth

import (
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// JoinNet runs in `scratchcontainer exec`, on the thread that forks the
// command: it enters the container's network namespace, so the command has
// the container's eth0, address and routes.
func JoinNet(c *container.Container) error {
	if err := container.JoinNamespace(c, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("join the network namespace: %w", err)
	}
	return nil
}
