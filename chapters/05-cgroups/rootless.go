package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// Without root (container.Container.Rootless) the runtime may write only
// the cgroups the host gave the user: a subtree of cgroup v2 delegated to
// them (systemd does so for user@<uid>.service: it chowns the directory
// and its cgroup.procs, cgroup.subtree_control and cgroup.threads to the
// user; see the kernel's Documentation/admin-guide/cgroup-v2.rst,
// "Delegation"). cgroup v1 has no safe delegation: its hierarchies are
// root's. There the limit flags are refused, and a run without them has
// no limits, which the runtime says once, on stderr.

// prepare runs on the host before the clone: Create, or for a run
// without root, the same in the subtree delegated to the user.
func prepare(c *container.Container) error {
	if !c.Rootless {
		return Create(c)
	}
	delegated, why := Delegated()
	if delegated == "" {
		if flag := limitFlag(c.Config); flag != "" {
			return container.Errorf(container.StatusRuntimeFailed, "%s: without root, the limits need a cgroup v2 subtree delegated to you, and %s: drop %s, or run as root (sudo)", flag, why, strings.Fields(flag)[0])
		}
		c.Note("no limits on CPU, memory or processes: without root, the limits need a cgroup v2 subtree delegated to you, and " + why)
		return nil
	}
	l, err := ParseLimits(c.Config)
	if err != nil {
		return err
	}
	d := V2{Root: delegated}
	if err := c.Record("cgroup", strings.Join(d.Dirs(c.ID), " ")); err != nil {
		return err
	}
	return d.Create(c, l)
}

// limitFlag is the first limit flag given, with its value ("-memory 64m"),
// or "" if none was.
func limitFlag(cfg container.Config) string {
	for _, f := range []struct{ name, value string }{{"-cpus", cfg.CPUs}, {"-memory", cfg.Memory}, {"-pids", cfg.Pids}} {
		if f.value != "" {
			return f.name + " " + f.value
		}
	}
	return ""
}

// Delegated is the top of the cgroup v2 subtree delegated to the caller:
// the highest cgroup above the caller's own (/proc/self/cgroup, "0::/...")
// whose directory and cgroup.procs the caller owns, and that holds no
// process itself (the caller's own cgroup does: no controller may be
// handed down from it). Empty, with the reason, if there is none.
func Delegated() (dir, why string) {
	if mode := host.DetectCgroupMode(); mode != host.CgroupV2 {
		return "", fmt.Sprintf("this host's cgroups are %s (cgroup v1 delegates nothing)", mode)
	}
	own, err := ownCgroup()
	if err != nil {
		return "", err.Error()
	}
	uid := uint32(os.Geteuid())
	for d := filepath.Join(Root, own); strings.HasPrefix(d, Root+"/"); d = filepath.Dir(d) {
		if !ownedBy(d, uid) || !ownedBy(filepath.Join(d, "cgroup.procs"), uid) {
			break
		}
		dir = d
	}
	switch {
	case dir == "":
		return "", fmt.Sprintf("your cgroup %s is not yours (systemd-run --user --scope gives you one that is)", own)
	case dir == filepath.Join(Root, own):
		return "", fmt.Sprintf("your cgroup %s holds your own processes, which leaves it no controller to hand down (systemd-run --user --scope)", own)
	}
	return dir, ""
}

// ownCgroup is the caller's cgroup v2 path, from /proc/self/cgroup.
func ownCgroup() (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read your cgroup: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if path, ok := strings.CutPrefix(s.Text(), "0::"); ok {
			return path, nil
		}
	}
	return "", fmt.Errorf("/proc/self/cgroup has no cgroup v2 line (0::)")
}

// ownedBy reports whether uid owns path and may write it.
func ownedBy(path string, uid uint32) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Uid == uid && unix.Access(path, unix.W_OK) == nil
}
