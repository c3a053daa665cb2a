package privileges

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		add, drop []string
		want      string
	}{
		{want: "00000000a80425fb"}, // Docker's
		{drop: []string{"ALL"}, want: "0000000000000000"},
		{drop: []string{"all"}, add: []string{"CAP_CHOWN", "kill"}, want: "0000000000000021"},
		{add: []string{"SYS_ADMIN"}, want: "00000000a82425fb"},
		{drop: []string{"NET_RAW"}, want: "00000000a80405fb"},
		{add: []string{"ALL"}, drop: []string{"MKNOD"}, want: fmt.Sprintf("%016x", uint64(AllCapabilities&^(1<<unix.CAP_MKNOD)))},
	} {
		got, err := Capabilities(container.Config{CapAdd: tc.add, CapDrop: tc.drop})
		require.NoError(t, err)
		assert.Equal(t, tc.want, got.Bounding.String(), "add %v drop %v", tc.add, tc.drop)
		assert.Equal(t, got.Bounding, got.Permitted)
		assert.Equal(t, got.Bounding, got.Effective)
		assert.Zero(t, got.Inheritable, "run empties the inheritable set")
		assert.Zero(t, got.Ambient, "run empties the ambient set")
	}
	all, err := Capabilities(container.Config{Privileged: true, CapDrop: []string{"ALL"}})
	require.NoError(t, err)
	assert.Equal(t, AllCapabilities, all.Bounding)
	assert.Equal(t, 14, DefaultCapabilities.Count())
	assert.Len(t, capabilityNames(), unix.CAP_LAST_CAP+1)

	_, err = Capabilities(container.Config{CapAdd: []string{"GODMODE"}})
	require.Error(t, err)
	assert.Equal(t, container.StatusRuntimeFailed, container.StatusOf(err))
	assert.Contains(t, err.Error(), "-cap-add GODMODE: no such capability; use ALL or one of CHOWN DAC_OVERRIDE")
}

func TestCapabilitiesFromConfigJSON(t *testing.T) {
	oci := &container.CapabilitySets{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL"},
		Inheritable: []string{"CAP_KILL", "CAP_NET_RAW"},
		Ambient:     []string{"CAP_KILL"},
	}
	got, err := Capabilities(container.Config{Capabilities: oci})
	require.NoError(t, err)
	assert.Equal(t, Sets{Bounding: 0x2021, Effective: 0x21, Permitted: 0x21, Inheritable: 0x2020, Ambient: 0x20}, got)

	for _, tc := range []struct {
		sets container.CapabilitySets
		want string
	}{
		{container.CapabilitySets{Bounding: []string{"GODMODE"}}, "process.capabilities.bounding GODMODE: no such capability"},
		{container.CapabilitySets{Bounding: []string{"ALL"}}, "process.capabilities.bounding: ALL: name each capability"},
		{container.CapabilitySets{Effective: []string{"CAP_KILL"}}, "process.capabilities.effective: [CAP_KILL] not permitted"},
		{container.CapabilitySets{Inheritable: []string{"CAP_KILL"}}, "process.capabilities.inheritable: [CAP_KILL] not in the bounding set"},
		{container.CapabilitySets{Bounding: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}}, "process.capabilities.ambient: [CAP_KILL] not both permitted and inheritable"},
	} {
		_, err := Capabilities(container.Config{Capabilities: &tc.sets})
		require.Error(t, err)
		assert.Equal(t, container.StatusRuntimeFailed, container.StatusOf(err))
		assert.Contains(t, err.Error(), tc.want)
	}
}

// refuses reports whether the filter has a rule for call number nr.
func refuses(prog []bpf.Instruction, nr uint32) bool {
	for _, ins := range prog {
		if j, ok := ins.(bpf.JumpIf); ok && j.Cond == bpf.JumpEqual && j.Val == nr {
			return true
		}
	}
	return false
}

func TestFilterFollowsCapabilities(t *testing.T) {
	def := Filter(DefaultCapabilities)
	admin := Filter(DefaultCapabilities | 1<<unix.CAP_SYS_ADMIN)
	assert.True(t, refuses(def, unix.SYS_MOUNT))
	assert.False(t, refuses(admin, unix.SYS_MOUNT), "SYS_ADMIN lets mount through")
	assert.True(t, refuses(admin, unix.SYS_KEYCTL), "keyctl is refused to any capability")
	assert.True(t, refuses(def, unix.SYS_CLONE))
	assert.False(t, refuses(admin, unix.SYS_CLONE))
	_, err := bpf.Assemble(def)
	require.NoError(t, err)
	assert.Equal(t, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW}, def[len(def)-1])
}

func TestDeviceRules(t *testing.T) {
	rules := allowedDevices()
	assert.Equal(t, "c *:* m", rules[0].String())
	assert.Equal(t, "c 1:3 rwm", rules[2].String())
	prog := deviceProgram(rules)
	assert.Zero(t, len(prog)%8, "eBPF instructions are 8 bytes")
	assert.Equal(t, byte(unix.BPF_JMP|unix.BPF_EXIT), prog[len(prog)-8], "ends with exit")
}
