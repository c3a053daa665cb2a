package images

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// An entry of a test layer: a file with body, a directory (name ends in /),
// a symbolic link (symlink) or a hard link (hardlink).
type entry struct{ name, body, symlink, hardlink string }

func layerTar(t *testing.T, entries ...entry) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		switch {
		case strings.HasSuffix(e.name, "/"):
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		case e.symlink != "":
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, e.symlink, 0
		case e.hardlink != "":
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, e.hardlink, 0
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if hdr.Size > 0 {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return &buf
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown, mknod and trusted.* attributes are root's")
	}
}

func TestUnpackKeepsEveryNameInside(t *testing.T) {
	needRoot(t)
	dir, outside := t.TempDir(), t.TempDir()
	rel := strings.TrimPrefix(outside, "/")
	err := Unpack(layerTar(t,
		entry{name: "../../../escaped.txt", body: "dotdot"},
		entry{name: "/abs.txt", body: "absolute"},
		entry{name: rel + "/"},
		entry{name: "link", symlink: outside},
		entry{name: "link/planted.txt", body: "through the link"},
		entry{name: "etc/"},
		entry{name: "etc/hostname", body: "the layer's own"},
		entry{name: "hard", hardlink: "../../../etc/hostname"},
	), dir)
	require.NoError(t, err)

	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing may land in the directory the link points to")
	assert.NoFileExists(t, filepath.Join(filepath.Dir(dir), "escaped.txt"))

	assert.FileExists(t, filepath.Join(dir, "escaped.txt"))
	assert.FileExists(t, filepath.Join(dir, "abs.txt"))
	assert.FileExists(t, filepath.Join(dir, rel, "planted.txt"))
	target, err := os.Readlink(filepath.Join(dir, "link"))
	require.NoError(t, err)
	assert.Equal(t, outside, target, "the link is stored as written: it points inside the container")
	b, err := os.ReadFile(filepath.Join(dir, "hard"))
	require.NoError(t, err)
	assert.Equal(t, "the layer's own", string(b))
}

func TestUnpackConvertsWhiteouts(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	err := Unpack(layerTar(t,
		entry{name: "etc/.wh.gone.txt"},
		entry{name: "old/"},
		entry{name: "old/.wh..wh..opq"},
		entry{name: "old/c", body: "c"},
	), dir)
	require.NoError(t, err)

	var st unix.Stat_t
	require.NoError(t, unix.Lstat(filepath.Join(dir, "etc/gone.txt"), &st))
	assert.Equal(t, uint32(unix.S_IFCHR), st.Mode&unix.S_IFMT, "a whiteout is a character device")
	assert.Equal(t, uint64(0), st.Rdev, "numbered 0:0")
	assert.NoFileExists(t, filepath.Join(dir, "etc/.wh.gone.txt"))

	value := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(dir, "old"), "trusted.overlay.opaque", value)
	require.NoError(t, err)
	assert.Equal(t, "y", string(value[:n]))
	assert.NoFileExists(t, filepath.Join(dir, "old/.wh..wh..opq"))
}

// The whiteouts Unpack writes are those overlayfs reads: stacked, the upper
// layer hides what it deletes.
func TestWhiteoutsHideInAnOverlay(t *testing.T) {
	needRoot(t)
	base, top, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, Unpack(layerTar(t,
		entry{name: "gone.txt", body: "x"},
		entry{name: "old/"}, entry{name: "old/a", body: "a"},
		entry{name: "kept.txt", body: "kept"},
	), base))
	require.NoError(t, Unpack(layerTar(t,
		entry{name: ".wh.gone.txt"},
		entry{name: "old/"}, entry{name: "old/.wh..wh..opq"}, entry{name: "old/c", body: "c"},
	), top))
	merged := filepath.Join(tmp, "merged")
	require.NoError(t, os.Mkdir(merged, 0o755))
	// Read-only, two lower layers and no upper: as a stacked image.
	require.NoError(t, unix.Mount("overlay", merged, "overlay", unix.MS_RDONLY, "lowerdir="+top+":"+base))
	defer unix.Unmount(merged, unix.MNT_DETACH)

	assert.NoFileExists(t, filepath.Join(merged, "gone.txt"))
	assert.FileExists(t, filepath.Join(merged, "kept.txt"))
	names, err := os.ReadDir(filepath.Join(merged, "old"))
	require.NoError(t, err)
	require.Len(t, names, 1)
	assert.Equal(t, "c", names[0].Name())
}

func TestParseVolumes(t *testing.T) {
	host := t.TempDir()
	v, err := ParseVolumes([]string{host + ":/data", host + ":/ro:ro"})
	require.NoError(t, err)
	assert.Equal(t, []Volume{{Host: host, Container: "/data"}, {Host: host, Container: "/ro", ReadOnly: true}}, v)

	for spec, message := range map[string]string{
		host + "/missing:/data": "no such file or directory (create it first",
		host + ":data":          "the container path data must be absolute, e.g. /data",
		host + ":/":             "cannot be the container's /",
		host + ":/data:rx":      `unknown option "rx"`,
		host:                    "write HOST:CONTAINER",
		":/data":                "write HOST:CONTAINER",
	} {
		_, err := ParseVolumes([]string{spec})
		if assert.Error(t, err, spec) {
			assert.Contains(t, err.Error(), message, spec)
			assert.NotContains(t, err.Error(), "\n", "one line")
		}
	}
}
