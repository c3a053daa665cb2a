package privileges

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// BecomeUser runs in the child just before Confine, on the thread that will
// exec the command: it becomes config.json's process.user (chapter 11
// reads it; `run` has none and skips this): umask, then the groups and the
// gid (a user other than root may not change them), then the uid.
//
// A setuid(2) from root to another user clears the thread's permitted,
// effective and ambient sets (capabilities(7), "Effect of user ID changes
// on capabilities"): the command could not keep the ambient set config.json
// gives it, and Confine could not cut the bounding set (that takes
// CAP_SETPCAP). So, as runc does, prctl(PR_SET_KEEPCAPS, 1) keeps the
// permitted set across the setuid, PR_SET_KEEPCAPS goes back to 0 (the
// command's own setuid then drops its capabilities as usual), and capset(2)
// makes the permitted set effective again. Confine then cuts the sets to
// the container's, for this user, as it does for root.
func BecomeUser(c *container.Container) error {
	u := c.Config.User
	if u == nil {
		return nil
	}
	// Capabilities and PR_SET_KEEPCAPS belong to this thread: stay on it
	// (Confine locks it too, and never unlocks).
	runtime.LockOSThread()
	if u.Umask != nil {
		c.Trace("umask(%d)", *u.Umask)
		unix.Umask(int(*u.Umask))
	}
	gids := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		gids[i] = int(g)
	}
	c.Trace("prctl(PR_SET_KEEPCAPS, 1), setgroups(%v), setgid(%d), setuid(%d), prctl(PR_SET_KEEPCAPS, 0)", gids, u.GID, u.UID)
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("process.user.uid %d: prctl(PR_SET_KEEPCAPS, 1): %w", u.UID, err)
	}
	if err := unix.Setgroups(gids); err != nil {
		return fmt.Errorf("process.user.additionalGids %v: setgroups: %w", u.AdditionalGids, err)
	}
	if err := unix.Setgid(int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid %d: setgid: %w", u.GID, err)
	}
	if err := unix.Setuid(int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid %d: setuid: %w", u.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("process.user.uid %d: prctl(PR_SET_KEEPCAPS, 0): %w", u.UID, err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // capabilities 0-31, then 32-63
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("process.user.uid %d: capget: %w", u.UID, err)
	}
	for i := range data {
		data[i].Effective = data[i].Permitted
	}
	c.Trace("capset(effective = permitted)")
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("process.user.uid %d: capset(effective = permitted): %w", u.UID, err)
	}
	return nil
}
