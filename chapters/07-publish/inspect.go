package publish

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/coreos/go-iptables/iptables"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// Inspect shows, for `scratchcontainer inspect`, the published ports, the
// route_localnet switch of the host's end, and the DNAT rules that carry
// the container's comment, as iptables lists them.
func Inspect(c *container.Container) []container.Fact {
	ports := saved(c)
	if len(ports) == 0 {
		return []container.Fact{{Name: "published", Value: "none"}}
	}
	var facts []container.Fact
	for _, p := range ports {
		facts = append(facts, container.Fact{Name: "published", Value: p.String(), Source: "state.json"})
	}
	if c.Config.Net == veth.Pasta {
		return append(facts, container.Fact{Name: "by", Value: "pasta " + c.Resources[veth.PastaPorts] + " (no iptables rule)", Source: "state.json"})
	}
	localnet := filepath.Join("/proc/sys/net/ipv4/conf", veth.HostLink(c.ID), "route_localnet")
	b, _ := os.ReadFile(localnet)
	facts = append(facts, container.Fact{Name: "route_localnet", Value: strings.TrimSpace(string(b)), Source: localnet})
	ipt, err := iptables.New()
	if err != nil {
		return append(facts, container.Fact{Name: "iptables", Value: err.Error()})
	}
	rules, err := ipt.List("nat", DNATChain)
	if err != nil {
		return append(facts, container.Fact{Name: "rule", Value: err.Error()})
	}
	for _, rule := range rules {
		if strings.Contains(rule, Comment(c.ID)) {
			facts = append(facts, container.Fact{Name: "rule", Value: "-t nat " + rule, Source: "iptables -t nat -S " + DNATChain})
		}
	}
	return facts
}
