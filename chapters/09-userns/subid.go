package userns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
)

// The range the container's IDs 0..65535 map to when /etc/subuid and
// /etc/subgid have no entry for Owner: 100000..165535, where useradd(8)
// starts the first user's subordinate range.
const (
	DefaultFirst = 100000
	DefaultCount = 65536
	Owner        = "scratchcontainer" // the entry of /etc/subuid and /etc/subgid we use
)

// A Range is one line of uid_map or gid_map (user_namespaces(7)): Count
// IDs from Inside, in the container, are Outside.. on the host.
type Range struct {
	Inside, Outside, Count int
}

// String is the range as the kernel's map files write it: "0 100000 65536".
func (r Range) String() string { return fmt.Sprintf("%d %d %d", r.Inside, r.Outside, r.Count) }

// Prepare runs on the host before clone: it picks the host IDs the
// container's root and its 65535 other IDs become, and sets them as
// "uid_map" and "gid_map". Chapters 03 and 04 read "uid_map" to know they
// run in a user namespace.
//
// An OCI bundle (chapter 11) may give the range itself, in config.json's
// linux.uidMappings and gidMappings (Config.UIDMap, GIDMap): podman picks
// one per container with --userns=auto. Then that line is the map.
func Prepare(c *container.Container) error {
	for _, m := range []struct{ file, key, given string }{
		{"/etc/subuid", "uid_map", c.Config.UIDMap},
		{"/etc/subgid", "gid_map", c.Config.GIDMap},
	} {
		line := m.given
		if line == "" {
			c.Trace("read %s: the %s entry, else %d:%d", m.file, Owner, DefaultFirst, DefaultCount)
			r, err := ReadRange(m.file, Owner)
			if err != nil {
				return err
			}
			line = r.String()
		}
		c.Set(m.key, line)
	}
	return reachable(c)
}

// reachable checks that the container's root, an ordinary user on the host
// (neither owner nor group of the host's directories), may search every
// directory above the rootfs: chapter 03 looks the rootfs up by its path
// from inside the user namespace, and a directory closed to others (a
// temporary directory, 0700) would stop it there.
func reachable(c *container.Container) error {
	c.Trace("stat each directory above %s: searchable by others (o+x)?", c.Config.Rootfs)
	for dir := filepath.Dir(c.Config.Rootfs); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("rootfs %s: %w", c.Config.Rootfs, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("rootfs %s: the container's root (host uid %s) cannot reach it: %s is %s, closed to others (chmod o+x %s, or run with -userns host)",
				c.Config.Rootfs, strings.Fields(c.Resources["uid_map"])[1], dir, fi.Mode(), dir)
		}
		if dir == "/" {
			return nil
		}
	}
}

// ReadRange reads the subordinate range of owner from file (subuid(5):
// "owner:first:count" lines): the container's 0..count-1 become
// first..first+count-1. No file, or no entry: the default range.
func ReadRange(file, owner string) (Range, error) {
	def := Range{0, DefaultFirst, DefaultCount}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	defer f.Close()
	r, found, err := parseRange(f, owner)
	if err != nil {
		return def, fmt.Errorf("%s: %w", file, err)
	}
	if !found {
		return def, nil
	}
	return r, nil
}

func parseRange(in io.Reader, owner string) (Range, bool, error) {
	s := bufio.NewScanner(in)
	for s.Scan() {
		fields := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(fields) != 3 || fields[0] != owner {
			continue
		}
		first, err1 := strconv.Atoi(fields[1])
		count, err2 := strconv.Atoi(fields[2])
		switch {
		case err1 != nil || err2 != nil || first < 1 || count < 1:
			return Range{}, false, fmt.Errorf("entry %q: write %s:FIRST:COUNT, e.g. %s:%d:%d", s.Text(), owner, owner, DefaultFirst, DefaultCount)
		case count > DefaultCount:
			count = DefaultCount // the container needs 0..65535, no more
		}
		return Range{0, first, count}, true, nil
	}
	return Range{}, false, s.Err()
}
