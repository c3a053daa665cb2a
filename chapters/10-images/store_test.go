package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testImage(t *testing.T) v1.Image {
	b := layerTar(t, entry{name: "etc/"}, entry{name: "etc/motd", body: "imported"}).Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	require.NoError(t, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Cmd: []string{"cat", "/etc/motd"}})
	require.NoError(t, err)
	return img
}

// Import reads what `docker save` writes and an OCI image layout in a tar.
func TestImport(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	s := Store{Dir: filepath.Join(dir, "store")}
	img := testImage(t)

	saved := filepath.Join(dir, "saved.tar")
	tag, err := name.NewTag("example.org/saved:1")
	require.NoError(t, err)
	require.NoError(t, tarball.WriteToFile(saved, tag, img))
	require.NoError(t, Import(s, saved, "", nil))
	got, err := s.Lookup("example.org/saved:1")
	require.NoError(t, err)
	assert.Equal(t, []string{"cat", "/etc/motd"}, got.Config.Cmd)
	require.Len(t, got.Layers, 1)
	b, err := os.ReadFile(filepath.Join(got.Layers[0], "etc/motd"))
	require.NoError(t, err)
	assert.Equal(t, "imported", string(b))

	// An OCI layout, tarred, imported under a name of our choosing.
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendImage(img))
	archive := filepath.Join(dir, "layout.tar")
	require.NoError(t, tarDir(filepath.Join(dir, "layout"), archive))
	require.NoError(t, Import(s, archive, "mine", nil))
	_, err = s.Lookup("mine")
	require.NoError(t, err)
	all, err := s.Images()
	require.NoError(t, err)
	assert.Len(t, all, 2)
	tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	assert.Empty(t, tmp, "nothing left in tmp/")

	// Not an archive of an image: refused in one line.
	junk := filepath.Join(dir, "junk.tar")
	require.NoError(t, tarDir(filepath.Join(dir, "store", "layers"), junk))
	err = Import(s, junk, "junk", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neither a docker save archive")
}

func tarDir(dir, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return err
	}
	return tw.Close()
}

// docker save as Docker writes it: plain tar layers, named files beside
// manifest.json. A file of the archive that is a symbolic link out of it
// is not followed to the host.
func TestImportDockerSavePlainTar(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	s := Store{Dir: filepath.Join(dir, "store")}
	layer := layerTar(t, entry{name: "etc/"}, entry{name: "etc/motd", body: "plain"}).Bytes()
	config := `{"architecture":"amd64","os":"linux","config":{"Cmd":["cat","/etc/motd"]},"rootfs":{"type":"layers","diff_ids":["` + digest(layer) + `"]}}`
	archive := func(layerEntry entry) string {
		f := filepath.Join(dir, "saved.tar")
		b := layerTar(t,
			entry{name: "manifest.json", body: `[{"Config":"config.json","RepoTags":["example.org/plain:2"],"Layers":["1/layer.tar"]}]`},
			entry{name: "config.json", body: config},
			entry{name: "1/"}, layerEntry)
		require.NoError(t, os.WriteFile(f, b.Bytes(), 0o644))
		return f
	}
	require.NoError(t, Import(s, archive(entry{name: "1/layer.tar", body: string(layer)}), "", nil))
	got, err := s.Lookup("example.org/plain:2")
	require.NoError(t, err)
	assert.Equal(t, []string{"cat", "/etc/motd"}, got.Config.Cmd)
	require.Len(t, got.Layers, 1)
	b, err := os.ReadFile(filepath.Join(got.Layers[0], "etc/motd"))
	require.NoError(t, err)
	assert.Equal(t, "plain", string(b))
	stored, err := os.ReadFile(s.blob(mustHash(t, digest(layer))))
	require.NoError(t, err)
	assert.Equal(t, layer, stored, "the layer stored as it came")

	// The layer a link to a host file: refused, nothing stored.
	host := filepath.Join(dir, "host-file")
	require.NoError(t, os.WriteFile(host, layer, 0o600))
	err = Import(s, archive(entry{name: "1/layer.tar", symlink: host}), "example.org/escape:1", nil)
	require.Error(t, err)
	_, err = s.Lookup("example.org/escape:1")
	require.Error(t, err)
	tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	assert.Empty(t, tmp, "nothing left in tmp/")
}
