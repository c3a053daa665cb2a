package uts

import "scratchcontainer/runtime/container"

// Inspect shows, for `scratchcontainer inspect`, the container's UTS
// namespace beside the host's, and the hostname it was given.
func Inspect(c *container.Container) []container.Fact {
	return []container.Fact{
		container.NamespaceFact(c, "uts"),
		{Name: "hostname", Value: c.Hostname(), Source: "sethostname(2) in the child: -hostname, else the ID"},
	}
}
