package cgroups

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"scratchcontainer/runtime/container"
)

func TestAncestors(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "pids/made-by-caller"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "pids/scratchcontainer"), 0o755))
	got := ancestors([]string{filepath.Join(root, "pids/made-by-caller/new/deeper/ctr")}, "made-by-caller/new/deeper/ctr")
	assert.Equal(t, []string{filepath.Join(root, "pids/made-by-caller/new/deeper"), filepath.Join(root, "pids/made-by-caller/new")}, got,
		"the missing ones, deepest first; never made-by-caller/")
	got = ancestors([]string{filepath.Join(root, "pids/scratchcontainer/abc")}, "scratchcontainer/abc")
	assert.Equal(t, []string{filepath.Join(root, "pids/scratchcontainer")}, got, "the runtime's own, though it exists")
}

func TestCheckPath(t *testing.T) {
	for given, want := range map[string]string{
		"":                         "",
		"/sc-test/ctr":             "",
		"machine.slice:libpod:abc": `the systemd cgroup driver is not supported: use cgroup_manager = "cgroupfs"`,
		"/":                        "is the root cgroup",
		"/..":                      "is the root cgroup",
	} {
		err := checkPath(&container.Container{ID: "abc", Config: container.Config{CgroupsPath: given}})
		if want == "" {
			assert.NoError(t, err, given)
		} else {
			assert.ErrorContains(t, err, want, given)
		}
	}
}
