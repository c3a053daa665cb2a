package publish

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"scratchcontainer/runtime/container"
)

func TestParsePort(t *testing.T) {
	for spec, want := range map[string]Port{
		"8080:80":             {Host: 8080, Container: 80, Proto: "tcp"},
		"15789:1433":          {Host: 15789, Container: 1433, Proto: "tcp"},
		"5353:53/udp":         {Host: 5353, Container: 53, Proto: "udp"},
		"1:65535/tcp":         {Host: 1, Container: 65535, Proto: "tcp"},
		"18080:80/tcp":        {Host: 18080, Container: 80, Proto: "tcp"},
		"127.0.0.1:18080:80":  {HostIP: "127.0.0.1", Host: 18080, Container: 80, Proto: "tcp"},
		"192.0.2.1:53:53/udp": {HostIP: "192.0.2.1", Host: 53, Container: 53, Proto: "udp"},
	} {
		got, err := ParsePort(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, want, got, spec)
	}
}

func TestParsePortRefusesBadSpecs(t *testing.T) {
	for spec, why := range map[string]string{
		"0:80":              "port 0 is out of range",
		"8080:0":            "port 0 is out of range",
		"70000:80":          "port 70000 is out of range",
		"http:80":           `"http" is not a port number`,
		"8080:-1":           "port -1 is out of range",
		"8080":              "no colon",
		":80":               "missing the host port",
		"8080:":             "missing the container port",
		"8080:80/sctp":      `unknown protocol "sctp"`,
		"8080:80/":          `unknown protocol ""`,
		"localhost:8080:80": `"localhost" is not an IPv4 address`,
		"::1:8080:80":       "too many colons",
		":8080:80":          "missing the host address",
	} {
		_, err := ParsePort(spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), "-publish "+spec+": "+why, spec)
		assert.Contains(t, err.Error(), "write [hostIP:]hostPort:containerPort[/tcp|/udp]", spec)
		assert.Equal(t, container.StatusRuntimeFailed, container.StatusOf(err), spec)
	}
}

func TestParsePortsRefusesAHostPortTwice(t *testing.T) {
	_, err := parsePorts([]string{"8080:80", "8080:81"})
	assert.ErrorContains(t, err, "host port 8080/tcp is published twice")

	// Every address includes 127.0.0.1; two addresses are two ports.
	_, err = parsePorts([]string{"8080:80", "127.0.0.1:8080:81"})
	assert.ErrorContains(t, err, "host port 8080/tcp is published twice")
	ports, err := parsePorts([]string{"127.0.0.1:8080:80", "192.0.2.1:8080:80"})
	require.NoError(t, err)
	assert.Len(t, ports, 2)
	assert.Equal(t, "127.0.0.1:8080:80/tcp", ports[0].String())

	// The same number over TCP and UDP are two ports.
	ports, err = parsePorts([]string{"5353:53", "5353:53/udp"})
	require.NoError(t, err)
	assert.Len(t, ports, 2)
}

func TestRuleSpecStripsTheQuotesOfTheNftBackend(t *testing.T) {
	listed := `-A SCRATCH-DNAT -p tcp -m tcp --dport 18080 -m comment --comment "scratchcontainer:0123456789ab" -j DNAT --to-destination 172.22.1.2:80`
	assert.Equal(t, []string{"-p", "tcp", "-m", "tcp", "--dport", "18080", "-m", "comment", "--comment", "scratchcontainer:0123456789ab", "-j", "DNAT", "--to-destination", "172.22.1.2:80"}, ruleSpec(listed))
}

func TestPublishedBy(t *testing.T) {
	all := []*container.Container{
		{ID: "aaaaaaaaaaaa", Resources: map[string]string{"ports": "8080:80/tcp 5353:53/udp"}},
		{ID: "bbbbbbbbbbbb"},
	}
	assert.Equal(t, "aaaaaaaaaaaa", publishedBy(all, Port{Host: 8080, Container: 1, Proto: "tcp"}))
	assert.Equal(t, "aaaaaaaaaaaa", publishedBy(all, Port{Host: 5353, Container: 1, Proto: "udp"}))
	assert.Equal(t, "", publishedBy(all, Port{Host: 5353, Container: 1, Proto: "tcp"}))
}
