package proc

import (
	"strconv"
	"strings"

	mountns "scratchcontainer/chapters/03-mount"
	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the kernel file systems
// the container mounted, and how many host paths it masks or made
// read-only, from its /proc/<pid>/mountinfo.
func Inspect(c *container.Container) []container.Fact {
	mounts, source := mountns.Mounts(c.Pid)
	var facts []container.Fact
	masked, readonly := 0, 0
	for _, m := range mounts {
		switch {
		case m.Point == "/proc" || m.Point == "/sys" || m.Point == "/dev" || strings.HasPrefix(m.Point, "/dev/"):
			facts = append(facts, container.Fact{Name: m.Point, Value: m.FSType + " (" + m.Options + ")", Source: source})
		case m.Root == "/null" && m.FSType == "tmpfs", m.Root == "/" && m.FSType == "tmpfs" && strings.HasPrefix(m.Options, "ro"):
			masked++ // /dev/null bound over a file, or an empty tmpfs over a directory
		case strings.HasPrefix(m.Point, "/proc/") && strings.HasPrefix(m.Options, "ro"):
			readonly++
		}
	}
	return append(facts,
		container.Fact{Name: "masked paths", Value: strconv.Itoa(masked), Source: source},
		container.Fact{Name: "read-only paths", Value: strconv.Itoa(readonly), Source: source})
}
