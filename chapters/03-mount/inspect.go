package mount

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the container's mount
// namespace beside the host's, the rootfs, and what is mounted on its /.
func Inspect(c *container.Container) []container.Fact {
	facts := []container.Fact{
		container.NamespaceFact(c, "mnt"),
		{Name: "rootfs", Value: c.Config.Rootfs},
	}
	mounts, source := Mounts(c.Pid)
	for _, m := range mounts {
		if m.Point == "/" {
			facts = append(facts, container.Fact{Name: "/", Value: m.String(), Source: source})
		}
	}
	return facts
}

// A Mount is one line of /proc/<pid>/mountinfo, see proc(5).
type Mount struct {
	Root    string // the directory of the source that is mounted
	Point   string // where, as the process sees it
	Options string // per mount: rw, nosuid, ...
	FSType  string
	Source  string
}

func (m Mount) String() string {
	return fmt.Sprintf("%s %s (%s, %s)", m.Source, m.Root, m.FSType, m.Options)
}

// Mounts reads the mount table of process pid, as it sees it. The second
// result is the file it came from.
func Mounts(pid int) ([]Mount, string) {
	path := fmt.Sprintf("/proc/%d/mountinfo", pid)
	f, err := os.Open(path)
	if err != nil {
		return nil, path
	}
	defer f.Close()
	var mounts []Mount
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// ID parent major:minor root point options [optional...] - fstype source super
		before, after, ok := strings.Cut(scanner.Text(), " - ")
		fields, tail := strings.Fields(before), strings.Fields(after)
		if !ok || len(fields) < 6 || len(tail) < 2 {
			continue
		}
		mounts = append(mounts, Mount{Root: fields[3], Point: fields[4], Options: fields[5], FSType: tail[0], Source: tail[1]})
	}
	return mounts, path
}
