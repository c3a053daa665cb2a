//go:build workshop || workshop07

// Exercise for chapter 07: read README.md, write the TODOs, and run
// `make chapter N=07` until it passes. (publish.go is the reference answer;
// chapter.go plugs your code into the runtime.)
// Given: ports.go parses and reserves the ports (ReservePorts, saved, and
// Port.Loopback), rules.go the iptables pieces (DNATChain, dnatRules: one
// DNAT rule per port, loopback, removeByComment), and chapter 06 the rule
// machinery (veth.Rule; veth.AddRules and veth.RemoveRules, one
// iptables-restore each) and the names (veth.Pool, veth.HostLink).

package publish

import (
	"errors"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// sharedRules are the rules every published port needs, whichever the
// container: made once per host by veth.AddRules.
func sharedRules() []veth.Rule {
	// TODO (README.md, "The idea"):
	//  - nat SCRATCH-POSTROUTING: MASQUERADE from the pool to the pool when
	//    conntrack says DNAT (hairpin);
	//  - the jumps, Top: true: nat PREROUTING and nat OUTPUT to DNATChain for
	//    "-m addrtype --dst-type LOCAL".
	return nil
}

// localnetRules are the shared rules a port that 127.0.0.1 reaches needs.
func localnetRules() []veth.Rule {
	// TODO:
	//  - nat SCRATCH-POSTROUTING: MASQUERADE from 127.0.0.0/8 to the pool
	//    (the host's own connections to 127.0.0.1:port);
	//  - filter SCRATCH-INPUT: DROP to 127.0.0.0/8 not from lo, unless
	//    RELATED,ESTABLISHED,DNAT (CVE-2020-8558);
	//  - the jump, Top: true: filter INPUT to SCRATCH-INPUT.
	return nil
}

// Publish runs on the host once the veth pair exists.
func Publish(c *container.Container) error {
	ports := saved(c)
	if len(ports) == 0 {
		return nil
	}
	// TODO:
	//  1. if loopback(ports): write "1" to
	//     /proc/sys/net/ipv4/conf/<veth.HostLink(c.ID)>/route_localnet, and
	//     add localnetRules() to the shared ones
	//  2. veth.AddRules(c, shared, dnatRules(c, ports))
	return errors.New("chapter 07 exercise: Publish is not written yet (chapters/07-publish/exercise.go)")
}

// Unpublish runs on the host after exit, and again from gc.
func Unpublish(c *container.Container) error {
	// TODO: with ports := saved(c) (none: nothing to do), delete the
	// container's rules with veth.RemoveRules(c, dnatRules(c, ports)); if
	// that fails (not all there), removeByComment(c) finds what is.
	return nil
}
