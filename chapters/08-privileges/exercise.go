//go:build workshop || workshop08

// Exercise for chapter 08: read README.md, write the TODOs, and run
// `make chapter N=08` until it passes. (privileges.go is the reference
// answer; chapter.go plugs your code into the runtime.) Given: the capability names and Docker's set (capabilities.go:
// Capabilities, CapSet), the seccomp filter (seccomp.go: Filter,
// InstallFilter), the device rules (devices.go) and the hooks that are
// plumbing (hooks.go: Prepare, JoinConfined).

package privileges

import (
	"scratchcontainer/runtime/container"
)

// cloneFlags are the namespaces clone(2) gives the child.
// TODO 1: a new IPC namespace (unix.CLONE_NEWIPC).
const cloneFlags = 0

// Confine runs inside the child, last, right before the command is exec'd.
func Confine(c *container.Container) error {
	// TODO 2: lock this goroutine to its thread (runtime.LockOSThread) and
	// never unlock it: what follows holds for this thread only, and the
	// skeleton must exec the command from it.
	// TODO 3: a cgroup namespace of its own, now that the host has moved
	// the child into its cgroup: unix.Unshare(unix.CLONE_NEWCGROUP).
	return restrict(c)
}

// restrict gives up, on this thread, what the container may not have.
func restrict(c *container.Container) error {
	if c.Config.Privileged {
		return nil
	}
	// TODO 4: sets, err := Capabilities(c.Config); DropCapabilities(sets);
	// then no_new_privs: unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	// then the filter: InstallFilter(Filter(sets.Bounding)). In this order:
	// why? But when c.Config.NewPrivileges (a config.json's
	// noNewPrivileges: false), no no_new_privs: install the filter first,
	// while the thread still holds CAP_SYS_ADMIN, then drop.
	return nil
}

// DropCapabilities leaves this thread only the capabilities of sets.
func DropCapabilities(sets Sets) error {
	// TODO 5:
	//  a. the bounding set first: for every capability 0..unix.CAP_LAST_CAP
	//     not in sets.Bounding, unix.Prctl(unix.PR_CAPBSET_DROP, cap, 0, 0, 0)
	//     (EINVAL: the kernel is older than that capability: skip it);
	//  b. unix.Capget the current sets (header version
	//     unix.LINUX_CAPABILITY_VERSION_3, two unix.CapUserData: caps
	//     0-31, then 32-63), keep only what is permitted now, and
	//     unix.Capset permitted, effective and inheritable from sets;
	//  c. clear the ambient set: unix.Prctl(unix.PR_CAP_AMBIENT,
	//     unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), then raise each of
	//     sets.Ambient (unix.PR_CAP_AMBIENT_RAISE).
	return nil
}
