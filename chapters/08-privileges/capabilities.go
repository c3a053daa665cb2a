package privileges

import (
	"fmt"
	"math/bits"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// A CapSet is a set of capabilities, one bit each, numbered as in
// capabilities(7) and printed as /proc/<pid>/status prints CapEff.
type CapSet uint64

// capabilityNames are the capabilities' names without CAP_, indexed by
// number (linux/capability.h).
func capabilityNames() []string {
	return []string{
		"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
		"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
		"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
		"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
		"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
		"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
		"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
		"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
	}
}

// DefaultCapabilities is Docker's default set (00000000a80425fb): what a
// root process commonly needs for files it owns, users, signals, ports and
// ping, and nothing that reaches the kernel as a whole (no SYS_ADMIN,
// SYS_MODULE, SYS_TIME, NET_ADMIN, SYS_PTRACE, DAC_READ_SEARCH, ...).
const DefaultCapabilities = CapSet(1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE |
	1<<unix.CAP_FSETID | 1<<unix.CAP_FOWNER | 1<<unix.CAP_MKNOD | 1<<unix.CAP_NET_RAW |
	1<<unix.CAP_SETGID | 1<<unix.CAP_SETUID | 1<<unix.CAP_SETFCAP | 1<<unix.CAP_SETPCAP |
	1<<unix.CAP_NET_BIND_SERVICE | 1<<unix.CAP_SYS_CHROOT | 1<<unix.CAP_KILL |
	1<<unix.CAP_AUDIT_WRITE)

// AllCapabilities holds every capability this table knows.
const AllCapabilities = CapSet(1<<unix.CAP_LAST_CAP<<1 - 1)

// Has reports whether the set holds capability number cap.
func (s CapSet) Has(cap int) bool { return s&(1<<cap) != 0 }

// String is the set as /proc/<pid>/status prints it: 16 hex digits.
func (s CapSet) String() string { return fmt.Sprintf("%016x", uint64(s)) }

// Names lists the set's capabilities, CAP_ prefix included.
func (s CapSet) Names() []string {
	var names []string
	for cap, name := range capabilityNames() {
		if s.Has(cap) {
			names = append(names, "CAP_"+name)
		}
	}
	return names
}

// Count is how many capabilities the set holds.
func (s CapSet) Count() int { return bits.OnesCount64(uint64(s)) }

// Sets are the five capability sets of a thread (capabilities(7)):
// bounding, what execve(2) may ever grant; permitted, what the thread may
// make effective; effective, what the kernel checks; inheritable, what
// meets a file's inheritable capabilities at execve; ambient, what a
// program without file capabilities keeps across execve as a user other
// than root.
type Sets struct {
	Bounding, Effective, Permitted, Inheritable, Ambient CapSet
}

// Capabilities are the sets the container's command gets. For `run`, the
// flags' set (RunCapabilities) is bounding, permitted and effective, and
// the inheritable and ambient sets are empty, as Docker has them since
// CVE-2022-24769. A config.json (chapter 11) gives each of the five
// itself, as runc takes them.
func Capabilities(cfg container.Config) (Sets, error) {
	oci := cfg.Capabilities
	if oci == nil || cfg.Privileged {
		keep, err := RunCapabilities(cfg)
		return Sets{Bounding: keep, Effective: keep, Permitted: keep}, err
	}
	var sets Sets
	for _, set := range []struct {
		field string
		names []string
		into  *CapSet
	}{
		{"bounding", oci.Bounding, &sets.Bounding}, {"effective", oci.Effective, &sets.Effective},
		{"permitted", oci.Permitted, &sets.Permitted}, {"inheritable", oci.Inheritable, &sets.Inheritable},
		{"ambient", oci.Ambient, &sets.Ambient},
	} {
		for _, name := range set.names {
			cap, err := parseCapability("process.capabilities."+set.field, name)
			if err != nil {
				return Sets{}, err
			}
			if cap < 0 {
				return Sets{}, container.Errorf(container.StatusRuntimeFailed,
					"process.capabilities.%s: ALL: name each capability", set.field)
			}
			*set.into |= 1 << cap
		}
	}
	// What capset(2) and prctl(2) would refuse, said before anything is made.
	switch {
	case sets.Effective&^sets.Permitted != 0:
		return Sets{}, container.Errorf(container.StatusRuntimeFailed,
			"process.capabilities.effective: %v not permitted: a thread can make effective only what it is permitted (add them to permitted)",
			(sets.Effective &^ sets.Permitted).Names())
	case sets.Inheritable&^sets.Bounding != 0:
		return Sets{}, container.Errorf(container.StatusRuntimeFailed,
			"process.capabilities.inheritable: %v not in the bounding set (add them to bounding)",
			(sets.Inheritable &^ sets.Bounding).Names())
	case sets.Ambient&^(sets.Permitted&sets.Inheritable) != 0:
		return Sets{}, container.Errorf(container.StatusRuntimeFailed,
			"process.capabilities.ambient: %v not both permitted and inheritable: the kernel raises an ambient capability only then",
			(sets.Ambient &^ (sets.Permitted & sets.Inheritable)).Names())
	}
	return sets, nil
}

// RunCapabilities is the set `run` gives the command: Docker's default,
// or all with -privileged; then -cap-drop ALL empties it and -cap-add ALL
// fills it, then the named drops, then the named adds.
func RunCapabilities(cfg container.Config) (CapSet, error) {
	if cfg.Privileged {
		return AllCapabilities, nil
	}
	set := DefaultCapabilities
	for _, name := range cfg.CapDrop {
		if strings.EqualFold(name, "ALL") {
			set = 0
		}
	}
	for _, name := range cfg.CapAdd {
		if strings.EqualFold(name, "ALL") {
			set = AllCapabilities
		}
	}
	for _, name := range cfg.CapDrop {
		cap, err := parseCapability("-cap-drop", name)
		if err != nil {
			return 0, err
		}
		if cap >= 0 {
			set &^= 1 << cap
		}
	}
	for _, name := range cfg.CapAdd {
		cap, err := parseCapability("-cap-add", name)
		if err != nil {
			return 0, err
		}
		if cap >= 0 {
			set |= 1 << cap
		}
	}
	return set, nil
}

// parseCapability reads NET_ADMIN, net_admin or CAP_NET_ADMIN; ALL is -1.
func parseCapability(flag, name string) (int, error) {
	upper := strings.TrimPrefix(strings.ToUpper(name), "CAP_")
	if upper == "ALL" {
		return -1, nil
	}
	for cap, known := range capabilityNames() {
		if upper == known {
			return cap, nil
		}
	}
	return 0, container.Errorf(container.StatusRuntimeFailed,
		"%s %s: no such capability; use ALL or one of %s", flag, name, strings.Join(capabilityNames(), " "))
}
