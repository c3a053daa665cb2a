//go:build !workshop && !workshop08

// Package privileges makes root in the container no longer root on the
// host. Until this chapter the command runs as the host's root with every
// capability: it can create a node for the host's disk and read it, mount
// anything, load kernel modules, set the clock. Namespaces change what a
// process sees, not what it may do; this chapter takes the power away, in
// layers, the way Docker and runc do:
//
//   - IPC and cgroup namespaces (CLONE_NEWIPC, CLONE_NEWCGROUP): the
//     container's own System V IPC objects, and its own cgroup as "/".
//   - Capabilities: root's power is split into about 40 capabilities
//     (capabilities(7)); the container keeps Docker's 14. The bounding set
//     (what execve(2) may ever grant again) is cut first, then the
//     permitted and effective sets (capset(2)); the inheritable and
//     ambient sets are emptied. (A config.json, chapter 11, gives all
//     five sets itself.)
//   - no_new_privs (prctl(2)): no execve may grant more, setuid or not.
//     (A config.json may ask for none: process.noNewPrivileges false.)
//   - A seccomp filter (seccomp(2)): a BPF program the kernel runs on
//     every system call, refusing with EPERM those Docker's default profile
//     refuses (mount, keyctl, finit_module, clone of a user namespace, ...).
//   - Devices: a cgroup allow-list, so a node made for the host's disk
//     cannot be opened (v1 devices.allow, or a BPF program on v2).
//
// Capabilities and no_new_privs belong to a thread, not a process, and a
// Go program has many threads: they are set on the thread that then calls
// execve, locked to its goroutine; the filter goes on every thread at once
// (SECCOMP_FILTER_FLAG_TSYNC). All of it runs last, after every other
// chapter has used the privileges it needed.
//
// Syscalls: unshare(2), setns(2), prctl(2) (PR_CAPBSET_DROP,
// PR_CAP_AMBIENT, PR_SET_NO_NEW_PRIVS), capset(2), seccomp(2), bpf(2).
// Man pages: capabilities(7), seccomp(2), ipc_namespaces(7),
// cgroup_namespaces(7); kernel docs: Documentation/userspace-api/
// seccomp_filter.rst, Documentation/admin-guide/cgroup-v1/devices.rst.
package privileges

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// cloneFlags asks clone(2) for a new IPC namespace: System V message
// queues, semaphores and shared memory of the container's own.
const cloneFlags = unix.CLONE_NEWIPC

// Confine runs inside the child, last, right before the command is exec'd.
func Confine(c *container.Container) error {
	// Everything below holds for this thread only: stay on it. Never
	// unlocked, so the skeleton execs the command from this very thread.
	runtime.LockOSThread()
	// The cgroup namespace is made now, not at clone: its "/" is the
	// cgroup the process is in when it is made, and the host moved us
	// into ours only after the clone.
	c.Trace("unshare(CLONE_NEWCGROUP)")
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWCGROUP): %w", err)
	}
	return restrict(c)
}

// restrict cuts this thread's capabilities to the container's sets, sets
// no_new_privs, and installs the seccomp filter, in that order: no_new_privs
// is what lets a thread that just gave up CAP_SYS_ADMIN install a filter,
// and the filter comes last, once the runtime needs nothing it refuses.
// A config.json may ask for no no_new_privs (process.noNewPrivileges
// false): then the kernel takes the filter only from a thread that holds
// CAP_SYS_ADMIN, so it goes on first, as runc does.
func restrict(c *container.Container) error {
	if c.Config.Privileged {
		return nil
	}
	sets, err := Capabilities(c.Config)
	if err != nil {
		return err
	}
	filter := Filter(sets.Bounding)
	if c.Config.NewPrivileges {
		c.Trace("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, the filter for capabilities %x), while CAP_SYS_ADMIN is held: no no_new_privs", uint64(sets.Bounding))
		if err := InstallFilter(filter); err != nil {
			return err
		}
		return dropCapabilities(c, sets)
	}
	if err := dropCapabilities(c, sets); err != nil {
		return err
	}
	c.Trace("prctl(PR_SET_NO_NEW_PRIVS, 1)")
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	c.Trace("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, the filter for capabilities %x)", uint64(sets.Bounding))
	return InstallFilter(filter)
}

func dropCapabilities(c *container.Container, sets Sets) error {
	c.Trace("prctl(PR_CAPBSET_DROP) each capability not in %x; capset(permitted = %x, effective = %x, inheritable = %x); ambient = %x",
		uint64(sets.Bounding), uint64(sets.Permitted), uint64(sets.Effective), uint64(sets.Inheritable), uint64(sets.Ambient))
	return DropCapabilities(sets)
}

// DropCapabilities leaves this thread only the capabilities of sets.
//
// Root's capabilities come back at every execve: the kernel gives a
// process of UID 0 its bounding set (and its inheritable set) as permitted
// and effective. So the bounding set is cut first, one prctl per
// capability; that needs CAP_SETPCAP, which capset then takes away if
// the sets lack it. Then capset(2) sets this thread's permitted, effective
// and inheritable sets. `run` empties the inheritable set, as Docker does
// since CVE-2022-24769 (an inheritable capability meets a file's
// inheritable capability at execve and becomes permitted, for any user);
// root gets its set back from the bounding set anyway. Last, the ambient
// set (kept across execve for non-root) is cleared, then raised one
// capability at a time to what sets.Ambient holds.
func DropCapabilities(sets Sets) error {
	for cap := 0; cap <= unix.CAP_LAST_CAP; cap++ {
		if sets.Bounding.Has(cap) {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cap), 0, 0, 0)
		if err != nil && err != unix.EINVAL { // EINVAL: the kernel is older than this capability
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", cap, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // capabilities 0-31, then 32-63
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	// A thread cannot give itself what it does not have (a host may have
	// taken some from the runtime already, CAP_SYS_RESOURCE in some
	// sandboxes).
	have := CapSet(data[0].Permitted) | CapSet(data[1].Permitted)<<32
	permitted, inheritable := sets.Permitted&have, sets.Inheritable&have&sets.Bounding
	effective, ambient := sets.Effective&permitted, sets.Ambient&permitted&inheritable
	for i := range data {
		half := func(s CapSet) uint32 { return uint32(s >> (32 * i)) }
		data[i] = unix.CapUserData{Effective: half(effective), Permitted: half(permitted), Inheritable: half(inheritable)}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset to permitted %s, effective %s, inheritable %s: %w", permitted, effective, inheritable, err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %w", err)
	}
	for cap := 0; cap <= unix.CAP_LAST_CAP; cap++ {
		if !ambient.Has(cap) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(cap), 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_CAP_AMBIENT_RAISE, CAP_%s): %w", capabilityNames()[cap], err)
		}
	}
	return nil
}
