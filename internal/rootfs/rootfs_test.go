package rootfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCopyHostBinariesRunsInAChroot(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on this host")
	}
	dir := t.TempDir()
	require.NoError(t, CopyHostBinaries(dir, []string{"bash"}))

	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(bash)
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, real))

	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	cmd := exec.Command(real, "-c", "echo ok")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "ok\n", string(out))
}

func TestCopyHostBinariesNamesAMissingProgram(t *testing.T) {
	err := CopyHostBinaries(t.TempDir(), []string{"no-such-program-here"})
	require.ErrorContains(t, err, "no-such-program-here: not found")
}
