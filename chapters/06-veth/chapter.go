package veth

import "scratchcontainer/runtime/container"

// Chapter is chapter 06. cloneFlags, Connect, ConfigureInside and
// Disconnect are the chapter's own code: veth.go has them, or exercise.go
// in the workshop. names.go gives the container its /etc/hosts,
// /etc/hostname and /etc/resolv.conf around them (Prepare, enter);
// pasta.go is -net pasta, the network of a run without root (attach,
// release).
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "veth",
		Capability: "own network: veth pair, 172.22.N.2/24, routing and NAT",
		CloneFlags: cloneFlags,
		Namespaces: []string{"net"},
		Flags:      []string{"dns"},
		Prepare:    Prepare,
		Attach:     attach,
		Enter:      enter,
		Release:    release,
		Join:       JoinNet,
		Inspect:    Inspect,
	}
}
