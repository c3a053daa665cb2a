package cli

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/coreos/go-iptables/iptables"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// check prints whether this host can run every chapter, one line per
// requirement, and fails if any is missing.
func check(out io.Writer) error {
	if os.Geteuid() != 0 {
		return checkRootless(out)
	}
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

// checkRootless prints what this user, not root, may do: one line each,
// "ok" or "no" and why. Only a kernel that refuses the user a user
// namespace fails the check: without one nothing runs; without the rest,
// a run says what it leaves out, or refuses the flag that needs it.
func checkRootless(out io.Writer) error {
	report := func(ok bool, what, detail string) {
		mark := "ok  "
		if !ok {
			mark = "no  "
		}
		fmt.Fprintf(out, "%s %-12s %s\n", mark, what, detail)
	}
	uid := os.Geteuid()
	report(true, "user", fmt.Sprintf("uid %d, not root: containers in a user namespace of their own (chapter 09), state in %s", uid, container.UserStateRoot()))

	// The one true answer is the kernel's: clone a process into one.
	probe := exec.Command("/bin/true")
	probe.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
	userns := probe.Run()
	if userns == nil {
		report(true, "userns", fmt.Sprintf("clone(CLONE_NEWUSER) as uid %d works", uid))
	} else {
		report(false, "userns", fmt.Sprintf("clone(CLONE_NEWUSER) as uid %d: %v (see sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns)", uid, userns))
	}

	names := []string{strconv.Itoa(uid)}
	if u, err := user.LookupId(names[0]); err == nil {
		names = append([]string{u.Username}, names...)
	}
	first, count, found, err := host.SubIDRange("/etc/subuid", names...)
	helper, lookErr := exec.LookPath("newuidmap")
	switch {
	case err != nil:
		report(false, "subuid", err.Error())
	case !found:
		report(false, "subuid", fmt.Sprintf("/etc/subuid grants %s no range: the container has one uid, 0 (yours); with one (usermod --add-subuids), newuidmap maps 1..65535 too", names[0]))
	case lookErr != nil:
		report(false, "subuid", fmt.Sprintf("/etc/subuid grants %s %d:%d, but newuidmap is missing (apt-get install uidmap): the container has one uid, 0 (yours)", names[0], first, count))
	default:
		report(true, "subuid", fmt.Sprintf("/etc/subuid grants %s %d:%d, which %s writes: the container's 1..65535", names[0], first, count, helper))
	}

	dir, why := host.DelegatedCgroup()
	if dir != "" {
		report(true, "cgroups", "cgroup v2 delegated to you at "+dir+": -cpus, -memory and -pids apply there")
	} else {
		report(false, "cgroups", why+": -cpus, -memory and -pids are refused, and a run has no limits")
	}

	var uts unix.Utsname
	unix.Uname(&uts)
	release := unix.ByteSliceToString(uts.Release[:])
	var major, minor int
	fmt.Sscanf(release, "%d.%d", &major, &minor)
	overlay := major > 5 || major == 5 && minor >= 11
	report(overlay, "overlay", fmt.Sprintf("Linux %s: overlayfs in a user namespace needs 5.11 or later (chapter 10's layer; else -chapter 9)", release))

	report(false, "network", "-net veth needs root (a veth pair, iptables): -net none, only lo, is the default without root")
	pasta, err := exec.LookPath("pasta")
	switch {
	case err != nil:
		report(false, "pasta", "pasta is not installed (apt-get install passt): no -net pasta, so no network or -publish without root")
	case unix.Access("/dev/net/tun", unix.R_OK|unix.W_OK) != nil:
		report(false, "pasta", pasta+" is there, but /dev/net/tun is not yours to open (as root: chmod 0666 /dev/net/tun, as Debian's udev has it): no -net pasta")
	default:
		report(true, "pasta", pasta+" and /dev/net/tun: -net pasta gives the container a network, and -publish, without root")
	}
	report(false, "exec", "exec needs root (Go cannot setns(2) into a user namespace); nsenter --preserve-credentials can, unconfined")
	if userns != nil {
		return container.Errorf(1, "check: no user namespace for uid %d: nothing can run without root", uid)
	}
	fmt.Fprintln(out, "ready without root: what says no is left out of a run, or refused with one line")
	return nil
}
