package veth

import (
	"fmt"
	"os"
	"strings"

	"github.com/coreos/go-iptables/iptables"

	"scratchcontainer/runtime/container"
)

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
// process of its own that reads the whole table, so the common case is
// one check per table: the table's last rule, added last, is there (a
// table is flushed whole, `iptables -t nat -F`, or not at all). Otherwise,
// under a lock (go-iptables' AppendUnique is check-then-append: two runtimes
// could both append), it makes the SCRATCH- chains and whatever is missing.
func EnsureShared(c *container.Container, ipt *iptables.IPTables, rules []Rule) error {
	if allThere(c, ipt, rules) {
		return nil
	}
	c.Trace("flock %s/iptables.lock", container.StateRoot)
	unlock, err := LockIPTables()
	if err != nil {
		return err
	}
	defer unlock()
	for _, r := range rules {
		if err := ensureChain(c, ipt, r.Table, r.Chain); err != nil {
			return err
		}
		for i, arg := range r.Spec[:len(r.Spec)-1] {
			if arg == "-j" { // a jump: its target must exist first
				if err := ensureChain(c, ipt, r.Table, r.Spec[i+1]); err != nil {
					return err
				}
			}
		}
		if r.Top {
			c.Trace("iptables -t %s -C %s %s, else -I %s 1", r.Table, r.Chain, r.Spec, r.Chain)
			err = ipt.InsertUnique(r.Table, r.Chain, 1, r.Spec...)
		} else {
			c.Trace("iptables -t %s -C %s %s, else -A %s", r.Table, r.Chain, r.Spec, r.Chain)
			err = ipt.AppendUnique(r.Table, r.Chain, r.Spec...)
		}
		if err != nil {
			return fmt.Errorf("iptables -t %s -A %s %s: %w", r.Table, r.Chain, strings.Join(r.Spec, " "), err)
		}
	}
	return nil
}

// LockIPTables serialises this host's iptables changes between runtimes:
// go-iptables' AppendUnique is check-then-append, and under the nft backend
// a listing that meets another runtime's change half made fails ("chain is
// incompatible"). Call unlock when done. A second Lock in the same process
// waits for the first: EnsureShared takes it itself, so call EnsureShared
// before taking it, never while holding it.
func LockIPTables() (unlock func(), err error) { return container.Lock("iptables.lock") }

// allThere checks the last rule of each table.
func allThere(c *container.Container, ipt *iptables.IPTables, rules []Rule) bool {
	last := map[string]Rule{}
	for _, r := range rules {
		last[r.Table] = r
	}
	for _, r := range last {
		c.Trace("iptables -t %s -C %s %s", r.Table, r.Chain, r.Spec)
		if ok, err := ipt.Exists(r.Table, r.Chain, r.Spec...); err != nil || !ok {
			return false
		}
	}
	return true
}

// ensureChain makes one of our chains; the built-in ones exist already.
func ensureChain(c *container.Container, ipt *iptables.IPTables, table, chain string) error {
	if !strings.HasPrefix(chain, "SCRATCH-") {
		return nil
	}
	c.Trace("iptables -t %s -S %s 1: is the chain there?", table, chain)
	if ok, err := ipt.ChainExists(table, chain); err != nil || ok {
		return err
	}
	c.Trace("iptables -t %s -N %s", table, chain)
	if err := ipt.NewChain(table, chain); err != nil {
		return fmt.Errorf("iptables -t %s -N %s: %w", table, chain, err)
	}
	return nil
}
