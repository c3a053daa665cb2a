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
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {` + newNamespaces + `, "resources": {"cpu": {"shares": 512}}}}`, "linux.resources.cpu"},
		{`{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}, "mounts": [{"destination": "/proc/x", "type": "tmpfs", "source": "tmpfs"}], "linux": {` + newNamespaces + `}}`, "mounts: /proc/x"},
	} {
		_, err := readConfig(t, tc.body)
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

func TestReadBundleUserNamespace(t *testing.T) {
	// No user namespace: the host's, as runc would run it (chapter 09 off).
	cfg, err := readConfig(t, `{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {`+newNamespaces+`}}`)
	require.NoError(t, err)
	assert.Equal(t, "host", cfg.UserNS)
	assert.Empty(t, cfg.UIDMap)

	// One range each: chapter 09's user namespace, with that range.
	cfg, err = readConfig(t, `{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 1000, "gid": 1000}}, "root": {"path": "rootfs"},
		"linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}],
		"uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 2000}]}}`)
	require.NoError(t, err)
	assert.Equal(t, "", cfg.UserNS)
	assert.Equal(t, "0 200000 65536", cfg.UIDMap)
	assert.Equal(t, "0 300000 2000", cfg.GIDMap)
}

func TestReadBundleRefusesMaps(t *testing.T) {
	const userns = `"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]`
	const gid = `"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]`
	for _, tc := range []struct{ linux, want string }{
		{userns + `, "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}, {"containerID": 1, "hostID": 200000, "size": 65535}], ` + gid, "linux.uidMappings: 2 ranges"},
		{userns + `, "uidMappings": [{"containerID": 1, "hostID": 100000, "size": 65535}], ` + gid, "linux.uidMappings: 1 100000 65535: chapter 09's range starts at the container's 0"},
		{userns + `, "uidMappings": [{"containerID": 0, "hostID": 0, "size": 65536}], ` + gid, "linux.uidMappings: 0 0 65536: the container's root would be the host's"},
		{userns + `, "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]`, "linux.gidMappings: 0 ranges"},
		{userns, "linux.uidMappings: 0 ranges"},
		{userns + `, "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1000}], ` + gid, "linux.uidMappings: 0 100000 1000 does not map process.user's 1000"},
		{newNamespaces + `, "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]`, "linux.uidMappings: given without a user namespace"},
		{`"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user", "path": "/proc/1/ns/user"}]`, "linux.namespaces: user path /proc/1/ns/user"},
		{`"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]`, "linux.namespaces: network path /run/netns/x with a user namespace"},
	} {
		_, err := readConfig(t, `{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 1000, "gid": 1000}}, "root": {"path": "rootfs"}, "linux": {`+tc.linux+`}}`)
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
}
