//go:build !workshop && !workshop07

// Package publish makes a port of the container answer on a port of the
// host: `-publish 8080:80` and a connection to the host's port 8080, from
// anywhere a user would try it, reaches port 80 in the container.
//
// Nothing listens on the host's port. The kernel rewrites the destination of
// each new connection on its way in (DNAT, destination NAT), and conntrack
// rewrites every later packet of it, both ways:
//
//	from another machine    dst host:8080 ─ nat PREROUTING ─▶ 172.22.N.2:80
//	from the host itself    dst host:8080 ─ nat OUTPUT ─────▶ 172.22.N.2:80
//	                        (127.0.0.1 too: route_localnet on sc-<id>, and
//	                         MASQUERADE, or the container would answer to
//	                         its own loopback)
//	from the container      dst host:8080 ─ nat PREROUTING ─▶ itself: hairpin
//	                        (MASQUERADE, or the answer skips the host)
//
// Most small runtimes DNAT in PREROUTING only: the port then works from
// other machines but not from the host, because packets a host sends itself
// never pass PREROUTING. Letting 127.0.0.1 be routed out of an interface
// (route_localnet) opens a hole: a neighbour on that link could reach the
// host's loopback services (CVE-2020-8558), so traffic to 127.0.0.0/8 that
// arrives on any other interface than lo is dropped.
//
// A published host port is reserved under a lock for the container's
// lifetime, refused if another container publishes it or a host process
// listens on it. Every rule of a container carries the comment
// scratchcontainer:<id>, which is how Release finds exactly its rules.
//
// This file is the rules, in run-time order; ports.go reads and reserves
// the ports, rules.go holds the small pieces of iptables syntax.
//
// Man pages: iptables(8), iptables-extensions(8) (DNAT, MASQUERADE,
// addrtype, conntrack, comment), ip-sysctl (route_localnet), flock(2), bind(2).
package publish

import (
	"fmt"
	"os"
	"path/filepath"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// sharedRules are the rules every published port needs, whichever the
// container. They name only the pool, so they are made once and stay (see
// veth.AddRules).
func sharedRules() []veth.Rule {
	return []veth.Rule{
		// Hairpin: a container reaching a published port of its own
		// would get the answer straight from itself, not from the
		// address it asked, and drop it.
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", veth.Pool, "-d", veth.Pool, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"}},
		// Only traffic to one of the host's own addresses is published.
		// PREROUTING sees new connections from elsewhere (other hosts,
		// containers), OUTPUT the host's own: both go to one chain.
		{Table: "nat", Chain: "PREROUTING", Spec: []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", DNATChain}, Top: true},
		{Table: "nat", Chain: "OUTPUT", Spec: []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", DNATChain}, Top: true},
	}
}

// localnetRules are the shared rules a port published on 127.0.0.1 needs
// (on every address, 127.0.0.1 included, or on 127.0.0.1 alone); a port
// published on another address alone needs neither them nor
// route_localnet.
func localnetRules() []veth.Rule {
	return []veth.Rule{
		// Connections the host makes to 127.0.0.1 leave with that
		// source: the container would answer to its own loopback.
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", "127.0.0.0/8", "-d", veth.Pool, "-j", "MASQUERADE"}},
		// CVE-2020-8558: with route_localnet on, a neighbour on the link
		// could send to 127.0.0.1 and reach the host's loopback
		// services. Answers to connections we made are fine.
		{Table: "filter", Chain: "SCRATCH-INPUT", Spec: []string{"-d", "127.0.0.0/8", "!", "-i", "lo", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"}},
		{Table: "filter", Chain: "INPUT", Spec: []string{"-j", "SCRATCH-INPUT"}, Top: true},
	}
}

// Publish runs on the host once the veth pair exists: for a port that
// 127.0.0.1 reaches, it lets the host's end carry 127.0.0.1; then it adds
// the container's DNAT rules, one per port, making sure the shared rules
// are there, in one iptables-restore.
func Publish(c *container.Container) error {
	ports := saved(c)
	if len(ports) == 0 {
		return nil
	}
	shared := sharedRules()
	if loopback(ports) {
		link := veth.HostLink(c.ID)
		localnet := filepath.Join("/proc/sys/net/ipv4/conf", link, "route_localnet")
		c.Trace("write %s = 1", localnet)
		if err := os.WriteFile(localnet, []byte("1"), 0o644); err != nil {
			return fmt.Errorf("let %s route 127.0.0.1: write %s: %w", link, localnet, err)
		}
		shared = append(shared, localnetRules()...)
	}
	return veth.AddRules(c, shared, dnatRules(c, ports))
}

// Unpublish runs on the host after exit, and again from gc: it deletes the
// container's DNAT rules in one iptables-restore. If they are not all there
// (the runtime died before Publish, or a firewall flushed the table), it
// deletes whatever rule carries the container's comment instead.
// Connections still open through a port die with the container.
func Unpublish(c *container.Container) error {
	ports := saved(c)
	if len(ports) == 0 {
		return nil // nothing was published, so no rule was made
	}
	if err := veth.RemoveRules(c, dnatRules(c, ports)); err == nil {
		return nil
	}
	return removeByComment(c)
}
