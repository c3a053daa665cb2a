package privileges

import (
	"fmt"
	"os"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, what root in the container
// may still do, as the kernel keeps it in /proc/<pid>/status: the effective
// and bounding capability sets, no_new_privs and the seccomp mode (2: a
// filter); and the IPC and cgroup namespaces beside the host's.
func Inspect(c *container.Container) []container.Fact {
	status := fmt.Sprintf("/proc/%d/status", c.Pid)
	var facts []container.Fact
	b, err := os.ReadFile(status)
	if err != nil {
		return []container.Fact{{Name: "status", Value: err.Error(), Source: status}}
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, value, _ := strings.Cut(line, ":")
		switch key {
		case "CapEff", "CapBnd", "NoNewPrivs", "Seccomp":
			facts = append(facts, container.Fact{Name: key, Value: strings.TrimSpace(value), Source: status})
		}
	}
	for _, ns := range []string{"ipc", "cgroup"} {
		theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", c.Pid, ns))
		ours, _ := os.Readlink("/proc/self/ns/" + ns)
		facts = append(facts, container.Fact{Name: ns + " namespace", Value: theirs, Host: ours, Source: fmt.Sprintf("/proc/%d/ns/%s", c.Pid, ns)})
	}
	return facts
}
