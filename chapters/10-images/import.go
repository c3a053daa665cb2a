package images

// import.go reads the two archive formats an image travels in without a
// registry:
//
//	docker save     manifest.json: [{"Config": "<file>", "RepoTags":
//	                ["name:tag"], "Layers": ["<file>", ...]}], the files
//	                beside it; layers plain tar or gzip
//	OCI layout      oci-layout, index.json (the image's manifest descriptor,
//	                its name in the org.opencontainers.image.ref.name
//	                annotation), blobs/sha256/<hex> (image-spec,
//	                image-layout.md)
//
// Either way the archive is unpacked to tmp/ and its blobs are handed to
// Store.Add, which checks each against the manifest's digests as it does a
// registry's.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Import loads the image of an archive: an OCI image layout in a tar, or
// what `docker save` writes. It is stored under name, or under the name the
// archive gives it.
func Import(s Store, file, ref string, progress io.Writer) error {
	a, err := openArchive(s, file)
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	defer a.Close()
	manifest, named, err := a.image()
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	if ref == "" {
		ref = named
	}
	if ref == "" {
		return fmt.Errorf("import %s: the archive names no image: give a NAME after the file", file)
	}
	normal, err := Normalize(ref)
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	if err := s.Add(normal, manifest, a, progress); err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	return nil
}

// An archive is an image archive unpacked into a directory of the store's
// tmp/, removed by Close. Its files are opened through an os.Root: a
// symbolic link in the archive cannot lead to a file of the host.
type archive struct {
	dir   string
	root  *os.Root
	files map[v1.Hash]string // docker save: each blob's file; a layout's are blobs/<algorithm>/<hex>
}

// openArchive unpacks file (Unpack keeps every name inside the directory).
func openArchive(s Store, file string) (*archive, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Join(s.Dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "import-")
	if err != nil {
		return nil, err
	}
	if err := Unpack(f, dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &archive{dir: dir, root: root, files: map[v1.Hash]string{}}, nil
}

func (a *archive) Close() error {
	a.root.Close()
	return os.RemoveAll(a.dir)
}

// Open opens the blob d describes (Blobs, for Store.Add).
func (a *archive) Open(d v1.Descriptor) (io.ReadCloser, error) {
	name, ok := a.files[d.Digest]
	if !ok {
		name = path.Join("blobs", d.Digest.Algorithm, d.Digest.Hex)
	}
	return a.root.Open(name)
}

// image is the archive's image manifest, and the name the archive gives
// the image ("" if none). manifest.json says docker save.
func (a *archive) image() (manifest []byte, named string, err error) {
	if b, err := a.read("manifest.json"); err == nil {
		var images []struct {
			Config   string
			RepoTags []string
			Layers   []string
		}
		if json.Unmarshal(b, &images) == nil && len(images) > 0 {
			if len(images) > 1 {
				return nil, "", fmt.Errorf("the archive holds %d images: import one at a time", len(images))
			}
			if len(images[0].RepoTags) > 0 {
				named = images[0].RepoTags[0]
			}
			manifest, err := a.dockerSave(images[0].Config, images[0].Layers)
			return manifest, named, err
		}
	}
	b, err := a.read("index.json")
	if err != nil {
		return nil, "", errors.New("neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)")
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, "", fmt.Errorf("read the layout's index.json: %w", err)
	}
	if len(index.Manifests) != 1 {
		return nil, "", fmt.Errorf("the layout's index.json lists %d manifests: import a layout with one image", len(index.Manifests))
	}
	d := index.Manifests[0]
	if d.MediaType != types.OCIManifestSchema1 && d.MediaType != types.DockerManifestSchema2 {
		return nil, "", fmt.Errorf("the layout's index.json names a %q: import a layout of one image manifest", d.MediaType)
	}
	manifest, err = readBlob(a, d)
	if err != nil {
		return nil, "", fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	return manifest, d.Annotations[RefAnnotation], nil
}

// dockerSave writes the manifest docker save does not: descriptors of the
// config and layer files, each hashed here (Store.Add hashes them again as
// it copies them, as it does every blob).
func (a *archive) dockerSave(config string, layers []string) ([]byte, error) {
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.DockerManifestSchema2}
	var err error
	if m.Config, err = a.describe(config, types.DockerConfigJSON); err != nil {
		return nil, err
	}
	for _, l := range layers {
		d, err := a.describe(l, types.DockerUncompressedLayer)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, d)
	}
	return json.Marshal(m)
}

// describe hashes the archive's file name into a descriptor of mediaType,
// or of a gzipped layer if it starts as gzip does.
func (a *archive) describe(name string, mediaType types.MediaType) (v1.Descriptor, error) {
	f, err := a.root.Open(name)
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); mediaType == types.DockerUncompressedLayer && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		mediaType = types.DockerLayer
	}
	h := sha256.New()
	n, err := io.Copy(h, br)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read %s: %w", name, err)
	}
	d := v1.Descriptor{MediaType: mediaType, Size: n, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
	a.files[d.Digest] = name
	return d, nil
}

// read reads the archive's small file name (manifest.json, index.json).
func (a *archive) read(name string) ([]byte, error) {
	f, err := a.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err == nil && len(b) > maxJSON {
		err = fmt.Errorf("%s: more than %d MiB", name, maxJSON>>20)
	}
	return b, err
}
