package oci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	proc "scratchcontainer/chapters/04-proc"
	"scratchcontainer/runtime/container"
)

// ReadBundle reads dir/config.json into cfg: first it refuses what no
// chapter does, then toConfig maps what the run flags also have, then the
// fields only config.json has (mounts, capabilities, user, rlimits, sysctl)
// go where the chapters and this chapter's Furnish read them.
func ReadBundle(dir string, cfg *container.Config) error {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("bundle %s: %w (a bundle holds config.json and the root filesystem)", dir, container.UnwrapPath(err))
	}
	var spec specs.Spec
	// Unknown fields are ignored, as the spec says (config.md,
	// "Extensibility"): a newer client may send what we do not know.
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !strings.HasPrefix(spec.Version, "1.") {
		return fmt.Errorf("%s: ociVersion %q: this runtime reads version 1.x of the runtime spec", path, spec.Version)
	}
	if spec.Process == nil || spec.Root == nil {
		return fmt.Errorf("%s: process and root are required", path)
	}
	if err := refuse(&spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := toConfig(&spec, dir, cfg); err != nil {
		return err
	}
	// The rootfs by its real path: mounts into it are checked against it.
	if real, err := filepath.EvalSymlinks(cfg.Rootfs); err == nil {
		cfg.Rootfs = real
	}
	cfg.Annotations = spec.Annotations
	cfg.ReadonlyRoot = spec.Root.Readonly // made so last (see Mount)
	cfg.Hooks = hooksByMoment(spec.Hooks)
	cfg.Terminal = spec.Process.Terminal // Console makes it
	p := spec.Process
	if caps := p.Capabilities; caps != nil {
		// Chapter 08 sets all five as given (the run flags give one set).
		cfg.Capabilities = &container.CapabilitySets{Bounding: caps.Bounding, Effective: caps.Effective,
			Permitted: caps.Permitted, Inheritable: caps.Inheritable, Ambient: caps.Ambient}
	}
	// Chapter 08 sets no_new_privs unless config.json says false, as runc.
	cfg.NewPrivileges = !p.NoNewPrivileges
	if p.User.UID != 0 || p.User.GID != 0 || len(p.User.AdditionalGids) > 0 || p.User.Umask != nil {
		cfg.User = &container.User{UID: p.User.UID, GID: p.User.GID, AdditionalGids: p.User.AdditionalGids, Umask: p.User.Umask}
	}
	for _, r := range p.Rlimits {
		if _, ok := rlimits[r.Type]; !ok {
			return fmt.Errorf("%s: process.rlimits: unknown %s (see getrlimit(2))", path, r.Type)
		}
		cfg.Rlimits = append(cfg.Rlimits, container.Rlimit{Type: r.Type, Hard: r.Hard, Soft: r.Soft})
	}
	cfg.OOMScoreAdj = p.OOMScoreAdj
	// A new network namespace, as the spec means it, has lo only: runc
	// makes no veth either; podman and CNI wire it from outside.
	cfg.Net = "none"
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			cfg.NetNS = ns.Path // empty: the new one
		}
	}
	// A user namespace is chapter 09's, with the one range config.json
	// gives (refuse checked it); none is the host's, as -userns host.
	cfg.UserNS = "host"
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			cfg.UserNS = ""
			cfg.UIDMap, cfg.GIDMap = mapLine(spec.Linux.UIDMappings[0]), mapLine(spec.Linux.GIDMappings[0])
		}
	}
	cfg.Sysctl = spec.Linux.Sysctl
	cfg.CgroupsPath = spec.Linux.CgroupsPath // chapter 05 makes the cgroup there
	cfg.MaskedPaths, cfg.ReadonlyPaths = spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths
	for _, m := range spec.Mounts {
		if slices.Contains(kernelMounts, m.Destination) {
			continue // chapter 04 mounts these itself (see kernelMounts)
		}
		cfg.Mounts = append(cfg.Mounts, container.Mount{Source: m.Source, Destination: m.Destination, Type: m.Type, Options: m.Options})
	}
	return nil
}

// kernelMounts are the mounts every config.json lists and chapter 04 makes
// with its own options: its proc, /dev tmpfs, devpts, shm, mqueue and
// read-only sysfs stand for them. /sys/fs/cgroup is not mounted.
var kernelMounts = []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}

// namespaces are the namespaces the chapters make. The OCI spec's
// "share the host's" is a namespace left out of linux.namespaces; "join
// an existing one" is a path.
var namespaces = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "02-pid", specs.MountNamespace: "03-mount", specs.UTSNamespace: "01-uts",
	specs.IPCNamespace: "08-privileges", specs.NetworkNamespace: "06-veth", specs.CgroupNamespace: "08-privileges",
}

// refuse names the first field of spec that asks for what no chapter does.
func refuse(spec *specs.Spec) error {
	p := spec.Process
	switch {
	case p.ApparmorProfile != "":
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not supported", p.ApparmorProfile)
	case p.SelinuxLabel != "":
		return fmt.Errorf("process.selinuxLabel: SELinux is not supported")
	case p.User.Username != "":
		return fmt.Errorf("process.user.username %q: give uid and gid as numbers", p.User.Username)
	case spec.Hooks != nil && len(spec.Hooks.CreateContainer) > 0:
		// The spec runs them in the container's namespaces before
		// pivot_root: our child pivots first thing (chapter 03's Enter),
		// and nothing of the host's runs in there before it.
		return fmt.Errorf("hooks.createContainer: not supported (they run in the container before pivot_root, where this runtime runs nothing of the host's): use createRuntime, on the host, or startContainer, in the container")
	case spec.Domainname != "":
		return fmt.Errorf("domainname %q: not supported", spec.Domainname)
	}
	if err := checkHooks(spec.Hooks); err != nil {
		return err
	}
	for _, m := range spec.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts: destination %q must be absolute", m.Destination)
		}
		if slices.Contains(kernelMounts, m.Destination) {
			continue
		}
		for _, under := range []string{"/proc/", "/dev/", "/sys/"} {
			if strings.HasPrefix(m.Destination, under) {
				return fmt.Errorf("mounts: %s: chapter 04 mounts its own %s over it", m.Destination, strings.TrimSuffix(under, "/"))
			}
		}
		for _, o := range m.Options {
			if o == tmpCopyUp && m.Type != "tmpfs" {
				return fmt.Errorf("mounts: %s: option %s is for a tmpfs, not %q", m.Destination, o, m.Type)
			}
			if _, ok := mountOptions[o]; !ok && propagation[o] == 0 && o != tmpCopyUp && !strings.Contains(o, "=") {
				return fmt.Errorf("mounts: %s: option %q is not supported", m.Destination, o)
			}
		}
	}
	l := spec.Linux
	if l == nil {
		return fmt.Errorf("linux: missing: give at least linux.namespaces")
	}
	have := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range l.Namespaces {
		chapter, ok := namespaces[ns.Type]
		switch {
		case ns.Type == specs.UserNamespace && ns.Path != "":
			return fmt.Errorf("linux.namespaces: user path %s: joining an existing one is not supported (chapter 09 makes a new one)", ns.Path)
		case ns.Type == specs.UserNamespace:
		case !ok:
			return fmt.Errorf("linux.namespaces: %s: not supported", ns.Type)
		case ns.Path != "" && ns.Type != specs.NetworkNamespace:
			return fmt.Errorf("linux.namespaces: %s path %s: joining an existing one is supported for the network namespace only (chapter %s makes a new one)", ns.Type, ns.Path, chapter)
		}
		have[ns.Type] = true
	}
	for ns, chapter := range namespaces {
		if !have[ns] && ns != specs.CgroupNamespace { // a cgroup namespace of its own is only stricter
			return fmt.Errorf("linux.namespaces: %s is missing: sharing the host's is not supported (chapter %s makes one)", ns, chapter)
		}
	}
	for _, ns := range l.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path != "" && have[specs.UserNamespace] {
			// The child is cloned into its user namespace, and there it
			// holds no capability over a namespace the host's owns.
			return fmt.Errorf("linux.namespaces: network path %s with a user namespace: not supported (the container's root may not join the host's namespaces): drop one of them", ns.Path)
		}
	}
	if err := idMaps(spec, have[specs.UserNamespace]); err != nil {
		return err
	}
	switch {
	case l.IntelRdt != nil:
		return fmt.Errorf("linux.intelRdt: not supported")
	case l.RootfsPropagation != "" && l.RootfsPropagation != "private" && l.RootfsPropagation != "rprivate":
		return fmt.Errorf("linux.rootfsPropagation %q: chapter 03 makes every mount private", l.RootfsPropagation)
	case l.MountLabel != "":
		return fmt.Errorf("linux.mountLabel: SELinux is not supported")
	case l.Personality != nil:
		return fmt.Errorf("linux.personality: not supported")
	}
	for _, d := range l.Devices {
		if !slices.Contains(proc.DeviceNames(), strings.TrimPrefix(d.Path, "/dev/")) {
			return fmt.Errorf("linux.devices: %s: chapter 04 makes only /dev/%s", d.Path, strings.Join(proc.DeviceNames(), ", /dev/"))
		}
	}
	for key := range l.Sysctl {
		if !namespacedSysctl(key) {
			return fmt.Errorf("linux.sysctl: %s is the host's, not the container's: only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* are namespaced", key)
		}
	}
	if r := l.Resources; r != nil {
		switch {
		case r.CPU != nil && (r.CPU.Shares != nil && *r.CPU.Shares != 0 || r.CPU.Cpus != "" || r.CPU.Mems != "" ||
			r.CPU.RealtimeRuntime != nil || r.CPU.RealtimePeriod != nil || r.CPU.Idle != nil):
			return fmt.Errorf("linux.resources.cpu: only quota and period are supported (chapter 05's -cpus)")
		case r.Memory != nil && (r.Memory.Reservation != nil || r.Memory.Kernel != nil || r.Memory.KernelTCP != nil || r.Memory.Swappiness != nil):
			return fmt.Errorf("linux.resources.memory: only limit is supported (chapter 05's -memory; no swap on top)")
		case r.BlockIO != nil || len(r.HugepageLimits) > 0 || r.Network != nil || len(r.Rdma) > 0 || len(r.Unified) > 0:
			return fmt.Errorf("linux.resources: only cpu, memory, pids and devices are supported")
		}
	}
	return nil
}

// hookLists are config.json's hooks by moment (createContainer is refused).
func hookLists(hooks *specs.Hooks) map[string][]specs.Hook {
	return map[string][]specs.Hook{prestart: hooks.Prestart, createRuntime: hooks.CreateRuntime,
		startContainer: hooks.StartContainer, poststart: hooks.Poststart, poststop: hooks.Poststop}
}

// hooksByMoment lists config.json's hooks by the moment they run at.
func hooksByMoment(hooks *specs.Hooks) map[string][]container.Hook {
	if hooks == nil {
		return nil
	}
	byMoment := map[string][]container.Hook{}
	for moment, list := range hookLists(hooks) {
		for _, h := range list {
			hook := container.Hook{Path: h.Path, Args: h.Args, Env: h.Env}
			if h.Timeout != nil {
				hook.Timeout = *h.Timeout
			}
			byMoment[moment] = append(byMoment[moment], hook)
		}
	}
	return byMoment
}

// checkHooks refuses a hook whose path is not absolute or whose timeout is
// not a positive number of seconds, as the spec has them.
func checkHooks(hooks *specs.Hooks) error {
	if hooks == nil {
		return nil
	}
	for moment, list := range hookLists(hooks) {
		for i, h := range list {
			switch {
			case !filepath.IsAbs(h.Path):
				return fmt.Errorf("hooks.%s[%d].path %q: must be absolute", moment, i, h.Path)
			case h.Timeout != nil && *h.Timeout <= 0:
				return fmt.Errorf("hooks.%s[%d].timeout %d: give a number of seconds above 0, or none", moment, i, *h.Timeout)
			}
		}
	}
	return nil
}

// namespacedSysctl reports whether key lives in the container's network or
// IPC namespace (sysctl names as in sysctl(8)).
func namespacedSysctl(key string) bool {
	switch key {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return true
	}
	return strings.HasPrefix(key, "net.") || strings.HasPrefix(key, "fs.mqueue.")
}

// idMaps checks linux.uidMappings and gidMappings against what chapter 09
// does: one contiguous range that starts at the container's 0, each, and
// only with a user namespace. userns says linux.namespaces has one.
func idMaps(spec *specs.Spec, userns bool) error {
	l := spec.Linux
	for _, m := range []struct {
		field string
		maps  []specs.LinuxIDMapping
		id    uint32 // process.user's, which must be mapped
	}{{"linux.uidMappings", l.UIDMappings, spec.Process.User.UID}, {"linux.gidMappings", l.GIDMappings, spec.Process.User.GID}} {
		switch {
		case !userns && len(m.maps) > 0:
			return fmt.Errorf("%s: given without a user namespace: add {\"type\": \"user\"} to linux.namespaces, or drop the mappings", m.field)
		case !userns:
		case len(m.maps) != 1:
			return fmt.Errorf("%s: %d ranges: chapter 09 maps one contiguous range, e.g. [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]", m.field, len(m.maps))
		case m.maps[0].ContainerID != 0 || m.maps[0].Size == 0:
			return fmt.Errorf("%s: %s: chapter 09's range starts at the container's 0 and is not empty, e.g. \"0 100000 65536\"", m.field, mapLine(m.maps[0]))
		case m.maps[0].HostID == 0:
			return fmt.Errorf("%s: %s: the container's root would be the host's: give a hostID of the subordinate range (/etc/subuid), e.g. 100000", m.field, mapLine(m.maps[0]))
		case m.id >= m.maps[0].Size:
			return fmt.Errorf("%s: %s does not map process.user's %d: widen the range or pick an ID below %d", m.field, mapLine(m.maps[0]), m.id, m.maps[0].Size)
		}
	}
	return nil
}

// mapLine is m as a line of uid_map(5): "inside outside count".
func mapLine(m specs.LinuxIDMapping) string {
	return fmt.Sprintf("%d %d %d", m.ContainerID, m.HostID, m.Size)
}
