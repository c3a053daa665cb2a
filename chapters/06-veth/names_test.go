package veth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"scratchcontainer/runtime/container"
)

func TestResolvConfKeepsTheHostsServersSearchAndOptions(t *testing.T) {
	host := "# generated\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch example.org\noptions ndots:2\nnameserver 192.0.2.2\n"
	conf, err := ResolvConf([]byte(host), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "nameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch example.org\noptions ndots:2\n", conf)
}

func TestResolvConfReplacesALoopbackResolverWithItsUpstreams(t *testing.T) {
	stub := "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n"
	upstream := "nameserver 192.0.2.9\nsearch lan\n"
	conf, err := ResolvConf([]byte(stub), []byte(upstream), nil)
	require.NoError(t, err)
	assert.Equal(t, "nameserver 192.0.2.9\nsearch lan\n", conf)

	_, err = ResolvConf([]byte(stub), nil, nil)
	assert.EqualError(t, err, "/etc/resolv.conf names 127.0.0.53, a resolver on the host's loopback that the container cannot reach, and /run/systemd/resolve/resolv.conf lists no other: give one with -dns IP")
	assert.Equal(t, container.StatusRuntimeFailed, container.StatusOf(err))
}

func TestResolvConfWithoutAnyServer(t *testing.T) {
	_, err := ResolvConf([]byte("nameserver ::1\n"), nil, nil)
	assert.ErrorContains(t, err, "names no IPv4 nameserver for the container: give one with -dns IP")
}

func TestResolvConfFromDNSFlags(t *testing.T) {
	conf, err := ResolvConf([]byte("nameserver 127.0.0.53\n"), nil, []string{"198.51.100.2", "192.0.2.1"})
	require.NoError(t, err)
	assert.Equal(t, "nameserver 198.51.100.2\nnameserver 192.0.2.1\n", conf)

	for _, bad := range []string{"example.org", "2001:db8::1", "192.0.2"} {
		_, err := ResolvConf(nil, nil, []string{bad})
		assert.EqualError(t, err, "-dns "+bad+": not an IPv4 address: give a nameserver's address, e.g. -dns 192.0.2.53")
	}
}

func TestHosts(t *testing.T) {
	assert.Equal(t, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.22.3.2\tbox1\n", Hosts("box1", "172.22.3.2/24"))
	assert.Contains(t, Hosts("box1", ""), "127.0.1.1\tbox1\n")
}
