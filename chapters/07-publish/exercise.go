//go:build workshop || workshop07

// Exercise for chapter 07: read README.md, write the TODOs, and run
// `make chapter N=07` until it passes. (publish.go is the reference answer;
// chapter.go plugs your code into the runtime.)
// Given: ports.go parses and reserves the ports (ReservePorts, saved),
// rules.go the iptables pieces (DNATChain, dnat, Comment, ruleSpec,
// notExist), and chapter 06 the shared-rule machinery (veth.Rule,
// veth.EnsureShared), the lock every other iptables change takes
// (veth.LockIPTables) and the names (veth.Pool, veth.HostLink).

package publish

import (
	"errors"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// sharedRules are the rules every published port needs, whichever the
// container: made once per host by veth.EnsureShared.
func sharedRules() []veth.Rule {
	// TODO, in this order (README.md, "The idea"):
	//  - nat SCRATCH-POSTROUTING: MASQUERADE from 127.0.0.0/8 to the pool
	//    (the host's own connections to 127.0.0.1:port);
	//  - nat SCRATCH-POSTROUTING: MASQUERADE from the pool to the pool when
	//    conntrack says DNAT (hairpin);
	//  - filter SCRATCH-INPUT: DROP to 127.0.0.0/8 not from lo, unless
	//    RELATED,ESTABLISHED,DNAT (CVE-2020-8558);
	//  - the jumps, Top: true: nat PREROUTING and nat OUTPUT to DNATChain for
	//    "-m addrtype --dst-type LOCAL"; filter INPUT to SCRATCH-INPUT.
	return nil
}

// Publish runs on the host once the veth pair exists.
func Publish(c *container.Container) error {
	if len(saved(c)) == 0 {
		return nil
	}
	// TODO:
	//  1. write "1" to /proc/sys/net/ipv4/conf/<veth.HostLink(c.ID)>/route_localnet
	//  2. ipt, err := iptables.New(); veth.EnsureShared(c, ipt, sharedRules())
	//  3. unlock, err := veth.LockIPTables(); defer unlock(): one iptables at a time
	//  4. for each port of saved(c): ipt.Append("nat", DNATChain, dnat(c.ID, p, address)...)
	//     with address the container's, from c.Resources["address"] without "/24"
	return errors.New("chapter 07 exercise: Publish is not written yet (chapters/07-publish/exercise.go)")
}

// Unpublish runs on the host after exit, and again from gc.
func Unpublish(c *container.Container) error {
	// TODO: under veth.LockIPTables(), list DNATChain (ipt.List("nat", DNATChain)); delete every rule
	// that carries Comment(c.ID), handing ruleSpec(rule) to ipt.Delete. A
	// chain or rule already gone (notExist) is fine.
	return nil
}
