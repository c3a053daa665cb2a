package container

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// checkNamespaces is the skeleton's guard. It runs on the host once the
// child exists, before any chapter acts on it: every namespace the chapters
// name must differ from the runtime's own. Until a chapter's CloneFlags are
// written (the state of a fresh workshop exercise), its Attach and Enter
// would otherwise act on the host itself: rename it, pivot its root, put
// eth0 on it. The run stops instead, with one line naming the missing flag,
// before anything ran in the child.
func checkNamespaces(pid int, chapters []Chapter) error {
	for i, ch := range chapters {
		for _, ns := range ch.Namespaces {
			ours, err := os.Readlink("/proc/self/ns/" + ns)
			if err != nil {
				return fmt.Errorf("chapter %02d-%s: read our %s namespace: %w", i+1, ch.Name, ns, err)
			}
			theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
			if err != nil {
				return fmt.Errorf("chapter %02d-%s: read the child's %s namespace: %w", i+1, ch.Name, ns, err)
			}
			if ours == theirs {
				return fmt.Errorf("chapter %02d-%s: the container is in the host's own %s namespace (%s): add %s to the chapter's CloneFlags; stopped before the chapter could change the host",
					i+1, ch.Name, ns, ours, cloneFlagName(ns))
			}
		}
	}
	return nil
}

// cloneFlagName is the clone(2) flag that makes a namespace of kind ns, in
// the kernel's words, for the guard's message.
func cloneFlagName(ns string) string {
	switch ns {
	case "mnt":
		return "CLONE_NEWNS" // the first namespace, 2002: it got the plain name
	case "uts", "pid", "net", "ipc", "user", "cgroup", "time":
		return "CLONE_NEW" + strings.ToUpper(ns)
	}
	return "the clone flag of the " + ns + " namespace"
}

// threadCgroups reads /proc/thread-self/cgroup: the cgroups of the calling
// thread, one line per hierarchy.
func threadCgroups() (string, error) {
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read the cloning thread's cgroups: %w", err)
	}
	return string(b), nil
}

// checkThreadBack is the guard after the clone. A Clone hook may move the
// cloning thread (a child is born in the cgroups of the thread that cloned
// it), and what it returns must move the thread back: else the runtime's
// own thread would stay inside the container's limits, in the cgroup that
// Release kills and removes.
func checkThreadBack(home string, chapters []Chapter) error {
	now, err := threadCgroups()
	if err != nil {
		return err
	}
	if now == home {
		return nil
	}
	var moved, hooks []string
	for _, line := range strings.Split(now, "\n") {
		if !slices.Contains(strings.Split(home, "\n"), line) {
			moved = append(moved, line)
		}
	}
	for i, ch := range chapters {
		if ch.Clone != nil {
			hooks = append(hooks, fmt.Sprintf("%02d-%s", i+1, ch.Name))
		}
	}
	return fmt.Errorf("the cloning thread is not back in its cgroups after the clone, but in %s: what each Clone hook (%s) returns must move it back",
		strings.Join(moved, " "), strings.Join(hooks, ", "))
}
