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
// DROP that a firewall or Docker put there. No argument holds a space: a
// rule goes to iptables-restore as one line.
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
// They name only the pool, so they are shared by every container and stay
// (see AddRules).
func natRules() []Rule {
	return []Rule{
		{Table: "nat", Chain: "SCRATCH-POSTROUTING", Spec: []string{"-s", Pool, "!", "-d", Pool, "-j", "MASQUERADE"}},
		{Table: "filter", Chain: "SCRATCH-FORWARD", Spec: []string{"-s", Pool, "-j", "ACCEPT"}},
		{Table: "filter", Chain: "SCRATCH-FORWARD", Spec: []string{"-d", Pool, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "ACCEPT"}},
		{Table: "nat", Chain: "POSTROUTING", Spec: []string{"-j", "SCRATCH-POSTROUTING"}, Top: true},
		{Table: "filter", Chain: "FORWARD", Spec: []string{"-j", "SCRATCH-FORWARD"}, Top: true},
	}
}

// AddRules makes sure the shared rules exist, once per host, and appends a
// container's own rules (own; none for chapter 06), under the lock.
//
// Each iptables command is a process of its own, and under the nft backend
// each is a kernel transaction of its own. So the common case is one
// iptables-restore: it checks every shared rule (-C) and appends own (-A),
// and a table's block is one transaction, all or nothing: if a shared rule
// is missing (the first container on this host, or a firewall flushed a
// table), nothing is added. Then, the slow way, it makes the SCRATCH-
// chains and whatever rule is missing with go-iptables, and appends own.
func AddRules(c *container.Container, shared, own []Rule) error {
	c.Trace("flock %s/iptables.lock", container.StateRoot)
	unlock, err := LockIPTables()
	if err != nil {
		return err
	}
	defer unlock()
	if err := Restore(c, append(ops("-C", shared), ops("-A", own)...)); err == nil {
		return nil
	}
	c.Trace("iptables --version: which iptables, which backend")
	ipt, err := iptables.New()
	if err != nil {
		return fmt.Errorf("iptables: %w (install the iptables package)", err)
	}
	if err := makeShared(c, ipt, shared); err != nil {
		return err
	}
	if len(own) == 0 {
		return nil
	}
	return Restore(c, ops("-A", own))
}

// RemoveRules deletes a container's own rules in one iptables-restore, under
// the lock: one transaction per table. It fails, and deletes nothing, if
// one of them is not there.
func RemoveRules(c *container.Container, own []Rule) error {
	c.Trace("flock %s/iptables.lock", container.StateRoot)
	unlock, err := LockIPTables()
	if err != nil {
		return err
	}
	defer unlock()
	return Restore(c, ops("-D", own))
}

// makeShared makes the SCRATCH- chains and the rules of rules that are
// missing, one iptables command each (go-iptables' AppendUnique is
// check-then-append: the caller holds the lock).
func makeShared(c *container.Container, ipt *iptables.IPTables, rules []Rule) error {
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
		var err error
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
// waits for the first: AddRules and RemoveRules take it themselves.
func LockIPTables() (unlock func(), err error) { return container.Lock("iptables.lock") }

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
