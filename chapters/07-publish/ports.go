package publish

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Form is how a -publish spec is written.
const Form = "hostPort:containerPort[/tcp|/udp], e.g. 8080:80 or 5353:53/udp"

// A Port is one -publish spec: the host's port, the container's, and the
// protocol both share.
type Port struct {
	Host, Container int
	Proto           string // "tcp" or "udp"
}

func (p Port) String() string { return fmt.Sprintf("%d:%d/%s", p.Host, p.Container, p.Proto) }

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
	host, cont, ok := strings.Cut(ports, ":")
	switch {
	case !ok:
		return bad("no colon between the host port and the container port")
	case host == "":
		return bad("missing the host port")
	case cont == "":
		return bad("missing the container port")
	}
	p := Port{Proto: proto}
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
	seen := map[string]bool{}
	for _, spec := range specs {
		p, err := ParsePort(spec)
		if err != nil {
			return nil, err
		}
		key := fmt.Sprintf("%d/%s", p.Host, p.Proto)
		if seen[key] {
			return nil, container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %s is published twice: give each host port once", spec, key)
		}
		seen[key] = true
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
		c.Trace("bind(%s :%d), close: does a host process listen on it?", p.Proto, p.Host)
		err := hostFree(p)
		if errors.Is(err, unix.EADDRINUSE) {
			return container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %d/%s: a process on the host listens on it: choose another host port, or stop it (ss -lnp 'sport = :%d' shows which)", p, p.Host, p.Proto, p.Host)
		}
		if err != nil {
			return fmt.Errorf("-publish %s: bind host port %d/%s to check it is free: %w", p, p.Host, p.Proto, err)
		}
		specs = append(specs, p.String())
	}
	return c.Record("ports", strings.Join(specs, " "))
}

// publishedBy is the ID of the container that publishes p's host port, if
// any. A container whose runtime died keeps its ports until gc, as its
// rules stay until then.
func publishedBy(all []*container.Container, p Port) string {
	for _, other := range all {
		for _, q := range saved(other) {
			if q.Host == p.Host && q.Proto == p.Proto {
				return other.ID
			}
		}
	}
	return ""
}

// hostFree tries to bind the host port on every address, as a server
// would: if that works, no host process listens on it. The DNAT rules would
// otherwise silently steal the port's new connections from that process.
func hostFree(p Port) error {
	addr := fmt.Sprintf(":%d", p.Host)
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
