package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// A Driver speaks one version of the cgroup file system: the files it
// makes and reads. Being born inside differs too (see CloneInto); leaving,
// kill(2) and rmdir(2), does not.
type Driver interface {
	// Dirs are the cgroup path (see Path) below the root: one directory
	// per controller on v1, a single one on v2.
	Dirs(path string) []string
	// Create makes container c's directories at path, with their missing
	// ancestors, and writes the limits into them.
	Create(c *container.Container, path string, l Limits) error
	// OOMKills is how many processes the kernel killed in the cgroup
	// because it hit its memory limit.
	OOMKills(path string) (int, error)
	// Files are the files that hold the limits and the usage, for inspect.
	Files(path string) []string
}

// Path is container c's cgroup below the cgroup root: scratchcontainer/<id>,
// or, for a container `create` made (chapter 11), config.json's
// linux.cgroupsPath, "/a/b" and "a/b" alike below the root, as runc's
// cgroupfs driver takes it. Cleaned below "/", no ".." climbs out of it.
func Path(c *container.Container) string {
	if c.Config.CgroupsPath == "" {
		return "scratchcontainer/" + c.ID
	}
	return strings.TrimPrefix(filepath.Join("/", c.Config.CgroupsPath), "/")
}

// checkPath refuses a linux.cgroupsPath no cgroupfs path stands for: the
// systemd driver's "slice:prefix:name", and the root cgroup itself.
func checkPath(c *container.Container) error {
	given := c.Config.CgroupsPath
	switch {
	case given == "":
		return nil
	case strings.Contains(given, ":"):
		return fmt.Errorf("linux.cgroupsPath %q: the systemd cgroup driver is not supported: use cgroup_manager = \"cgroupfs\" (podman --cgroup-manager cgroupfs)", given)
	case Path(c) == "":
		return fmt.Errorf("linux.cgroupsPath %q is the root cgroup: name a cgroup below it (/a/b)", given)
	}
	return nil
}

// Root is where the cgroup file systems are mounted.
const Root = "/sys/fs/cgroup"

// Detect returns the driver for this host. host.DetectCgroupMode tells the
// layouts apart by the file system statfs(2) finds:
//
//	/sys/fs/cgroup is cgroup2                  → v2 (unified)
//	/sys/fs/cgroup is a tmpfs of v1 hierarchies → v1; if /sys/fs/cgroup/unified
//	                                              is a cgroup2 too, the host is
//	                                              "hybrid": the v1 controllers
//	                                              own cpu, memory and pids.
func Detect() (Driver, error) {
	switch mode := host.DetectCgroupMode(); mode {
	case host.CgroupV2:
		return V2{Root: Root}, nil
	case host.CgroupV1, host.CgroupHybrid:
		return V1{Root: Root}, nil
	}
	return nil, fmt.Errorf("no cgroup file system at %s: mount one (mount -t cgroup2 none %s)", Root, Root)
}

// writeFile writes one value into a cgroup file, with an error in the
// kernel's words that names the file.
func writeFile(dir, file, value string) error {
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, container.UnwrapPath(err))
	}
	return nil
}

// exists reports whether the kernel offers a file: memory.memsw.* only
// exists with swap accounting, memory.swap.max likewise.
func exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

// readKey reads "key value" lines (memory.oom_control, memory.events) and
// returns the value of key; ok is false if the file has no such line.
func readKey(path, key string) (value int, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, found := strings.Cut(line, " "); found && k == key {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil, err
		}
	}
	return 0, false, nil
}

// ancestors are the directories between the cgroup root and each of dirs
// (path below it) that are the container's to remove after it (see
// Remove): those that do not exist yet, which Create is about to make, and
// never one the host or the caller made; and scratchcontainer/, the
// runtime's own, which the last container to leave removes. Deepest first,
// the order Remove takes them in.
func ancestors(dirs []string, path string) []string {
	var own []string
	for _, dir := range dirs {
		root := strings.TrimSuffix(dir, "/"+path)
		for a := filepath.Dir(dir); a != root; a = filepath.Dir(a) {
			if _, err := os.Stat(a); err != nil || a == filepath.Join(root, "scratchcontainer") {
				own = append(own, a)
			}
		}
	}
	return own
}

// record adds, in c's state, dirs to its cgroup directories and ancestors
// to the ancestors that are its to remove, before they are made: Remove,
// exec and CloneInto read them there, and gc does too if the runtime dies
// halfway. Chapter 08 adds the devices hierarchy's (MakeIn).
func record(c *container.Container, dirs, ancestors []string) error {
	if c.Resources == nil {
		c.Resources = map[string]string{}
	}
	add := func(key string, more []string) string {
		return strings.TrimSpace(c.Resources[key] + " " + strings.Join(more, " "))
	}
	c.Resources["cgroup-ancestors"] = add("cgroup-ancestors", ancestors)
	return c.Record("cgroup", add("cgroup", dirs))
}

// makeCgroup makes the cgroup path below root (a hierarchy's mount point,
// or a subtree delegated to the user), each missing ancestor first, from
// the root down, and runs ready (if not nil) on the root and on each
// ancestor before it makes the next directory: v2 enables the controllers
// there. Another container's Remove may remove an ancestor between two of
// our mkdirs: then we start again.
func makeCgroup(root, path string, ready func(dir string) error) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = mkdirs(root, path, ready); !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	return err
}

// mkdirs is one try of makeCgroup.
func mkdirs(root, path string, ready func(dir string) error) error {
	dir := root
	for _, part := range strings.Split(path, "/") {
		if ready != nil {
			if err := ready(dir); err != nil {
				return err
			}
		}
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", dir, container.UnwrapPath(err))
		}
	}
	return nil
}

// notThereYet refuses a cgroup that exists already (the kernel shows its
// cgroup.procs): it is someone else's, and Remove kills what is in a
// container's cgroup and removes it. A config.json may name any path
// (cgroupsPath); a run's scratchcontainer/<id> is new by its ID.
func notThereYet(dirs []string) error {
	for _, dir := range dirs {
		if exists(dir, "cgroup.procs") {
			return container.Errorf(container.StatusRuntimeFailed, "cgroup %s exists already: a container's cgroup must be made for it, as Remove kills what is in it; name another (linux.cgroupsPath)", dir)
		}
	}
	return nil
}

// MakeIn makes container c's cgroup in one more v1 hierarchy, root
// (chapter 08's devices), and records it beside the others: the child is
// born in it too (CloneInto), exec joins it, Remove removes it.
func MakeIn(c *container.Container, root string) (dir string, err error) {
	path := Path(c)
	dir = filepath.Join(root, path)
	if err := notThereYet([]string{dir}); err != nil {
		return "", err
	}
	if err := record(c, []string{dir}, ancestors([]string{dir}, path)); err != nil {
		return "", err
	}
	return dir, makeCgroup(root, path, nil)
}
