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
//
// Syscalls: clone(2) with CLONE_NEWNET; netlink(7) RTM_NEWLINK, RTM_NEWADDR,
// RTM_NEWROUTE (through github.com/vishvananda/netlink); flock(2).
// Man pages: network_namespaces(7), veth(4), rtnetlink(7), iptables(8),
// iptables-extensions(8) (MASQUERADE, conntrack).
package veth

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Pool holds every container's /24: container N has 172.22.N.0/24.
const Pool = "172.22.0.0/16"

// Chapter is chapter 06.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "veth",
		Capability: "own network: veth pair, 172.22.N.2/24, routing and NAT",
		// -net none gets a namespace too, with only lo: no network at all.
		CloneFlags: unix.CLONE_NEWNET,
		Prepare:    ReserveAddress,
		Attach:     Connect,
		Enter:      ConfigureInside,
		Release:    Disconnect,
	}
}

// HostLink is the name of the host's end of container id's veth pair.
// Interface names have at most 15 characters: "sc-" and 8 of the ID fit.
func HostLink(id string) string { return "sc-" + id[:8] }

// ReserveAddress runs on the host before the clone: it picks the first N no
// other container holds and records 172.22.N.2/24 before anything is made,
// so a crash from here on leaves gc something to release.
//
// The lock makes "look at the others, then take one" one step: without it
// two runtimes starting together would both see N free. A container whose
// runtime died still holds its N until gc releases it.
func ReserveAddress(c *container.Container) error {
	if c.Config.Net == "none" {
		return nil
	}
	unlock, err := container.Lock("address.lock")
	if err != nil {
		return err
	}
	defer unlock()
	all, err := container.List()
	if err != nil {
		return fmt.Errorf("list containers to pick an address: %w", err)
	}
	// The kernel removes a dead container's pair a moment after its
	// runtime exits: until then its gateway is still on the host.
	onHost, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("list the host's addresses: %w", err)
	}
	addr, err := FreeAddress(all, onHost)
	if err != nil {
		return err
	}
	return c.Record("address", addr)
}

// FreeAddress is the container address 172.22.N.2/24 of the first N in
// 1..254 that no container in all holds and whose gateway 172.22.N.1 is on
// no host interface.
func FreeAddress(all []*container.Container, onHost []net.Addr) (string, error) {
	held := map[string]bool{}
	for _, other := range all {
		held[other.Resources["address"]] = true
	}
	for _, a := range onHost {
		if ipnet, ok := a.(*net.IPNet); ok {
			held[ipnet.String()] = true // 172.22.N.1/24
		}
	}
	for n := 1; n <= 254; n++ {
		addr := fmt.Sprintf("172.22.%d.2/24", n)
		if !held[addr] && !held[fmt.Sprintf("172.22.%d.1/24", n)] {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free address in %s: 254 containers hold one (scratchcontainer ps lists them, scratchcontainer gc releases those whose runtime died)", Pool)
}

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
	if err := netlink.LinkAdd(pair); err != nil {
		return fmt.Errorf("create veth pair %s (host) and eth0 (network namespace of PID %d): %w", name, c.Pid, err)
	}
	if err := netlink.AddrAdd(pair, gateway); err != nil {
		return fmt.Errorf("add address %s to %s: %w", gateway.IPNet, name, err)
	}
	if err := netlink.LinkSetUp(pair); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	if err := enableForwarding(); err != nil {
		return err
	}
	ipt, err := iptables.New()
	if err != nil {
		return fmt.Errorf("iptables: %w (install the iptables package)", err)
	}
	return EnsureShared(ipt, natRules())
}

// addresses are the host's end (172.22.N.1/24, the container's gateway) and
// the container's eth0 (172.22.N.2/24), from the recorded address.
func addresses(c *container.Container) (gateway, inside *netlink.Addr, err error) {
	recorded := c.Resources["address"]
	inside, err = netlink.ParseAddr(recorded)
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: recorded address %q: %w", c.ID, recorded, err)
	}
	gw := inside.IP.To4()
	gw = net.IPv4(gw[0], gw[1], gw[2], 1)
	return &netlink.Addr{IPNet: &net.IPNet{IP: gw, Mask: inside.Mask}}, inside, nil
}

// enableForwarding turns on routing between interfaces: without it the host
// drops every packet the container sends beyond the host itself. Writing
// the same value again is harmless, but reading first spares the kernel a
// walk over every interface.
func enableForwarding() error {
	const path = "/proc/sys/net/ipv4/ip_forward"
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enable forwarding: write %s: %w", path, err)
	}
	return nil
}

// A Rule is one iptables rule. Top rules are inserted first in their chain
// rather than appended: a jump from a built-in chain must come before a
// DROP that a firewall or Docker put there.
type Rule struct {
	Table, Chain string
	Spec         []string
	Top          bool
}

// natRules let the pool out: the host MASQUERADEs what the pool sends beyond
// the pool, and FORWARD accepts it even where the policy is DROP. Replies
// (and connections a published port DNATs in) come back; nobody outside can
// open a connection to a container address directly.
//
// They name only the pool, so they are shared by every container and stay.
// The jumps from the built-in chains come last: when the last rule is there,
// all are (see EnsureShared).
func natRules() []Rule {
	return []Rule{
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", Pool, "!", "-d", Pool, "-j", "MASQUERADE"}},
		{Table: "filter", Chain: "SCRATCH-FORWARD", Spec: []string{"-s", Pool, "-j", "ACCEPT"}},
		{Table: "filter", Chain: "SCRATCH-FORWARD", Spec: []string{"-d", Pool, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "ACCEPT"}},
		{Table: "nat", Chain: "POSTROUTING", Spec: []string{"-j", "SCRATCH-POSTROUTING"}, Top: true},
		{Table: "filter", Chain: "FORWARD", Spec: []string{"-j", "SCRATCH-FORWARD"}, Top: true},
	}
}

// EnsureShared makes rules exist, once per host. Each iptables command is a
// process of its own and costs a millisecond or more, so the common case is
// one check: the last rule, added last, is there. Otherwise, under a lock
// (go-iptables' AppendUnique is check-then-append: two runtimes could both
// append), it makes the SCRATCH- chains and whatever rule is missing.
func EnsureShared(ipt *iptables.IPTables, rules []Rule) error {
	last := rules[len(rules)-1]
	if ok, err := ipt.Exists(last.Table, last.Chain, last.Spec...); err == nil && ok {
		return nil
	}
	unlock, err := container.Lock("iptables.lock")
	if err != nil {
		return err
	}
	defer unlock()
	for _, r := range rules {
		if err := ensureChain(ipt, r.Table, r.Chain); err != nil {
			return err
		}
		for i, arg := range r.Spec[:len(r.Spec)-1] {
			if arg == "-j" { // a jump: its target must exist first
				if err := ensureChain(ipt, r.Table, r.Spec[i+1]); err != nil {
					return err
				}
			}
		}
		if r.Top {
			err = ipt.InsertUnique(r.Table, r.Chain, 1, r.Spec...)
		} else {
			err = ipt.AppendUnique(r.Table, r.Chain, r.Spec...)
		}
		if err != nil {
			return fmt.Errorf("iptables -t %s -A %s %s: %w", r.Table, r.Chain, strings.Join(r.Spec, " "), err)
		}
	}
	return nil
}

// ensureChain makes one of our chains; the built-in ones exist already.
func ensureChain(ipt *iptables.IPTables, table, chain string) error {
	if !strings.HasPrefix(chain, "SCRATCH-") {
		return nil
	}
	if ok, err := ipt.ChainExists(table, chain); err != nil || ok {
		return err
	}
	if err := ipt.NewChain(table, chain); err != nil {
		return fmt.Errorf("iptables -t %s -N %s: %w", table, chain, err)
	}
	return nil
}

// ConfigureInside runs in the child, in its new network namespace, before
// exec: lo up, then eth0 gets its address and the default route via the
// host's end. With -net none, lo is all there is.
func ConfigureInside(c *container.Container) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo in the container: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up in the container: %w", err)
	}
	if c.Config.Net == "none" {
		return nil
	}
	gateway, inside, err := addresses(c)
	if err != nil {
		return err
	}
	eth0, err := netlink.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in the container: %w", err)
	}
	if err := netlink.AddrAdd(eth0, inside); err != nil {
		return fmt.Errorf("add address %s to eth0: %w", inside.IPNet, err)
	}
	if err := netlink.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set eth0 up: %w", err)
	}
	// No Dst: the default route.
	route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gateway.IP}
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
// grace period: about 20 ms here, twice what the whole network costs a
// short container otherwise. The kernel does it a few milliseconds after we
// return; ReserveAddress skips an N whose pair is still on its way out.
//
// gc is different: it releases a container whose runtime died, perhaps long
// ago or with the namespace held open by someone else, so it deletes a host
// end that is still there. The address goes free with the state directory.
func Disconnect(c *container.Container) error {
	if c.RuntimePid == os.Getpid() {
		return nil // our own container: the kernel takes the pair with the namespace
	}
	name := HostLink(c.ID)
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
