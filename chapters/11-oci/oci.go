//go:build !workshop && !workshop11

// Package oci lets podman, containerd and Docker drive the runtime: the OCI
// runtime command line (create, start, state, kill, delete) over a bundle,
// a directory holding config.json and a root filesystem.
//
// Nothing here makes a namespace, a cgroup or a mount the earlier chapters
// do not already make: config.json is read into the same container.Config
// the run flags fill, and each field goes to the chapter that owns it
// (process.args to the skeleton, hostname to 01, root.path to 03,
// linux.resources to 05, capabilities to 08). `create` is Run stopped just
// before execve, with the child parked on a FIFO until `start` (see
// container.Config.Created); `delete` calls the same Release hooks a run's
// end calls. What config.json asks and no chapter does is refused, with one
// line naming the field, never dropped in silence.
//
// Beyond the flags, config.json brings hooks (programs run at named
// moments, hooks.go), a read-only root, and a terminal sent to the caller
// over --console-socket (terminal.go).
//
// Spec: https://github.com/opencontainers/runtime-spec (config.md,
// config-linux.md, runtime.md). Syscalls: mkfifo(3), open(2) of a FIFO,
// prlimit(2), setns(2), setuid(2), setgroups(2), mount(2) (a bind
// remounted read-only), sendmsg(2) with SCM_RIGHTS, setsid(2),
// ioctl(2) TIOCSCTTY.
package oci

import (
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"scratchcontainer/runtime/container"
)

// toConfig maps the fields of config.json that the run flags also have onto
// cfg, as the flags would set them: process (args, env, cwd), hostname,
// root.path (relative to the bundle dir), and linux.resources (CPU quota
// per period as a decimal number of CPUs, memory in bytes, pids).
func toConfig(spec *specs.Spec, dir string, cfg *container.Config) error {
	p := spec.Process
	if len(p.Args) == 0 {
		return fmt.Errorf("config.json: process.args is empty: give the command to run")
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("config.json: process.cwd %q: must be absolute, e.g. \"/\"", p.Cwd)
	}
	cfg.Args, cfg.Env, cfg.Dir = p.Args, p.Env, p.Cwd
	cfg.Hostname = spec.Hostname

	cfg.Rootfs = spec.Root.Path
	if !filepath.IsAbs(cfg.Rootfs) {
		cfg.Rootfs = filepath.Join(dir, cfg.Rootfs)
	}

	if spec.Linux == nil || spec.Linux.Resources == nil {
		return nil
	}
	r := spec.Linux.Resources
	if r.CPU != nil && r.CPU.Quota != nil && *r.CPU.Quota > 0 {
		period := uint64(100000) // the kernel's default cfs_period_us
		if r.CPU.Period != nil && *r.CPU.Period > 0 {
			period = *r.CPU.Period
		}
		cfg.CPUs = strconv.FormatFloat(float64(*r.CPU.Quota)/float64(period), 'f', -1, 64)
	}
	if r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
		cfg.Memory = strconv.FormatInt(*r.Memory.Limit, 10)
	}
	if r.Pids != nil && r.Pids.Limit > 0 {
		cfg.Pids = strconv.FormatInt(r.Pids.Limit, 10)
	}
	return nil
}
