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

// Capabilities is the set the container's command gets: Docker's default,
// or all with -privileged; then -cap-drop ALL empties it and -cap-add ALL
// fills it, then the named drops, then the named adds.
func Capabilities(cfg container.Config) (CapSet, error) {
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
