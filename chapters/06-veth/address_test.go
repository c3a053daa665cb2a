package veth

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"scratchcontainer/runtime/container"
)

func holding(addrs ...string) []*container.Container {
	var all []*container.Container
	for _, a := range addrs {
		all = append(all, &container.Container{Resources: map[string]string{"address": a}})
	}
	return all
}

func TestFreeAddressTakesTheFirstHole(t *testing.T) {
	addr, err := FreeAddress(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "172.22.1.2/24", addr)

	addr, err = FreeAddress(holding("172.22.1.2/24", "172.22.3.2/24"), nil)
	require.NoError(t, err)
	assert.Equal(t, "172.22.2.2/24", addr)

	// -net none and earlier chapters hold no address.
	all := append(holding("172.22.1.2/24"), &container.Container{})
	addr, err = FreeAddress(all, nil)
	require.NoError(t, err)
	assert.Equal(t, "172.22.2.2/24", addr)
}

func TestFreeAddressSkipsAPairStillOnTheHost(t *testing.T) {
	// The kernel has not yet removed the pair of a container that just exited.
	onHost := []net.Addr{&net.IPNet{IP: net.IPv4(172, 22, 1, 1), Mask: net.CIDRMask(24, 32)}}
	addr, err := FreeAddress(nil, onHost)
	require.NoError(t, err)
	assert.Equal(t, "172.22.2.2/24", addr)
}

func TestFreeAddressWhenThePoolIsFull(t *testing.T) {
	var addrs []string
	for n := 1; n <= 254; n++ {
		addrs = append(addrs, fmt.Sprintf("172.22.%d.2/24", n))
	}
	_, err := FreeAddress(holding(addrs...), nil)
	assert.ErrorContains(t, err, "no free address in 172.22.0.0/16")
	assert.ErrorContains(t, err, "scratchcontainer gc")
}

func TestAddressesOfTheGatewayAndEth0(t *testing.T) {
	c := &container.Container{ID: "0123456789ab", Resources: map[string]string{"address": "172.22.7.2/24"}}
	gw, inside, err := addresses(c)
	require.NoError(t, err)
	assert.Equal(t, "172.22.7.1/24", gw.IPNet.String())
	assert.Equal(t, "172.22.7.2/24", inside.IPNet.String())
	assert.Equal(t, "sc-01234567", HostLink(c.ID))
}
