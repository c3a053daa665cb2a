//go:build workshop || workshop06

// Exercise for chapter 06: read README.md, write the TODOs, and run
// `make chapter N=06` until it passes. (veth.go is the reference answer;
// chapter.go plugs your code into the runtime.)
// Given: address.go reserves 172.22.N.2/24 (ReserveAddress) and computes the
// gateway (addresses); nat.go makes the shared rules (enableForwarding,
// AddRules, natRules); names.go the container's /etc files.

package veth

import (
	"errors"

	"scratchcontainer/runtime/container"
)

// cloneFlags are the namespaces clone(2) gives the child.
// TODO: a new network namespace (unix.CLONE_NEWNET).
const cloneFlags = 0

// Connect runs on the host once the child exists, in its new network
// namespace.
func Connect(c *container.Container) error {
	if c.Config.Net == "none" {
		return nil
	}
	// TODO:
	//  1. gateway, _, err := addresses(c)
	//  2. netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: HostLink(c.ID)},
	//     PeerName: "eth0", PeerNamespace: netlink.NsPid(c.Pid)}): the peer is
	//     born inside the container
	//  3. netlink.AddrAdd the gateway to the host's end, netlink.LinkSetUp it
	//  4. enableForwarding(); then AddRules(c, natRules(), nil)
	return errors.New("chapter 06 exercise: Connect is not written yet (chapters/06-veth/exercise.go)")
}

// ConfigureInside runs in the child, in its new network namespace.
func ConfigureInside(c *container.Container) error {
	// TODO: lo up (netlink.LinkByName, netlink.LinkSetUp); with -net none
	// (and -net pasta, whose eth0 pasta configures) that is all. Otherwise eth0 gets the address (the second result of
	// addresses(c)), goes up, and a default route via the gateway:
	// netlink.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gateway.IP}).
	return nil
}

// Disconnect runs on the host after exit, and again from gc.
func Disconnect(c *container.Container) error {
	// TODO: delete the host's end, HostLink(c.ID), if it is still there (the
	// peer goes with it); a link already gone is fine. (The reference skips
	// this for its own container: the kernel removes the pair with the
	// namespace. Read why in veth.go.)
	return nil
}
