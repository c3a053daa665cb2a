package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the container's cgroup:
// its directories, the processes in it (PID 1, born there, and what it
// forked; no thread of the runtime), and each limit and usage file as the
// kernel reads it.
func Inspect(c *container.Container) []container.Fact {
	if c.Rootless && c.Resources["cgroup"] == "" {
		return []container.Fact{{Name: "cgroup", Value: "none: run without root, and no cgroup v2 subtree delegated (no limits)"}}
	}
	var facts []container.Fact
	dirs := strings.Fields(c.Resources["cgroup"])
	for _, dir := range dirs {
		facts = append(facts, container.Fact{Name: "cgroup", Value: dir})
	}
	if len(dirs) > 0 {
		procs := filepath.Join(dirs[0], "cgroup.procs")
		b, err := os.ReadFile(procs)
		value := strings.Join(strings.Fields(string(b)), " ")
		if err != nil {
			value = "unreadable: " + err.Error()
		}
		facts = append(facts, container.Fact{Name: "cgroup.procs", Value: value, Source: procs})
	}
	d, err := driverOf(c)
	if err != nil {
		return append(facts, container.Fact{Name: "driver", Value: err.Error()})
	}
	values := map[string]int64{}
	for _, path := range d.Files(Path(c)) {
		b, err := os.ReadFile(path)
		value := strings.TrimSpace(string(b))
		if err != nil {
			value = "unreadable: " + err.Error()
		}
		value, _, _ = strings.Cut(value, "\n") // cpu.stat: usage_usec comes first
		name := filepath.Base(path)
		facts = append(facts, container.Fact{Name: name, Value: value, Source: path})
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			values[name] = n
		}
	}
	used, limit := values["memory.current"]+values["memory.usage_in_bytes"], values["memory.max"]+values["memory.limit_in_bytes"]
	return append(facts, container.Fact{Name: "memory", Value: FormatSize(used) + " used of " + FormatSize(limit)})
}
