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
	// Dirs are the cgroup scratchcontainer/<id>: one directory per
	// controller on v1, a single one on v2.
	Dirs(id string) []string
	// Create makes container c's directories and writes the limits into them.
	Create(c *container.Container, l Limits) error
	// OOMKills is how many processes the kernel killed in the cgroup
	// because it hit its memory limit.
	OOMKills(id string) (int, error)
	// Files are the files that hold the limits and the usage, for inspect.
	Files(id string) []string
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

// makeCgroup makes the cgroup dir (if need be) and its parent
// scratchcontainer/, and
// runs parentReady on the parent in between (v2 enables controllers there).
// The last container to leave removes scratchcontainer/ (see
// removeCgroup); if that happens between our two mkdirs, we start again.
func makeCgroup(dir string, parentReady func(parent string) error) error {
	parent := filepath.Dir(dir)
	var err error
	for try := 0; try < 3; try++ {
		if err = os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", parent, container.UnwrapPath(err))
		}
		if parentReady != nil {
			if err = parentReady(parent); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				return err
			}
		}
		if err = os.Mkdir(dir, 0o755); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("mkdir %s: %w", dir, container.UnwrapPath(err))
	}
	return nil
}
