package publish

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// Form is how a -publish spec is written.
const Form = "[hostIP:]hostPort:containerPort[/tcp|/udp], e.g. 8080:80, 127.0.0.1:8080:80 or 5353:53/udp"

// A Port is one -publish spec: the host's address (empty: every one), the
// host's port, the container's, and the protocol both share.
type Port struct {
	HostIP          string
	Host, Container int
	Proto           string // "tcp" or "udp"
}

func (p Port) String() string {
	s := fmt.Sprintf("%d:%d/%s", p.Host, p.Container, p.Proto)
	if p.HostIP != "" {
		s = p.HostIP + ":" + s
	}
	return s
}

// overlaps reports whether p and q claim the same host port: the same
// number and protocol, on the same address or on every address.
func (p Port) overlaps(q Port) bool {
	return p.Host == q.Host && p.Proto == q.Proto && (p.HostIP == "" || q.HostIP == "" || p.HostIP == q.HostIP)
}

// Loopback reports whether connections to 127.0.0.1 reach p: it is
// published on every address, or on a loopback one.
func (p Port) Loopback() bool { return p.HostIP == "" || net.ParseIP(p.HostIP).IsLoopback() }

// ParsePort reads one -publish spec.
func ParsePort(spec string) (Port, error) {
	bad := func(why string, args ...any) (Port, error) {
		return Port{}, container.Errorf(container.StatusRuntimeFailed, "-publish %s: %s: write %s", spec, fmt.Sprintf(why, args...), Form)
	}
	ports, proto, hasProto := strings.Cut(spec, "/")
	if !hasProto {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return bad("unknown protocol %q", proto)
	}
	var hostIP, host, cont string
	switch parts := strings.Split(ports, ":"); len(parts) {
	case 1:
		return bad("no colon between the host port and the container port")
	case 2:
		host, cont = parts[0], parts[1]
	case 3:
		hostIP, host, cont = parts[0], parts[1], parts[2]
		if hostIP == "" {
			return bad("missing the host address before the first colon (drop the colon to publish on every address)")
		}
	default:
		return bad("too many colons (IPv6 host addresses are not published)")
	}
	switch {
	case host == "":
		return bad("missing the host port")
	case cont == "":
		return bad("missing the container port")
	}
	p := Port{Proto: proto}
	if hostIP != "" {
		ip := net.ParseIP(hostIP)
		if ip == nil || ip.To4() == nil {
			return bad("%q is not an IPv4 address", hostIP)
		}
		p.HostIP = ip.String()
	}
	for _, half := range []struct {
		text string
		into *int
	}{{host, &p.Host}, {cont, &p.Container}} {
		n, err := strconv.Atoi(half.text)
		if err != nil {
			return bad("%q is not a port number", half.text)
		}
		if n < 1 || n > 65535 {
			return bad("port %d is out of range: ports are 1 to 65535", n)
		}
		*half.into = n
	}
	return p, nil
}

// parsePorts reads a list of specs, as given on the command line or saved
// in the state (space-separated), and refuses a host port given twice.
func parsePorts(specs []string) ([]Port, error) {
	var ports []Port
	for _, spec := range specs {
		p, err := ParsePort(spec)
		if err != nil {
			return nil, err
		}
		for _, q := range ports {
			if p.overlaps(q) {
				return nil, container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %d/%s is published twice: give each host port once", spec, p.Host, p.Proto)
			}
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// saved is the container's published ports as ReservePorts recorded them.
func saved(c *container.Container) []Port {
	ports, _ := parsePorts(strings.Fields(c.Resources["ports"]))
	return ports
}

// ReservePorts runs on the host before the clone. Under a lock, it refuses
// a host port that another container publishes or a host process listens
// on, then records the ports: from then on, no other runtime takes them.
func ReservePorts(c *container.Container) error {
	if len(c.Config.Publish) == 0 {
		return nil
	}
	if c.Rootless && c.Config.Net != veth.Pasta {
		return container.Errorf(container.StatusRuntimeFailed, "-publish %s needs root: it is iptables rules on the host, and a veth pair to reach: use -net pasta (ports without root), or run as root (sudo)", c.Config.Publish[0])
	}
	if c.Config.Net == "none" {
		return container.Errorf(container.StatusRuntimeFailed, "-publish needs the container's network: drop -net none")
	}
	ports, err := parsePorts(c.Config.Publish)
	if err != nil {
		return err
	}
	c.Trace("flock %s/port.lock", container.StateRoot)
	unlock, err := container.Lock("port.lock")
	if err != nil {
		return err
	}
	defer unlock()
	c.Trace("read %s/*/state.json: the ports other containers publish", container.StateRoot)
	all, err := container.List()
	if err != nil {
		return fmt.Errorf("list containers to check published ports: %w", err)
	}
	var specs []string
	for _, p := range ports {
		if owner := publishedBy(all, p); owner != "" {
			return container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %d/%s is published by container %s: choose another host port (scratchcontainer ps lists them)", p, p.Host, p.Proto, owner)
		}
		c.Trace("bind(%s %s:%d), close: does a host process listen on it?", p.Proto, p.HostIP, p.Host)
		err := hostFree(p)
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return container.Errorf(container.StatusRuntimeFailed, "-publish %s: %s is not an address of this host: give one of its addresses (ip -4 addr lists them), or none for every one", p, p.HostIP)
		}
		if errors.Is(err, unix.EADDRINUSE) {
			return container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %d/%s: a process on the host listens on it: choose another host port, or stop it (ss -lnp 'sport = :%d' shows which)", p, p.Host, p.Proto, p.Host)
		}
		if err != nil {
			return fmt.Errorf("-publish %s: bind host port %d/%s to check it is free: %w", p, p.Host, p.Proto, err)
		}
		specs = append(specs, p.String())
	}
	if err := c.Record("ports", strings.Join(specs, " ")); err != nil {
		return err
	}
	if c.Config.Net == veth.Pasta {
		return c.Record(veth.PastaPorts, pastaOptions(ports)) // pasta.go
	}
	return nil
}

// publishedBy is the ID of the container that publishes p's host port, if
// any. A container whose runtime died keeps its ports until gc, as its
// rules stay until then.
func publishedBy(all []*container.Container, p Port) string {
	for _, other := range all {
		for _, q := range saved(other) {
			if q.overlaps(p) {
				return other.ID
			}
		}
	}
	return ""
}

// hostFree tries to bind the host port on its address (every address if
// none), as a server would: if that works, no host process listens on it.
// The DNAT rules would otherwise silently steal the port's new connections
// from that process.
func hostFree(p Port) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.Host))
	if p.Proto == "udp" {
		conn, err := net.ListenPacket("udp", addr)
		if err == nil {
			conn.Close()
		}
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
	}
	return err
}
