package veth

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"scratchcontainer/runtime/container"
)

// Pool holds every container's /24: container N has 172.22.N.0/24.
const Pool = "172.22.0.0/16"

// HostLink is the name of the host's end of container id's veth pair.
// Interface names have at most 15 characters: "sc-" and 8 of the ID fit
// (container.ShortID: an OCI caller's ID may be any length).
func HostLink(id string) string { return "sc-" + container.ShortID(id) }

// ReserveAddress runs on the host before the clone: it picks the first N no
// other container holds and records 172.22.N.2/24 before anything is made,
// so a crash from here on leaves gc something to release.
//
// The lock makes "look at the others, then take one" one step: without it
// two runtimes starting together would both see N free. A container whose
// runtime died still holds its N until gc releases it.
func ReserveAddress(c *container.Container) error {
	if c.Config.Net != "veth" {
		return nil // none and pasta take no address of the pool
	}
	c.Trace("flock %s/address.lock", container.StateRoot)
	unlock, err := container.Lock("address.lock")
	if err != nil {
		return err
	}
	defer unlock()
	c.Trace("read %s/*/state.json: the addresses other containers hold", container.StateRoot)
	all, err := container.List()
	if err != nil {
		return fmt.Errorf("list containers to pick an address: %w", err)
	}
	// The kernel removes a dead container's pair a moment after its
	// runtime exits: until then its gateway is still on the host.
	c.Trace("netlink: RTM_GETADDR, the host's addresses")
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
