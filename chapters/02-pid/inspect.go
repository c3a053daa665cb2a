package pid

import (
	"fmt"
	"os"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the container's PID
// namespace beside the host's, and PID 1's number in each namespace it is
// in: NSpid in /proc/<pid>/status lists them, the host's first.
func Inspect(c *container.Container) []container.Fact {
	status := fmt.Sprintf("/proc/%d/status", c.Pid)
	nspid := "unreadable"
	if b, err := os.ReadFile(status); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
				nspid = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	return []container.Fact{
		container.NamespaceFact(c, "pid"),
		{Name: "NSpid", Value: nspid, Source: status},
	}
}
