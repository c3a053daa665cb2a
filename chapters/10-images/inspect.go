package images

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the layers of the
// container's overlay, as the host's mount table has them, and its volumes.
func Inspect(c *container.Container) []container.Fact {
	dir := c.Resources["layer"]
	if dir == "" {
		return nil
	}
	merged := filepath.Join(dir, "merged")
	source := fmt.Sprintf("/proc/%d/mountinfo", c.Pid)
	facts := []container.Fact{{Name: "merged (its / seen from the host's side)", Value: merged, Source: "state.json"}}
	for _, opt := range strings.Split(overlayOptions(source), ",") {
		for _, key := range []string{"lowerdir", "upperdir", "workdir"} {
			if value, ok := strings.CutPrefix(opt, key+"="); ok {
				facts = append(facts, container.Fact{Name: key, Value: strings.ReplaceAll(value, ":", " "), Source: source})
			}
		}
	}
	if image := c.Resources["image"]; image != "" {
		facts = append(facts, container.Fact{Name: "image", Value: c.Config.Image + " " + image, Source: "index.json"})
	}
	volumes, _ := ParseVolumes(c.Config.Volumes)
	for _, v := range volumes {
		facts = append(facts, container.Fact{Name: "volume " + v.Container, Value: v.String(), Source: "state.json"})
	}
	return facts
}

// overlayOptions are the super options of the overlay a container has as
// its /, from its mountinfo: "rw,lowerdir=...,upperdir=...,workdir=...".
func overlayOptions(mountinfo string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return ""
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		before, after, ok := strings.Cut(scanner.Text(), " - ")
		fields, tail := strings.Fields(before), strings.Fields(after)
		if ok && len(fields) > 4 && fields[4] == "/" && len(tail) > 2 && tail[0] == "overlay" {
			return tail[2]
		}
	}
	return ""
}
