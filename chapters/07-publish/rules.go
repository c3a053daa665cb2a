package publish

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// DNATChain holds one DNAT rule per published port, for new connections to
// the host's own addresses, from wherever they come. One rule, not one in
// PREROUTING and one in OUTPUT: with the nft backend each delete waits for
// the kernel's RCU grace period, and the container's release waits for its
// deletes.
const DNATChain = "SCRATCH-DNAT"

// dnatRules are the container's own rules: one DNAT rule per port.
func dnatRules(c *container.Container, ports []Port) []veth.Rule {
	address, _, _ := strings.Cut(c.Resources["address"], "/")
	var rules []veth.Rule
	for _, p := range ports {
		rules = append(rules, veth.Rule{Table: "nat", Chain: DNATChain, Spec: dnat(c.ID, p, address)})
	}
	return rules
}

// loopback reports whether 127.0.0.1 reaches one of ports.
func loopback(ports []Port) bool {
	for _, p := range ports {
		if p.Loopback() {
			return true
		}
	}
	return false
}

// dnat is the rule that sends new connections to host port p.Host (on
// p.HostIP only, if given) on to the container's port.
func dnat(id string, p Port, address string) []string {
	var rule []string
	if p.HostIP != "" {
		rule = []string{"-d", p.HostIP}
	}
	return append(rule,
		"-p", p.Proto, "--dport", strconv.Itoa(p.Host),
		"-m", "comment", "--comment", Comment(id),
		"-j", "DNAT", "--to-destination", net.JoinHostPort(address, strconv.Itoa(p.Container)),
	)
}

// Comment is the comment every iptables rule of container id carries: how
// Unpublish, gc and the tests find exactly its rules.
func Comment(id string) string { return "scratchcontainer:" + id }

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

// removeByComment deletes every rule of DNATChain that carries the
// container's comment, as iptables lists them, one iptables each: it needs
// nothing but the ID, and finds what the saved ports do not describe.
func removeByComment(c *container.Container) error {
	c.Trace("iptables --version: which iptables, which backend")
	ipt, err := iptables.New()
	if err != nil {
		return fmt.Errorf("iptables: %w", err)
	}
	c.Trace("flock %s/iptables.lock", container.StateRoot)
	unlock, err := veth.LockIPTables()
	if err != nil {
		return err
	}
	defer unlock()
	c.Trace("iptables -t nat -S %s", DNATChain)
	rules, err := ipt.List("nat", DNATChain)
	if err != nil && !notExist(err) {
		// iptables-nft fails differently ("chain is incompatible") when
		// the nat table itself was never made, as on a fresh machine.
		if exists, cerr := ipt.ChainExists("nat", DNATChain); cerr == nil && !exists {
			err = nil
		}
	}
	if notExist(err) || (err == nil && len(rules) == 0) {
		return nil // the shared rules were never made: neither were ours
	}
	if err != nil {
		return fmt.Errorf("iptables -t nat -S %s: %w", DNATChain, err)
	}
	var errs []error
	for _, rule := range rules {
		if !strings.Contains(rule, Comment(c.ID)) {
			continue
		}
		// gc may race us to the same rule: gone is fine.
		spec := ruleSpec(rule)
		c.Trace("iptables -t nat -D %s %s", DNATChain, spec)
		if err := ipt.Delete("nat", DNATChain, spec...); err != nil && !notExist(err) {
			errs = append(errs, fmt.Errorf("iptables -t nat -D %s: %w", DNATChain, err))
		}
	}
	return errors.Join(errs...)
}
