package userns

import (
	"fmt"
	"os"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the container's user
// namespace beside the host's, its maps as the kernel keeps them, and the
// uid its PID 1 has on the host.
func Inspect(c *container.Container) []container.Fact {
	facts := []container.Fact{container.NamespaceFact(c, "user")}
	for _, file := range []string{"uid_map", "gid_map", "setgroups"} {
		path := fmt.Sprintf("/proc/%d/%s", c.Pid, file)
		b, err := os.ReadFile(path)
		value := strings.Join(strings.Fields(string(b)), " ")
		if err != nil {
			value = err.Error()
		}
		facts = append(facts, container.Fact{Name: file, Value: value, Source: path})
	}
	status := fmt.Sprintf("/proc/%d/status", c.Pid)
	if b, err := os.ReadFile(status); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if key, value, _ := strings.Cut(line, ":"); key == "Uid" || key == "Gid" {
				facts = append(facts, container.Fact{Name: key + " (real, effective, saved, fs)", Value: strings.Join(strings.Fields(value), " "), Source: status})
			}
		}
	}
	return facts
}
