package container

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// A Fact is one thing `inspect` shows about a running container, read from
// where the host keeps it (a file under /proc or /sys, a netlink answer, an
// iptables listing), so a learner can look it up there too.
type Fact struct {
	Name   string `json:"name"`             // in the kernel's words: "uts namespace", "memory.max"
	Value  string `json:"value"`            // as the kernel says it
	Host   string `json:"host,omitempty"`   // the host's own, where comparing tells something
	Source string `json:"source,omitempty"` // where it was read
}

// A Section is what one chapter (or the runtime itself) shows.
type Section struct {
	Chapter string `json:"chapter"` // "03-mount", or "runtime"
	Facts   []Fact `json:"facts"`
}

// Inspect describes running container id as the host sees it, chapter by
// chapter: each chapter that has an Inspect hook reads what it made.
func Inspect(id string, chapters []Chapter) ([]Section, error) {
	c, err := Load(id)
	if err != nil {
		return nil, err
	}
	if !c.Running || c.Orphaned() {
		return nil, fmt.Errorf("container %s is not running (see scratchcontainer ps)", id)
	}
	started := "-"
	if fi, err := os.Stat(c.StateDir()); err == nil {
		started = fi.ModTime().Format(time.RFC3339)
	}
	sections := []Section{{Chapter: "runtime", Facts: []Fact{
		{Name: "id", Value: c.ID},
		{Name: "command", Value: strings.Join(c.Config.Args, " ")},
		{Name: "pid", Value: strconv.Itoa(c.Pid), Source: "the container's PID 1, as the host numbers it"},
		{Name: "runtime pid", Value: strconv.Itoa(c.RuntimePid)},
		{Name: "chapters", Value: fmt.Sprintf("1-%d", c.Config.Chapters)},
		{Name: "state", Value: c.stateFile(), Source: "written " + started},
	}}}
	if n := c.Config.Chapters; n < len(chapters) {
		chapters = chapters[:n]
	}
	chapters = active(c.Config, chapters)
	for i, ch := range chapters {
		if ch.Inspect == nil {
			continue
		}
		sections = append(sections, Section{
			Chapter: string(appendTag(nil, i+1, ch.Name)),
			Facts:   ch.Inspect(c),
		})
	}
	return sections, nil
}

// NamespaceFact compares the container's kind namespace ("uts", "pid",
// "mnt", "net", ...) with the host's: the links in /proc/<pid>/ns name a
// namespace by its inode, so two processes share one when the links match.
func NamespaceFact(c *Container, kind string) Fact {
	theirs := fmt.Sprintf("/proc/%d/ns/%s", c.Pid, kind)
	f := Fact{Name: kind + " namespace", Source: theirs + ", /proc/self/ns/" + kind}
	var err error
	if f.Value, err = os.Readlink(theirs); err != nil {
		f.Value = "unreadable: " + err.Error()
	}
	f.Host, _ = os.Readlink("/proc/self/ns/" + kind)
	return f
}
