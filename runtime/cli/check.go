package cli

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// check prints whether this host can run every chapter, one line per
// requirement, and fails if any is missing.
func check(out io.Writer) error {
	missing := 0
	report := func(ok bool, what, detail string) {
		mark := "ok  "
		if !ok {
			mark = "MISS"
			missing++
		}
		fmt.Fprintf(out, "%s %-12s %s\n", mark, what, detail)
	}

	report(os.Geteuid() == 0, "root", "namespaces, cgroups and iptables need root (sudo)")

	var uts unix.Utsname
	unix.Uname(&uts)
	report(true, "kernel", unix.ByteSliceToString(uts.Release[:]))

	ns := host.MissingNamespaces()
	report(len(ns) == 0, "namespaces", "uts pid mnt net ipc cgroup"+missingList(ns))

	mode := host.DetectCgroupMode()
	controllers, err := cgroupControllers(mode)
	report(err == nil, "cgroups", fmt.Sprintf("%s; %s", mode, orError(strings.Join(controllers, " "), err)))

	ipt, err := iptables.New()
	if err == nil {
		v1, v2, v3 := ipt.GetIptablesVersion()
		report(true, "iptables", fmt.Sprintf("v%d.%d.%d, %s backend", v1, v2, v3, iptablesBackend()))
	} else {
		report(false, "iptables", fmt.Sprintf("%v: apt-get install iptables", err))
	}

	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	report(true, "ip_forward", strings.TrimSpace(string(forward))+" (chapter 06 turns it on)")

	report(staticBinary("/bin/busybox"), "busybox", "/bin/busybox, static, for the rootfs of tests and demo (apt-get install busybox-static)")

	if missing > 0 {
		return container.Errorf(1, "check: %d requirement(s) missing, see MISS above", missing)
	}
	fmt.Fprintln(out, "ready")
	return nil
}

// cgroupControllers lists the controllers the cgroups chapter needs that
// this host offers, and fails if one is missing.
func cgroupControllers(mode host.CgroupMode) ([]string, error) {
	var have []string
	switch mode {
	case host.CgroupV2:
		b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil {
			return nil, err
		}
		have = strings.Fields(string(b))
	case host.CgroupV1, host.CgroupHybrid:
		for _, c := range []string{"cpu", "memory", "pids"} {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c)); err == nil {
				have = append(have, c)
			}
		}
	default:
		return nil, fmt.Errorf("no cgroup file system at /sys/fs/cgroup")
	}
	var missing []string
	for _, need := range []string{"cpu", "memory", "pids"} {
		if !slices.Contains(have, need) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return have, fmt.Errorf("missing controllers %s", strings.Join(missing, " "))
	}
	return have, nil
}

// iptablesBackend tells nft from legacy by what the iptables command is a
// link to (xtables-nft-multi or xtables-legacy-multi).
func iptablesBackend() string {
	path, err := filepath.EvalSymlinks("/usr/sbin/iptables")
	switch {
	case err != nil:
		return "unknown"
	case strings.Contains(path, "nft"):
		return "nft"
	case strings.Contains(path, "legacy"):
		return "legacy"
	}
	return filepath.Base(path)
}

func staticBinary(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func missingList(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return "; missing: " + strings.Join(missing, " ")
}

func orError(s string, err error) string {
	if err != nil {
		return s + "; " + err.Error()
	}
	return s
}
