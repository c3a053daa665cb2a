package host

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What a user other than root may do on this host: the runtime's chapters
// ask when they run without root, and `scratchcontainer check` says.

// SubIDRange is the first subordinate range that file (/etc/subuid or
// /etc/subgid, subuid(5): "name:first:count" lines) grants any of names (a
// user's name, and uid as a number), if one does.
func SubIDRange(file string, names ...string) (first, count int, found bool, err error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(fields) != 3 || !contains(names, fields[0]) {
			continue
		}
		first, err1 := strconv.Atoi(fields[1])
		count, err2 := strconv.Atoi(fields[2])
		if err1 != nil || err2 != nil || first < 1 || count < 1 {
			return 0, 0, false, fmt.Errorf("%s: entry %q: write NAME:FIRST:COUNT", file, s.Text())
		}
		return first, count, true, nil
	}
	return 0, 0, false, s.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DelegatedCgroup is the top of the cgroup v2 subtree delegated to the
// caller: the highest cgroup above the caller's own (/proc/self/cgroup,
// "0::/...") whose directory and cgroup.procs the caller owns and may
// write, as systemd chowns user@<uid>.service's (the kernel's
// Documentation/admin-guide/cgroup-v2.rst, "Delegation"). It must hold no
// process: the caller's own cgroup does, and may hand no controller down
// (no internal processes), and offer the controllers cpu, memory and pids.
// Empty, with the reason, if there is none.
func DelegatedCgroup() (dir, why string) {
	const root = "/sys/fs/cgroup"
	if mode := DetectCgroupMode(); mode != CgroupV2 {
		return "", fmt.Sprintf("this host's cgroups are %s (cgroup v1 delegates nothing)", mode)
	}
	own, err := ownCgroup()
	if err != nil {
		return "", err.Error()
	}
	uid := uint32(os.Geteuid())
	for d := filepath.Join(root, own); strings.HasPrefix(d, root+"/"); d = filepath.Dir(d) {
		if !ownedBy(d, uid) || !ownedBy(filepath.Join(d, "cgroup.procs"), uid) {
			break
		}
		dir = d
	}
	switch {
	case dir == "":
		return "", fmt.Sprintf("your cgroup %s is not yours (systemd-run --user --scope gives you one that is)", own)
	case dir == filepath.Join(root, own):
		return "", fmt.Sprintf("your cgroup %s holds your own processes, so it may hand no controller down (systemd-run --user --scope)", own)
	}
	// Only what the parent enabled in its cgroup.subtree_control reaches
	// the subtree (systemd: Delegate=cpu memory pids).
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return "", fmt.Sprintf("read the controllers of %s: %v", dir, err)
	}
	for _, need := range []string{"cpu", "memory", "pids"} {
		if !contains(strings.Fields(string(b)), need) {
			return "", fmt.Sprintf("the cgroup %s delegated to you has no %s controller (its cgroup.controllers: %q; systemd: Delegate=cpu memory pids)", dir, need, strings.TrimSpace(string(b)))
		}
	}
	return dir, ""
}

// ownCgroup is the caller's cgroup v2 path, from /proc/self/cgroup.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read your cgroup: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
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
