package cgroups

import (
	"strings"

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
	if err := checkPath(c); err != nil {
		return err
	}
	if !c.Rootless {
		return Create(c)
	}
	delegated, why := host.DelegatedCgroup()
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
	d, path := V2{Root: delegated}, Path(c)
	dirs := d.Dirs(path)
	if err := record(c, dirs, ancestors(dirs, path)); err != nil {
		return err
	}
	return d.Create(c, path, l)
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

// driverOf is the driver of container c's cgroup: Detect's, or, for a run
// without root, the v2 driver rooted at the subtree delegated to the user,
// which the recorded directory names (<delegated>/<path>).
func driverOf(c *container.Container) (Driver, error) {
	dirs := strings.Fields(c.Resources["cgroup"])
	if !c.Rootless || len(dirs) != 1 {
		return Detect()
	}
	return V2{Root: strings.TrimSuffix(dirs[0], "/"+Path(c))}, nil
}
