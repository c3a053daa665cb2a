package privileges

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestDeviceProgram loads the cgroup v2 device program into a cgroup of
// its own and starts a shell inside it (clone3 with CLONE_INTO_CGROUP):
// /dev/null opens, the kernel's log (c 1:11) does not. It runs wherever a
// cgroup2 hierarchy is mounted, the unified one of a hybrid host included.
func TestDeviceProgram(t *testing.T) {
	root := ""
	for _, dir := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			root = dir
			break
		}
	}
	if os.Geteuid() != 0 || root == "" {
		t.Skip("needs root and a cgroup2 hierarchy")
	}
	dir := filepath.Join(root, fmt.Sprintf("scratchcontainer-devtest-%d", os.Getpid()))
	require.NoError(t, os.Mkdir(dir, 0o755))
	t.Cleanup(func() { os.Remove(dir) })
	require.NoError(t, attachDeviceProgram(dir, allowedDevices()))

	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer unix.Close(cg)
	cmd := exec.Command("/bin/sh", "-c", "cat /dev/null && echo null opens; (exec 3</dev/kmsg) 2>/dev/null && echo kmsg opens || echo kmsg refused")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "null opens\nkmsg refused\n", string(out))
}
