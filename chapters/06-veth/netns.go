package veth

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// EnterNetNS runs in the child before ConfigureInside. When the caller gave
// a network namespace by path (config.json's linux.namespaces, chapter 11:
// podman's netavark or a CNI plugin made it and wired its ports), the child
// moves into it, leaving the empty one clone(2) gave it; no veth is made.
//
// setns(2) moves only the calling thread: the goroutine stays locked to it,
// so the other chapters' Enter and the execve at the end run there too.
func EnterNetNS(c *container.Container) error {
	path := c.Config.NetNS
	if path == "" {
		return nil
	}
	runtime.LockOSThread() // never unlocked: this thread becomes the command
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, container.UnwrapPath(err))
	}
	defer f.Close()
	c.Trace("setns(open(%q), %v)", path, container.CloneFlags(unix.CLONE_NEWNET))
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns into network namespace %s: %w", path, err)
	}
	return nil
}
