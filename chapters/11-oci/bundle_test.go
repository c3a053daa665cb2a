package oci

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"scratchcontainer/runtime/container"
)

// readConfig writes body as dir/config.json and reads it back as create does.
func readConfig(t *testing.T, body string) (container.Config, error) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "rootfs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o644))
	var cfg container.Config
	err := ReadBundle(dir, &cfg)
	return cfg, err
}

const newNamespaces = `"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]`

func TestReadBundleMapsWhatTheFlagsHave(t *testing.T) {
	cfg, err := readConfig(t, `{"ociVersion": "1.0.2",
		"process": {"args": ["sh", "-c", "true"], "env": ["A=1"], "cwd": "/tmp", "user": {"uid": 0, "gid": 0}},
		"root": {"path": "rootfs"}, "hostname": "box",
		"linux": {`+newNamespaces+`, "resources": {"cpu": {"quota": 50000, "period": 100000}, "memory": {"limit": 1048576}, "pids": {"limit": 32}}},
		"somethingNew": true}`)
	require.NoError(t, err)
	assert.Equal(t, []string{"sh", "-c", "true"}, cfg.Args)
	assert.Equal(t, []string{"A=1"}, cfg.Env)
	assert.Equal(t, "/tmp", cfg.Dir)
	assert.Equal(t, "box", cfg.Hostname)
	assert.True(t, filepath.IsAbs(cfg.Rootfs))
	assert.Equal(t, "rootfs", filepath.Base(cfg.Rootfs))
	assert.Equal(t, "0.5", cfg.CPUs)
	assert.Equal(t, "1048576", cfg.Memory)
	assert.Equal(t, "32", cfg.Pids)
	assert.Equal(t, "none", cfg.Net) // a new network namespace has lo only
	assert.Nil(t, cfg.User)
}

func TestReadBundleDefaultPeriod(t *testing.T) {
	cfg, err := readConfig(t, `{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"},
		"linux": {`+newNamespaces+`, "resources": {"cpu": {"quota": 150000}}}}`)
	require.NoError(t, err)
	assert.Equal(t, "1.5", cfg.CPUs)
}

func TestReadBundleRefuses(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"ociVersion": "1.0.2", "process": {"args": [], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {` + newNamespaces + `}}`, "process.args is empty"},
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "tmp"}, "root": {"path": "rootfs"}, "linux": {` + newNamespaces + `}}`, "process.cwd \"tmp\""},
		{`{"ociVersion": "2.0.0", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}}`, "ociVersion \"2.0.0\""},
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs", "readonly": true}, "linux": {` + newNamespaces + `}}`, "root.readonly"},
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {` + newNamespaces + `, "resources": {"cpu": {"shares": 512}}}}`, "linux.resources.cpu"},
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}, "mounts": [{"destination": "/proc/x", "type": "tmpfs", "source": "tmpfs"}], "linux": {` + newNamespaces + `}}`, "mounts: /proc/x"},
	} {
		_, err := readConfig(t, tc.body)
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}
