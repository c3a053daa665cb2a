package cgroups_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cgroups "scratchcontainer/chapters/05-cgroups"
	"scratchcontainer/runtime/container"
)

func cpus() int { return runtime.NumCPU() }

var limits = cgroups.Limits{CPUQuota: 40_000, CPUPeriod: 100_000, Memory: 2 << 30, Pids: 1024}

// fakeKernel adds the files the kernel would show in a new cgroup dir:
// only those the drivers check for before writing.
func fakeKernel(t *testing.T, dir string, files ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestV1Create(t *testing.T) {
	root := t.TempDir()
	for _, ctrl := range []string{"cpu", "memory", "pids"} {
		fakeKernel(t, filepath.Join(root, ctrl))
	}
	fakeKernel(t, filepath.Join(root, "memory/scratchcontainer/abc"), "memory.memsw.limit_in_bytes")
	v1 := cgroups.V1{Root: root}
	require.NoError(t, v1.Create(&container.Container{ID: "abc"}, "scratchcontainer/abc", limits))

	assert.Equal(t, []string{
		filepath.Join(root, "cpu/scratchcontainer/abc"),
		filepath.Join(root, "memory/scratchcontainer/abc"),
		filepath.Join(root, "pids/scratchcontainer/abc"),
	}, v1.Dirs("scratchcontainer/abc"))
	for file, want := range map[string]string{
		"cpu/scratchcontainer/abc/cpu.cfs_period_us":              "100000",
		"cpu/scratchcontainer/abc/cpu.cfs_quota_us":               "40000",
		"memory/scratchcontainer/abc/memory.limit_in_bytes":       "2147483648",
		"memory/scratchcontainer/abc/memory.memsw.limit_in_bytes": "2147483648",
		"pids/scratchcontainer/abc/pids.max":                      "1024",
	} {
		assert.Equal(t, want, read(t, filepath.Join(root, file)), file)
	}
}

func TestV1WithoutSwapAccounting(t *testing.T) {
	root := t.TempDir()
	for _, ctrl := range []string{"cpu", "memory", "pids"} {
		fakeKernel(t, filepath.Join(root, ctrl))
	}
	require.NoError(t, cgroups.V1{Root: root}.Create(&container.Container{ID: "abc"}, "scratchcontainer/abc", limits))
	assert.NoFileExists(t, filepath.Join(root, "memory/scratchcontainer/abc/memory.memsw.limit_in_bytes"))
}

func TestV1MissingController(t *testing.T) {
	root := t.TempDir()
	fakeKernel(t, filepath.Join(root, "cpu"))
	err := cgroups.V1{Root: root}.Create(&container.Container{ID: "abc"}, "scratchcontainer/abc", limits)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mkdir "+filepath.Join(root, "memory/scratchcontainer"))
}

func TestV1OOMKills(t *testing.T) {
	root := t.TempDir()
	v1 := cgroups.V1{Root: root}
	dir := filepath.Join(root, "memory/scratchcontainer/abc")
	fakeKernel(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.oom_control"), []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"), 0o644))
	n, err := v1.OOMKills("scratchcontainer/abc")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// An old kernel without the oom_kill line: no kill reported, even with
	// a failcnt (page-cache reclaim at the limit counts there too).
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.oom_control"), []byte("oom_kill_disable 0\nunder_oom 0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.failcnt"), []byte("37\n"), 0o644))
	n, err = v1.OOMKills("scratchcontainer/abc")
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func TestV2Create(t *testing.T) {
	root := t.TempDir()
	fakeKernel(t, filepath.Join(root, "scratchcontainer/abc"), "memory.swap.max")
	v2 := cgroups.V2{Root: root}
	require.NoError(t, v2.Create(&container.Container{ID: "abc"}, "scratchcontainer/abc", limits))

	assert.Equal(t, []string{filepath.Join(root, "scratchcontainer/abc")}, v2.Dirs("scratchcontainer/abc"))
	for file, want := range map[string]string{
		"cgroup.subtree_control":                  "+cpu +memory +pids",
		"scratchcontainer/cgroup.subtree_control": "+cpu +memory +pids",
		"scratchcontainer/abc/cpu.max":            "40000 100000",
		"scratchcontainer/abc/memory.max":         "2147483648",
		"scratchcontainer/abc/memory.swap.max":    "0",
		"scratchcontainer/abc/pids.max":           "1024",
	} {
		assert.Equal(t, want, read(t, filepath.Join(root, file)), file)
	}
	// No internal processes: nothing was put in scratchcontainer/ itself.
	assert.NoFileExists(t, filepath.Join(root, "scratchcontainer/cgroup.procs"))
}

func TestV2OOMKills(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scratchcontainer/abc")
	fakeKernel(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.events"), []byte("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"), 0o644))
	n, err := cgroups.V2{Root: root}.OOMKills("scratchcontainer/abc")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestDetect(t *testing.T) {
	d, err := cgroups.Detect()
	if err != nil {
		t.Skip("no cgroup file system here:", err)
	}
	if _, hybrid := os.Stat("/sys/fs/cgroup/memory"); hybrid == nil {
		assert.IsType(t, cgroups.V1{}, d)
	} else {
		assert.IsType(t, cgroups.V2{}, d)
	}
}

func TestRemoveIsIdempotent(t *testing.T) {
	root := t.TempDir()
	v2 := cgroups.V2{Root: root}
	require.NoError(t, v2.Create(&container.Container{ID: "abc"}, "scratchcontainer/abc", limits))
	c := &container.Container{ID: "abc", Resources: map[string]string{"cgroup": v2.Dirs("scratchcontainer/abc")[0]}}
	// In a temp dir, the kernel's files are plain files: remove them as
	// rmdir on a cgroup would.
	for _, f := range []string{"cpu.max", "memory.max", "pids.max"} {
		require.NoError(t, os.Remove(filepath.Join(root, "scratchcontainer/abc", f)))
	}
	require.NoError(t, cgroups.Remove(c))
	assert.NoDirExists(t, filepath.Join(root, "scratchcontainer/abc"))
	require.NoError(t, cgroups.Remove(c), "a second Remove (gc) finds nothing and is fine")
}

func TestPath(t *testing.T) {
	for given, want := range map[string]string{
		"":                 "scratchcontainer/abc",
		"/sc-test/ctr":     "sc-test/ctr",
		"sc-test/ctr":      "sc-test/ctr",
		"/../a/./b//ctr/":  "a/b/ctr",
		"/libpod_parent/x": "libpod_parent/x",
	} {
		c := &container.Container{ID: "abc", Config: container.Config{CgroupsPath: given}}
		assert.Equal(t, want, cgroups.Path(c), given)
	}
}

func TestV2CreateNested(t *testing.T) {
	root := t.TempDir()
	fakeKernel(t, filepath.Join(root, "made-by-caller"))
	v2 := cgroups.V2{Root: root}
	require.NoError(t, v2.Create(&container.Container{ID: "abc"}, "made-by-caller/new/ctr", limits))
	// The controllers are enabled from the root down to the container's
	// parent, each before its child is made.
	for _, dir := range []string{".", "made-by-caller", "made-by-caller/new"} {
		assert.Equal(t, "+cpu +memory +pids", read(t, filepath.Join(root, dir, "cgroup.subtree_control")), dir)
	}
	assert.Equal(t, "1024", read(t, filepath.Join(root, "made-by-caller/new/ctr/pids.max")))
}

func TestRemoveOnlyItsAncestors(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "made-by-caller/new/ctr"), 0o755))
	c := &container.Container{ID: "abc", Resources: map[string]string{
		"cgroup":           filepath.Join(root, "made-by-caller/new/ctr"),
		"cgroup-ancestors": filepath.Join(root, "made-by-caller/new"),
	}}
	require.NoError(t, cgroups.Remove(c))
	assert.NoDirExists(t, filepath.Join(root, "made-by-caller/new"))
	assert.DirExists(t, filepath.Join(root, "made-by-caller"), "not the container's: it was there before")
}
