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
// Man pages: iptables(8), iptables-extensions(8) (DNAT, MASQUERADE,
// addrtype, conntrack, comment), ip-sysctl (route_localnet), flock(2), bind(2).
package publish

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"golang.org/x/sys/unix"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// Chapter is chapter 07.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "publish",
		Capability: "published ports: host port to container port, from anywhere",
		Prepare:    ReservePorts,
		Attach:     Publish,
		Release:    Unpublish,
	}
}

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
	unlock, err := container.Lock("port.lock")
	if err != nil {
		return err
	}
	defer unlock()
	all, err := container.List()
	if err != nil {
		return fmt.Errorf("list containers to check published ports: %w", err)
	}
	var specs []string
	for _, p := range ports {
		if owner := publishedBy(all, p); owner != "" {
			return container.Errorf(container.StatusRuntimeFailed, "-publish %s: host port %d/%s is published by container %s: choose another host port (scratchcontainer ps lists them)", p, p.Host, p.Proto, owner)
		}
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

// sharedRules are the rules every published port needs, whichever the
// container. They name only the pool and loopback, so they are made once
// and stay; the jumps from the built-in chains come last (veth.EnsureShared
// checks the last one).
func sharedRules() []veth.Rule {
	return []veth.Rule{
		// Connections the host makes to 127.0.0.1 leave with that
		// source: the container would answer to its own loopback.
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", "127.0.0.0/8", "-d", veth.Pool, "-j", "MASQUERADE"}},
		// Hairpin: a container reaching a published port of its own
		// would get the answer straight from itself, not from the
		// address it asked, and drop it.
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", veth.Pool, "-d", veth.Pool, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"}},
		// CVE-2020-8558: with route_localnet on, a neighbour on the link
		// could send to 127.0.0.1 and reach the host's loopback
		// services. Answers to connections we made are fine.
		{Table: "filter", Chain: "SCRATCH-INPUT", Spec: []string{"-d", "127.0.0.0/8", "!", "-i", "lo", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"}},
		// Only traffic to one of the host's own addresses is published.
		// PREROUTING sees new connections from elsewhere (other hosts,
		// containers), OUTPUT the host's own: both go to one chain.
		{Table: "nat", Chain: "PREROUTING", Spec: []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", DNATChain}, Top: true},
		{Table: "nat", Chain: "OUTPUT", Spec: []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", DNATChain}, Top: true},
		{Table: "filter", Chain: "INPUT", Spec: []string{"-j", "SCRATCH-INPUT"}, Top: true},
	}
}

// DNATChain holds one DNAT rule per published port, for new connections to
// the host's own addresses, from wherever they come. One rule, not one in
// PREROUTING and one in OUTPUT: with the nft backend each delete waits for
// the kernel's RCU grace period (about 18 ms here), and the container's
// release waits for its deletes.
const DNATChain = "SCRATCH-DNAT"

// Publish runs on the host once the veth pair exists: it lets the host end
// carry 127.0.0.1, makes sure the shared rules exist, and adds the
// container's DNAT rules.
func Publish(c *container.Container) error {
	ports := saved(c)
	if len(ports) == 0 {
		return nil
	}
	link := veth.HostLink(c.ID)
	localnet := filepath.Join("/proc/sys/net/ipv4/conf", link, "route_localnet")
	if err := os.WriteFile(localnet, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("let %s route 127.0.0.1: write %s: %w", link, localnet, err)
	}
	ipt, err := iptables.New()
	if err != nil {
		return fmt.Errorf("iptables: %w (install the iptables package)", err)
	}
	if err := veth.EnsureShared(ipt, sharedRules()); err != nil {
		return err
	}
	address, _, _ := strings.Cut(c.Resources["address"], "/")
	for _, p := range ports {
		if err := ipt.Append("nat", DNATChain, dnat(c.ID, p, address)...); err != nil {
			return fmt.Errorf("publish %s: iptables -t nat -A %s: %w", p, DNATChain, err)
		}
	}
	return nil
}

// dnat is the rule that sends new connections to host port p.Host on to
// the container's port.
func dnat(id string, p Port, address string) []string {
	return []string{
		"-p", p.Proto, "--dport", strconv.Itoa(p.Host),
		"-m", "comment", "--comment", comment(id),
		"-j", "DNAT", "--to-destination", net.JoinHostPort(address, strconv.Itoa(p.Container)),
	}
}

func comment(id string) string { return "scratchcontainer:" + id }

// Unpublish runs on the host after exit, and again from gc: it deletes
// every rule that carries the container's comment, as iptables lists them,
// so it needs nothing but the ID and finds rules a crash left unrecorded.
// Connections still open through a port die with the container.
func Unpublish(c *container.Container) error {
	if len(saved(c)) == 0 {
		return nil // nothing was published, so no rule was made
	}
	ipt, err := iptables.New()
	if err != nil {
		return fmt.Errorf("iptables: %w", err)
	}
	rules, err := ipt.List("nat", DNATChain)
	if notExist(err) {
		return nil // the shared rules were never made: neither were ours
	}
	if err != nil {
		return fmt.Errorf("iptables -t nat -S %s: %w", DNATChain, err)
	}
	var errs []error
	for _, rule := range rules {
		if !strings.Contains(rule, comment(c.ID)) {
			continue
		}
		// gc may race us to the same rule: gone is fine.
		if err := ipt.Delete("nat", DNATChain, ruleSpec(rule)...); err != nil && !notExist(err) {
			errs = append(errs, fmt.Errorf("iptables -t nat -D %s: %w", DNATChain, err))
		}
	}
	return errors.Join(errs...)
}

// notExist reports whether iptables failed because the chain or rule is
// not there.
func notExist(err error) bool {
	var e *iptables.Error
	return errors.As(err, &e) && e.IsNotExist()
}

// ruleSpec turns a rule as `iptables -S` prints it ("-A CHAIN -p tcp ...")
// back into the arguments of the rule. The nft backend prints a comment in
// quotes; handed back as is, the quotes become part of the comment, and
// the delete silently matches nothing. Our comments have no spaces.
func ruleSpec(listed string) []string {
	fields := strings.Fields(listed)[2:]
	for i, f := range fields {
		fields[i] = strings.Trim(f, `"`)
	}
	return fields
}
