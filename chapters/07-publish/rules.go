package publish

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// DNATChain holds one DNAT rule per published port, for new connections to
// the host's own addresses, from wherever they come. One rule, not one in
// PREROUTING and one in OUTPUT: with the nft backend each delete waits for
// the kernel's RCU grace period, and the container's release waits for its
// deletes.
const DNATChain = "SCRATCH-DNAT"

// dnat is the rule that sends new connections to host port p.Host on to
// the container's port.
func dnat(id string, p Port, address string) []string {
	return []string{
		"-p", p.Proto, "--dport", strconv.Itoa(p.Host),
		"-m", "comment", "--comment", Comment(id),
		"-j", "DNAT", "--to-destination", net.JoinHostPort(address, strconv.Itoa(p.Container)),
	}
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
