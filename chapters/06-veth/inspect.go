package veth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the container's network
// namespace beside the host's, both ends of the veth pair with their
// addresses, the routes inside, and the shared NAT rules that let the pool
// out. Inside is read over netlink in the container's namespace, opened
// from /proc/<pid>/ns/net: nothing runs in the container.
func Inspect(c *container.Container) []container.Fact {
	facts := []container.Fact{container.NamespaceFact(c, "net")}
	facts = append(facts, nameFacts(c)...)
	if c.Config.Net == "none" {
		return append(facts, container.Fact{Name: "network", Value: "none: lo only"})
	}
	if c.Config.Net == Pasta {
		return append(facts, container.Fact{Name: "network", Value: "pasta, PID " + c.Resources["pasta"] + ": user-mode, the host's sockets carry the container's connections", Source: "state.json"})
	}
	facts = append(facts, container.Fact{Name: "address", Value: c.Resources["address"], Source: "state.json"})
	name := HostLink(c.ID)
	facts = append(facts, linkFact(netlink.LinkByName, netlink.AddrList, name, "host end"))
	ns, err := netns.GetFromPid(c.Pid)
	if err != nil {
		return append(facts, container.Fact{Name: "inside", Value: err.Error()})
	}
	defer ns.Close()
	inside, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE) // route only: xfrm may be absent (the test VM)
	if err != nil {
		return append(facts, container.Fact{Name: "inside", Value: err.Error()})
	}
	defer inside.Close()
	facts = append(facts, linkFact(inside.LinkByName, inside.AddrList, "eth0", "container end"))
	routes, err := inside.RouteList(nil, netlink.FAMILY_V4)
	for _, r := range routes {
		facts = append(facts, container.Fact{Name: "route", Value: routeString(inside, r), Source: "netlink RTM_GETROUTE in the container"})
	}
	if err != nil {
		facts = append(facts, container.Fact{Name: "route", Value: err.Error()})
	}
	return append(facts, poolRules(natRules())...)
}

// linkFact is one end of the pair: its name, index, state and addresses.
func linkFact(byName func(string) (netlink.Link, error), addrs func(netlink.Link, int) ([]netlink.Addr, error), name, end string) container.Fact {
	f := container.Fact{Name: end, Source: "netlink RTM_GETLINK, RTM_GETADDR"}
	link, err := byName(name)
	if err != nil {
		f.Value = fmt.Sprintf("%s: %v", name, err)
		return f
	}
	var list []string
	as, _ := addrs(link, netlink.FAMILY_V4)
	for _, a := range as {
		list = append(list, a.IPNet.String())
	}
	a := link.Attrs()
	f.Value = fmt.Sprintf("%s (index %d, peer index %d, %s) %s", name, a.Index, a.ParentIndex, a.OperState, strings.Join(list, " "))
	return f
}

// routeString writes a route as `ip route` does.
func routeString(h *netlink.Handle, r netlink.Route) string {
	s := "default"
	if ones, _ := r.Dst.Mask.Size(); r.Dst != nil && ones > 0 {
		s = r.Dst.String()
	}
	if r.Gw != nil {
		s += " via " + r.Gw.String()
	}
	if link, err := h.LinkByIndex(r.LinkIndex); err == nil {
		s += " dev " + link.Attrs().Name
	}
	if r.Src != nil {
		s += " src " + r.Src.String()
	}
	return s
}

// poolRules are the rules of rules as iptables lists them, if they are there.
func poolRules(rules []Rule) []container.Fact {
	ipt, err := iptables.New()
	if err != nil {
		return []container.Fact{{Name: "iptables", Value: err.Error()}}
	}
	var facts []container.Fact
	for _, r := range rules {
		ok, err := ipt.Exists(r.Table, r.Chain, r.Spec...)
		if err == nil && ok {
			facts = append(facts, container.Fact{Name: "rule", Value: fmt.Sprintf("-t %s -A %s %s", r.Table, r.Chain, strings.Join(r.Spec, " ")), Source: "iptables -t " + r.Table + " -C"})
		}
	}
	return facts
}

// nameFacts are the name files: what the host wrote, and where the
// container's mount table has them.
func nameFacts(c *container.Container) []container.Fact {
	mountinfo, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", c.Pid))
	var facts []container.Fact
	for _, name := range c.HostFiles {
		path := filepath.Join(c.StateDir(), name)
		b, err := os.ReadFile(path)
		value := strings.Join(strings.Fields(string(b)), " ")
		if err != nil {
			value = err.Error()
		}
		facts = append(facts, container.Fact{Name: "/etc/" + name, Value: value, Source: path})
		for _, line := range strings.Split(string(mountinfo), "\n") {
			// mountinfo(5): ID parent major:minor root mountpoint options ...
			if f := strings.Fields(line); len(f) > 5 && f[4] == "/etc/"+name {
				facts = append(facts, container.Fact{Name: "mount", Value: f[3] + " on " + f[4] + " " + f[5], Source: fmt.Sprintf("/proc/%d/mountinfo", c.Pid)})
			}
		}
	}
	return facts
}
