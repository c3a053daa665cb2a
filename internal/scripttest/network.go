package scripttest

import (
	"fmt"
	"net"
	"os/exec"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"scratchcontainer/runtime/container"
)

// outside: make a simulated outside host for this script: a network
// namespace linked to the host by a veth pair the script owns, on a /30 of
// 198.51.100.0/24 (TEST-NET-2, never routed on the internet) that no other
// script uses at the moment. It sets
//
//	$OUTSIDE_NS    the namespace, for ip netns exec
//	$OUTSIDE       the outside host's address (198.51.100.2 for the first)
//	$OUTSIDE_GW    the host's address on the link (198.51.100.1)
//	$OUTSIDE_LINK  the host's end of the link
//
// The namespace and the link are removed when the script ends, pass or fail.
func cmdOutside(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: outside")
	}
	name := ts.Getenv("NAME") + "-out" // unique per script, at most 15 characters
	// Serialise picking a subnet among all the test binaries that run at
	// once (each chapter's and the root's).
	unlock, err := container.Lock("outside.lock")
	ts.Check(err)
	defer unlock()

	gw, out, err := freeTestNet()
	ts.Check(err)
	ip := func(args ...string) {
		if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			ts.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, b)
		}
	}
	ts.Defer(func() {
		exec.Command("ip", "link", "del", name).Run()
		exec.Command("ip", "netns", "del", name).Run()
	})
	ip("netns", "add", name)
	ip("link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", name)
	ip("addr", "add", gw+"/30", "dev", name)
	ip("link", "set", name, "up")
	ip("-n", name, "link", "set", "lo", "up")
	ip("-n", name, "addr", "add", out+"/30", "dev", "eth0")
	ip("-n", name, "link", "set", "eth0", "up")
	ip("-n", name, "route", "add", "default", "via", gw)
	ts.Setenv("OUTSIDE_NS", name)
	ts.Setenv("OUTSIDE_LINK", name)
	ts.Setenv("OUTSIDE_GW", gw)
	ts.Setenv("OUTSIDE", out)
}

// freeTestNet picks the first /30 of 198.51.100.0/24 with no address on
// this host: .1 for the host's end, .2 for the outside host.
func freeTestNet() (gw, out string, err error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", "", err
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok {
			used[ipnet.IP.String()] = true
		}
	}
	for base := 0; base < 256; base += 4 {
		gw = fmt.Sprintf("198.51.100.%d", base+1)
		if !used[gw] {
			return gw, fmt.Sprintf("198.51.100.%d", base+2), nil
		}
	}
	return "", "", fmt.Errorf("every /30 of 198.51.100.0/24 is in use on this host: remove stale test links (ip -o addr | grep 198.51.100)")
}

// freeport VAR...: set each VAR to a port free on the host for TCP and UDP,
// and published by no container, so that scripts running at once (a
// chapter's suite and the root package's) never ask for the same one.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport VAR...")
	}
	taken := map[string]bool{}
	all, err := container.List()
	ts.Check(err)
	for _, c := range all {
		for _, spec := range strings.Fields(c.Resources["ports"]) {
			parts := strings.Split(spec, ":") // [hostIP:]host:container/proto
			host := parts[len(parts)-2]
			taken[host] = true
		}
	}
	for _, name := range args {
		for tries := 0; ; tries++ {
			if tries == 100 {
				ts.Fatalf("freeport: no free port after 100 tries")
			}
			l, err := net.Listen("tcp", ":0")
			ts.Check(err)
			port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
			udp, err := net.ListenPacket("udp", ":"+port)
			l.Close()
			if err != nil || taken[port] {
				continue
			}
			udp.Close()
			taken[port] = true
			ts.Setenv(name, port)
			break
		}
	}
}
