package cgroups

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSameHierarchy(t *testing.T) {
	procCgroup := "9:name=systemd:/\n8:pids:/user.slice\n4:memory:/process_api/7c\n1:cpu,cpuacct:/\n0::/\n"
	dirs := []string{"/sys/fs/cgroup/cpu/scratchcontainer/abc", "/sys/fs/cgroup/memory/scratchcontainer/abc", "/sys/fs/cgroup/pids/scratchcontainer/abc"}
	got, err := sameHierarchy(procCgroup, dirs)
	require.NoError(t, err)
	assert.Equal(t, []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory/process_api/7c", "/sys/fs/cgroup/pids/user.slice"}, got)

	_, err = sameHierarchy(procCgroup, []string{"/sys/fs/cgroup/devices/scratchcontainer/abc"})
	assert.ErrorContains(t, err, "no devices hierarchy")
}
