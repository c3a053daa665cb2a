package veth

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRestoreInputIsOneBlockPerTable(t *testing.T) {
	rules := natRules()
	lines := append(ops("-C", rules), ops("-A", []Rule{{Table: "nat", Chain: "SCRATCH-DNAT", Spec: []string{"-p", "tcp", "--dport", "8080", "-j", "DNAT", "--to-destination", "172.22.1.2:80"}}})...)
	assert.Equal(t, `*nat
-C SCRATCH-POSTROUTING -s 172.22.0.0/16 ! -d 172.22.0.0/16 -j MASQUERADE
-C POSTROUTING -j SCRATCH-POSTROUTING
-A SCRATCH-DNAT -p tcp --dport 8080 -j DNAT --to-destination 172.22.1.2:80
COMMIT
*filter
-C SCRATCH-FORWARD -s 172.22.0.0/16 -j ACCEPT
-C SCRATCH-FORWARD -d 172.22.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
-C FORWARD -j SCRATCH-FORWARD
COMMIT
`, RestoreInput(lines))
}
