package privileges

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Prepare runs on the host before the child exists: it checks -cap-add
// and -cap-drop, and writes the device rules into the cgroup chapter 05
// made. -privileged skips them, and says loudly what that means.
func Prepare(c *container.Container) error {
	if _, err := Capabilities(c.Config); err != nil {
		return err
	}
	if c.Config.Privileged {
		fmt.Fprintln(os.Stderr, "scratchcontainer: -privileged: every capability, no seccomp filter, no device rules: root in this container is root on the host")
		return nil
	}
	if c.Rootless {
		// Without root there is no device rule to write (chapter 05 made
		// no cgroup on v1; attaching a BPF program takes CAP_BPF on v2),
		// and none is needed: in a user namespace mknod(2) is refused,
		// and the container opens only the nodes chapter 04 binds in,
		// with the permissions the user has on the host.
		return nil
	}
	return LimitDevices(c)
}

// JoinConfined runs in `scratchcontainer exec`, on the thread that forks
// the command, after every other chapter's Join: it enters the IPC and
// cgroup namespaces, then gives up what Confine gave up.
func JoinConfined(c *container.Container) error {
	for _, ns := range []struct {
		flag int
		name string
	}{{unix.CLONE_NEWIPC, "IPC"}, {unix.CLONE_NEWCGROUP, "cgroup"}} {
		if err := container.JoinNamespace(c, ns.flag); err != nil {
			return fmt.Errorf("join the %s namespace: %w", ns.name, err)
		}
	}
	return restrict(c)
}
