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
