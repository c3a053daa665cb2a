package userns

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	privileges "scratchcontainer/chapters/08-privileges"
	"scratchcontainer/runtime/container"
)

// JoinUser runs in `scratchcontainer exec`, after chapter 08's Join, on the
// thread that forks the command. It cannot enter the container's user
// namespace: the kernel refuses setns(2) into one to a process with more
// than one thread, and a Go program always has several (runc enters it in
// C, before the Go runtime starts). So the command runs in the host's user
// namespace, but as the host uid and gid the container's root is (100000):
// what it creates is 100000's, as the container's own files are. Its
// capabilities are chapter 08's set, kept across the change of uid
// (PR_SET_KEEPCAPS) and across execve (ambient).
func JoinUser(c *container.Container) error {
	uid, err := first(c.Resources["uid_map"])
	if err != nil {
		return err
	}
	gid, err := first(c.Resources["gid_map"])
	if err != nil {
		return err
	}
	keep, err := privileges.Capabilities(c.Config)
	if err != nil {
		return err
	}
	c.Trace("prctl(PR_SET_KEEPCAPS, 1); setresgid(%d), setgroups([]), setresuid(%d) on this thread; capset %x; raise each as ambient", gid, uid, uint64(keep))
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	// Raw calls: for this thread only, the one that forks the command.
	for _, call := range []struct {
		name string
		nr   uintptr
		args [3]uintptr
	}{
		{"setresgid", unix.SYS_SETRESGID, [3]uintptr{uintptr(gid), uintptr(gid), uintptr(gid)}},
		{"setgroups", unix.SYS_SETGROUPS, [3]uintptr{0, 0, 0}},
		{"setresuid", unix.SYS_SETRESUID, [3]uintptr{uintptr(uid), uintptr(uid), uintptr(uid)}},
	} {
		if _, _, errno := unix.RawSyscall(call.nr, call.args[0], call.args[1], call.args[2]); errno != 0 {
			return fmt.Errorf("%s to the container's root (%d:%d): %w", call.name, uid, gid, errno)
		}
	}
	// The uid change emptied the effective set: set it again, with the
	// inheritable set, which ambient capabilities need.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	have := privileges.CapSet(data[0].Permitted) | privileges.CapSet(data[1].Permitted)<<32
	keep &= have
	for i := range data {
		half := uint32(keep >> (32 * i))
		data[i] = unix.CapUserData{Effective: half, Permitted: half, Inheritable: half}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset to %s: %w", keep, err)
	}
	for cap := 0; cap <= unix.CAP_LAST_CAP; cap++ {
		if keep.Has(cap) {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(cap), 0, 0); err != nil {
				return fmt.Errorf("prctl(PR_CAP_AMBIENT_RAISE, %d): %w", cap, err)
			}
		}
	}
	return nil
}

// first is the first host ID of a map line "0 100000 65536".
func first(line string) (int, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return 0, fmt.Errorf("map %q: want \"inside outside count\"", line)
	}
	return strconv.Atoi(f[1])
}
