package userns

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// Without root (container.Container.Rootless) the runtime is an ordinary
// user, and the kernel gives it less to work with (user_namespaces(7)):
//
//   - Its maps may name only its own uid and gid ("0 1000 1"), which it
//     may write itself, once it has written "deny" to the child's
//     /proc/<pid>/setgroups. A wider map, the subordinate range
//     /etc/subuid and /etc/subgid grant the user (subuid(5)), goes through
//     the set-user-ID helpers newuidmap(1) and newgidmap(1) (Debian's
//     package uidmap), which check the files, then write for it.
//   - It cannot idmap the rootfs (that takes CAP_SYS_ADMIN where the file
//     system was mounted, the host's user namespace): the container sees
//     the rootfs as it is. The user's own files are root's inside (their
//     uid is the container's 0); everyone else's are unmapped, nobody's.
//     A rootfs of the user's own (cp -r build/rootfs ~/rootfs) is one the
//     container's root owns.
//   - Its stdin, stdout and stderr are the user's own already: nothing to
//     hand over.

// The programs that write a subordinate range into a child's uid_map and
// gid_map.
const (
	newuidmap = "newuidmap"
	newgidmap = "newgidmap"
)

// prepareRootless records the maps of a container run without root: the
// user's own uid and gid as the container's 0, then, when /etc/subuid and
// /etc/subgid grant the user a range and newuidmap is installed, the
// container's 1..65535 from that range (podman's rootless layout).
// "idmap" records who writes them: "self" or "newuidmap".
func prepareRootless(c *container.Container) error {
	names := []string{strconv.Itoa(os.Geteuid())}
	if u, err := user.LookupId(names[0]); err == nil {
		names = append([]string{u.Username}, names...) // subuid(5) names a user by name or number
	}
	writer := "self"
	if _, err := exec.LookPath(newuidmap); err == nil {
		writer = newuidmap
	}
	for _, m := range []struct{ file, key string }{
		{"/etc/subuid", "uid_map"},
		{"/etc/subgid", "gid_map"},
	} {
		own := os.Geteuid()
		if m.key == "gid_map" {
			own = os.Getegid()
		}
		lines := []string{Range{0, own, 1}.String()}
		c.Trace("read %s: a range of %s's, else only %d", m.file, names[0], own)
		first, count, found, err := host.SubIDRange(m.file, names...)
		if err != nil {
			return err
		}
		if found && writer != "self" {
			lines = append(lines, Range{1, first, min(count, DefaultCount-1)}.String())
		}
		if err := c.Record(m.key, strings.Join(lines, "\n")); err != nil {
			return err
		}
	}
	if !strings.Contains(c.Resources["uid_map"], "\n") {
		writer = "self" // one line of its own: no helper needed
	}
	return c.Record("idmap", writer)
}

// writeMapsRootless writes the maps prepareRootless chose: by the runtime
// itself (setgroups denied first, then WriteMaps), or by newuidmap and
// newgidmap, which take the child's PID and the map's numbers.
func writeMapsRootless(c *container.Container) error {
	if c.Resources["idmap"] == "self" {
		path := fmt.Sprintf("/proc/%d/setgroups", c.Pid)
		c.Trace("write %s = deny", path)
		if err := os.WriteFile(path, []byte("deny"), 0); err != nil {
			return fmt.Errorf("write \"deny\" to %s: %w", path, container.UnwrapPath(err))
		}
		return WriteMaps(c)
	}
	for _, m := range []struct{ helper, file, ids string }{
		{newuidmap, "uid_map", "/etc/subuid"},
		{newgidmap, "gid_map", "/etc/subgid"},
	} {
		args := append([]string{strconv.Itoa(c.Pid)}, strings.Fields(c.Resources[m.file])...)
		c.Trace("%s %q", m.helper, args)
		if out, err := exec.Command(m.helper, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w: %s (does %s grant you that range?)", m.helper, strings.Join(args, " "), err, strings.TrimSpace(string(out)), m.ids)
		}
	}
	return nil
}
