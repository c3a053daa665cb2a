package veth

import "scratchcontainer/runtime/container"

// Chapter is chapter 06. cloneFlags, Connect, ConfigureInside and
// Disconnect are the chapter's own code: veth.go has them, or exercise.go
// in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "veth",
		Capability: "own network: veth pair, 172.22.N.2/24, routing and NAT",
		CloneFlags: cloneFlags,
		Namespaces: []string{"net"},
		Prepare:    ReserveAddress,
		Attach:     Connect,
		Enter: func(c *container.Container) error {
			if err := EnterNetNS(c); err != nil {
				return err
			}
			return ConfigureInside(c)
		},
		Release: Disconnect,
		Join:    JoinNet,
		Inspect: Inspect,
	}
}
