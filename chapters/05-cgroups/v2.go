package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"

	"scratchcontainer/runtime/container"
)

// V2 drives cgroup v2: one unified hierarchy at Root, so the container's
// cgroup is a single directory, Root/<path> (Root/scratchcontainer/<id>,
// see Path), and every controller's files sit in it.
//
// A controller works in a cgroup only if its parent enabled it for its
// children, by writing "+memory" into cgroup.subtree_control. The rule of no
// internal processes goes with it: a cgroup (other than the root) that hands
// controllers to its children may hold no process itself. So
// scratchcontainer/, like every ancestor of a container's cgroup, only ever
// holds directories, never a process.
type V2 struct{ Root string }

// v2Controllers are the controllers we enable down to the container.
const v2Controllers = "+cpu +memory +pids"

// Dirs is Root/<path>.
func (v V2) Dirs(path string) []string { return []string{v.dir(path)} }

func (v V2) dir(path string) string { return filepath.Join(v.Root, path) }

// Create makes the directory and its missing ancestors, enabling the
// controllers in the root's and in each ancestor's cgroup.subtree_control
// before it makes the next one, and writes:
//
//	cpu.max          "40000 100000"   quota and period, µs ("max" = no limit)
//	memory.max       2147483648       RAM
//	memory.swap.max  0                no swap on top (only with swap accounting)
//	pids.max         1024             tasks, threads included
func (v V2) Create(c *container.Container, path string, l Limits) error {
	enable := func(parent string) error {
		c.Trace("write %s/cgroup.subtree_control = %s", parent, v2Controllers)
		return writeFile(parent, "cgroup.subtree_control", v2Controllers)
	}
	dir := v.dir(path)
	c.Trace("mkdir %s and its missing ancestors, from the root down", dir)
	if err := makeCgroup(v.Root, path, enable); err != nil {
		return err
	}
	writes := []struct{ file, value string }{
		{"cpu.max", fmt.Sprintf("%d %d", l.CPUQuota, l.CPUPeriod)},
		{"memory.max", strconv.FormatInt(l.Memory, 10)},
		{"memory.swap.max", "0"},
		{"pids.max", strconv.FormatInt(l.Pids, 10)},
	}
	for _, w := range writes {
		if w.file == "memory.swap.max" && !exists(dir, w.file) {
			continue
		}
		c.Trace("write %s/%s = %s", dir, w.file, w.value)
		if err := writeFile(dir, w.file, w.value); err != nil {
			return err
		}
	}
	return nil
}

// Files are the limits, and the usage: cpu.stat (usage_usec first),
// memory.current, pids.current.
func (v V2) Files(path string) []string {
	var files []string
	for _, f := range []string{"cpu.max", "cpu.stat", "memory.max", "memory.current", "pids.max", "pids.current"} {
		files = append(files, filepath.Join(v.dir(path), f))
	}
	return files
}

// OOMKills reads "oom_kill N" from memory.events.
func (v V2) OOMKills(path string) (int, error) {
	n, _, err := readKey(filepath.Join(v.dir(path), "memory.events"), "oom_kill")
	return n, err
}
