package mount

import (
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// JoinMount runs in `scratchcontainer exec`, on the thread that forks the
// command: it enters the container's mount namespace, whose root is the
// rootfs, so the command finds the container's files.
//
// The kernel refuses a mount namespace to a thread that shares its root and
// working directory (its fs_struct) with other threads, and every thread of
// a Go program does: unshare(CLONE_FS) first gives this thread a copy of
// its own. setns(2) then sets its root and working directory to the
// namespace's /. From here on this thread sees the container's files only.
func JoinMount(c *container.Container) error {
	c.Trace("unshare(CLONE_FS)")
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := container.JoinNamespace(c, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("join the mount namespace: %w", err)
	}
	return nil
}
