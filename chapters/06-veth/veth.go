//go:build !workshop && !workshop06

// Package veth gives the container a network of its own: its own interfaces,
// addresses, routes and firewall, joined to the host by a virtual cable.
//
// clone(2) with CLONE_NEWNET gives the child an empty network namespace: only
// a loopback interface, down. To let it talk, the host makes a veth pair, two
// interfaces that behave like the two ends of a cable: what goes in one comes
// out of the other. One end stays on the host, the other is created directly
// inside the container's namespace (creating it on the host and moving it
// afterwards costs a second round of kernel work and a rename).
//
//	host                                   container (own netns)
//	  sc-1a2b3c4d 172.22.N.1/24 ══ veth ══ eth0 172.22.N.2/24
//	       │                                 default via 172.22.N.1
//	  ip_forward=1, MASQUERADE 172.22.0.0/16 ──▶ the world sees the host
//
// Every container gets its own /24 out of the pool 172.22.0.0/16, chosen under
// a lock so two runtimes starting at once never pick the same N. The host
// routes between the pool and the rest of the world (ip_forward) and rewrites
// the pool's source addresses to its own on the way out (MASQUERADE), so
// replies find their way back without the outside knowing about the pool.
// Those rules name only the pool, so they are made once per host and shared.
// This file is the plumbing, in run-time order; address.go picks N, nat.go
// holds the shared rules.
//
// Syscalls: clone(2) with CLONE_NEWNET; netlink(7) RTM_NEWLINK, RTM_NEWADDR,
// RTM_NEWROUTE (through github.com/vishvananda/netlink); flock(2).
// Man pages: network_namespaces(7), veth(4), rtnetlink(7), iptables(8),
// iptables-extensions(8) (MASQUERADE, conntrack).
package veth

import (
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// cloneFlags asks clone(2) for a new network namespace: the child starts
// with only lo, down. -net none gets one too, with only lo: no network at all.
const cloneFlags = unix.CLONE_NEWNET

// Connect runs on the host once the child exists, in its new network
// namespace: it makes the veth pair, addresses and raises the host's end,
// and makes sure the host forwards and NATs the pool.
func Connect(c *container.Container) error {
	if c.Config.Net == "none" {
		return nil
	}
	gateway, _, err := addresses(c)
	if err != nil {
		return err
	}
	name := HostLink(c.ID)
	pair := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: name},
		PeerName:  "eth0",
		// The peer is born in the child's namespace, found by its PID.
		PeerNamespace: netlink.NsPid(c.Pid),
	}
	c.Trace("netlink: RTM_NEWLINK veth %s <-> eth0 in the netns of PID %d", name, c.Pid)
	if err := netlink.LinkAdd(pair); err != nil {
		return fmt.Errorf("create veth pair %s (host) and eth0 (network namespace of PID %d): %w", name, c.Pid, err)
	}
	c.Trace("netlink: RTM_NEWADDR %v on %s", gateway.IPNet, name)
	if err := netlink.AddrAdd(pair, gateway); err != nil {
		return fmt.Errorf("add address %s to %s: %w", gateway.IPNet, name, err)
	}
	c.Trace("netlink: RTM_NEWLINK %s up", name)
	if err := netlink.LinkSetUp(pair); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	c.Trace("read /proc/sys/net/ipv4/ip_forward, write 1 unless it is")
	if err := enableForwarding(); err != nil {
		return err
	}
	return AddRules(c, natRules(), nil)
}

// ConfigureInside runs in the child, in its new network namespace, before
// exec: lo up, then eth0 gets its address and the default route via the
// host's end. With -net none, lo is all there is; -net pasta's eth0 is
// pasta's to configure.
func ConfigureInside(c *container.Container) error {
	c.Trace("netlink: RTM_GETLINK lo")
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo in the container: %w", err)
	}
	c.Trace("netlink: RTM_NEWLINK lo up")
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up in the container: %w", err)
	}
	if c.Config.Net != "veth" {
		return nil // none: lo is all; pasta configured eth0 from outside (pasta.go)
	}
	gateway, inside, err := addresses(c)
	if err != nil {
		return err
	}
	c.Trace("netlink: RTM_GETLINK eth0")
	eth0, err := netlink.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in the container: %w", err)
	}
	c.Trace("netlink: RTM_NEWADDR %v on eth0", inside.IPNet)
	if err := netlink.AddrAdd(eth0, inside); err != nil {
		return fmt.Errorf("add address %s to eth0: %w", inside.IPNet, err)
	}
	c.Trace("netlink: RTM_NEWLINK eth0 up")
	if err := netlink.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set eth0 up: %w", err)
	}
	// No Dst: the default route.
	route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gateway.IP}
	c.Trace("netlink: RTM_NEWROUTE default via %v dev eth0", gateway.IP)
	if err := netlink.RouteAdd(route); err != nil {
		return fmt.Errorf("add default route via %s: %w", gateway.IP, err)
	}
	return nil
}

// Disconnect runs on the host after exit, and again from gc. When the
// container's last process dies, its network namespace dies with it, and
// the kernel unregisters both ends of the pair: there is nothing left for
// the runtime to delete. Deleting the host's end ourselves would only race
// the kernel to the same work, and unregistering a device waits for an RCU
// grace period: every container's exit would wait for it (the lesson's
// measurements say how long). The kernel does it shortly after we return;
// ReserveAddress skips an N whose pair is still on its way out.
//
// gc is different: it releases a container whose runtime died, perhaps long
// ago or with the namespace held open by someone else, so it deletes a host
// end that is still there. The address goes free with the state directory.
func Disconnect(c *container.Container) error {
	if c.RuntimePid == os.Getpid() {
		return nil // our own container: the kernel takes the pair with the namespace
	}
	name := HostLink(c.ID)
	c.Trace("netlink: RTM_GETLINK %s", name)
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	c.Trace("netlink: RTM_DELLINK %s", name)
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
