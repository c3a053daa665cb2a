package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
)

// V1 drives cgroup v1: each controller is a hierarchy of its own, mounted
// at Root/<controller>, so the container's cgroup is one directory per
// controller: cpu/<path>, memory/<path>, pids/<path>, where path is
// scratchcontainer/<id> (see Path). A thread joins each one by one.
type V1 struct{ Root string }

// Dirs are Root/{cpu,memory,pids}/<path>.
func (v V1) Dirs(path string) []string {
	return []string{v.dir("cpu", path), v.dir("memory", path), v.dir("pids", path)}
}

func (v V1) dir(controller, path string) string {
	return filepath.Join(v.Root, controller, path)
}

// Create makes the three directories (and their missing ancestors) and
// writes:
//
//	cpu.cfs_period_us            100000   the CFS period, µs
//	cpu.cfs_quota_us              40000   CPU time per period, all CPUs together
//	memory.limit_in_bytes    2147483648   RAM
//	memory.memsw.limit_in_bytes  (same)   RAM + swap: equal, so no swap at all
//	pids.max                       1024   tasks, threads included
//
// memory.memsw.* exists only when the kernel accounts swap (CONFIG_MEMCG_SWAP,
// swapaccount=1); without it there is no swap limit to set. It must be
// written after memory.limit_in_bytes, as the kernel keeps memsw >= limit.
func (v V1) Create(c *container.Container, path string, l Limits) error {
	for _, controller := range []string{"cpu", "memory", "pids"} {
		c.Trace("mkdir %s", v.dir(controller, path))
		if err := makeCgroup(filepath.Join(v.Root, controller), path, nil); err != nil {
			return fmt.Errorf("%w (is that controller's hierarchy mounted?)", err)
		}
	}
	cpu, memory, pids := v.dir("cpu", path), v.dir("memory", path), v.dir("pids", path)
	writes := []struct{ dir, file, value string }{
		{cpu, "cpu.cfs_period_us", strconv.FormatInt(l.CPUPeriod, 10)},
		{cpu, "cpu.cfs_quota_us", strconv.FormatInt(l.CPUQuota, 10)},
		{memory, "memory.limit_in_bytes", strconv.FormatInt(l.Memory, 10)},
		{memory, "memory.memsw.limit_in_bytes", strconv.FormatInt(l.Memory, 10)},
		{pids, "pids.max", strconv.FormatInt(l.Pids, 10)},
	}
	for _, w := range writes {
		if w.file == "memory.memsw.limit_in_bytes" && !exists(w.dir, w.file) {
			continue
		}
		c.Trace("write %s/%s = %s", w.dir, w.file, w.value)
		if err := writeFile(w.dir, w.file, w.value); err != nil {
			return err
		}
	}
	return nil
}

// Files are the limits, and the usage: cpuacct.usage (ns of CPU time,
// where cpuacct is mounted with cpu), memory.usage_in_bytes, pids.current.
func (v V1) Files(path string) []string {
	cpu, memory, pids := v.dir("cpu", path), v.dir("memory", path), v.dir("pids", path)
	files := []string{
		filepath.Join(cpu, "cpu.cfs_quota_us"), filepath.Join(cpu, "cpu.cfs_period_us"),
		filepath.Join(memory, "memory.limit_in_bytes"), filepath.Join(memory, "memory.usage_in_bytes"),
		filepath.Join(pids, "pids.max"), filepath.Join(pids, "pids.current"),
	}
	if exists(cpu, "cpuacct.usage") {
		files = append(files, filepath.Join(cpu, "cpuacct.usage"))
	}
	return files
}

// OOMKills reads "oom_kill N" from memory.oom_control (kernel 4.13 and
// later). Not memory.failcnt: that counts every time usage touched the
// limit, which reclaiming page cache does all day without killing anyone.
// A kernel without the line reports no kill, rather than a false one.
func (v V1) OOMKills(path string) (int, error) {
	n, _, err := readKey(filepath.Join(v.dir("memory", path), "memory.oom_control"), "oom_kill")
	return n, err
}

// threadCgroups returns, for each v1 cgroup directory in dirs
// (Root/<controller>/<path>), the directory of the same
// hierarchy that the calling thread is in now: where CloneInto's thread
// steps back to.
func threadCgroups(dirs []string) ([]string, error) {
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read the cloning thread's cgroups: %w", err)
	}
	return sameHierarchy(string(b), dirs)
}

// sameHierarchy reads /proc/<pid>/cgroup's lines, "ID:controllers:/path"
// ("4:memory:/user.slice", "1:cpu,cpuacct:/"), and finds for each directory
// in dirs the path its hierarchy (Root/<controller>) gives there.
func sameHierarchy(procCgroup string, dirs []string) ([]string, error) {
	var same []string
	for _, dir := range dirs {
		below, _ := filepath.Rel(Root, dir)
		controller, _, _ := strings.Cut(below, "/") // cpu of Root/cpu/<path>
		hierarchy := filepath.Join(Root, controller)
		found := false
		for _, line := range strings.Split(procCgroup, "\n") {
			f := strings.SplitN(line, ":", 3)
			if len(f) == 3 && slices.Contains(strings.Split(f[1], ","), controller) {
				same, found = append(same, filepath.Join(hierarchy, f[2])), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("/proc/thread-self/cgroup has no %s hierarchy, which %s belongs to", controller, dir)
		}
	}
	return same, nil
}
