package userns

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 09. cloneFlags and WriteMaps are the chapter's own
// code: userns.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "userns",
		Capability: "root in the container is uid 100000 on the host: user namespace, idmapped rootfs",
		Flags:      []string{"userns"},
		// -privileged is the "before" picture, root on the host: as
		// Docker, no user namespace with it.
		Off:        func(cfg container.Config) bool { return cfg.UserNS == "host" || cfg.Privileged },
		CloneFlags: cloneFlags,
		Namespaces: []string{"user"},
		Prepare:    prepare,
		Attach:     Attach,
		Inspect:    Inspect,
	}
}

// prepare runs on the host before clone: Prepare, or prepareRootless when
// the runtime runs without root (see rootless.go).
func prepare(c *container.Container) error {
	if c.Rootless {
		return prepareRootless(c)
	}
	return Prepare(c)
}

// Attach runs on the host while the child waits for its orders: the maps
// first (WriteMaps), then the rootfs seen through them (MountRootfs).
// Without root, only the maps (see rootless.go).
func Attach(c *container.Container) error {
	if c.Rootless {
		return writeMapsRootless(c)
	}
	if err := WriteMaps(c); err != nil {
		return err
	}
	if err := shareStdio(c); err != nil {
		return err
	}
	return MountRootfs(c)
}

// first is the first host ID of a map "0 100000 65536": of its first line,
// if it has several.
func first(lines string) (int, error) {
	line, _, _ := strings.Cut(lines, "\n")
	f := strings.Fields(line)
	if len(f) != 3 {
		return 0, fmt.Errorf("map %q: want \"inside outside count\"", line)
	}
	return strconv.Atoi(f[1])
}

// RootIDs are the host's uid and gid of the container's root: the first
// host IDs of its maps (100000 and 100000 by default).
func RootIDs(c *container.Container) (uid, gid int, err error) {
	if uid, err = first(c.Resources["uid_map"]); err != nil {
		return 0, 0, err
	}
	gid, err = first(c.Resources["gid_map"])
	return uid, gid, err
}

// shareStdio gives the container's root the pipes and sockets the runtime
// was given as stdin, stdout and stderr, when the host's root owns them: a
// program that opens /dev/stdout (/proc/self/fd/1) is checked against the
// pipe's owner and mode (0600), and uid 100000 is neither. A terminal or a
// file stays the host's: it may be the user's own.
func shareStdio(c *container.Container) error {
	uid, gid, err := RootIDs(c)
	if err != nil {
		return err
	}
	for fd := 0; fd <= 2; fd++ {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Uid != 0 {
			continue
		}
		if kind := st.Mode & unix.S_IFMT; kind != unix.S_IFIFO && kind != unix.S_IFSOCK {
			continue
		}
		c.Trace("fchown(%d, %d, %d): a pipe of the host's root", fd, uid, gid)
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return fmt.Errorf("give fd %d (a pipe) to the container's root %d: %w", fd, uid, err)
		}
	}
	return nil
}
