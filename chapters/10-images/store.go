package images

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// A Store holds images on disk as an OCI image layout (image-layout.md)
// plus the layers unpacked:
//
//	oci-layout             {"imageLayoutVersion": "1.0.0"}
//	index.json             the images: one manifest descriptor each, named
//	                       by the annotation org.opencontainers.image.ref.name
//	blobs/sha256/<hex>     manifests, configs and compressed layers, each
//	                       named by the SHA-256 of its bytes
//	layers/sha256/<hex>/   each layer unpacked, named by its diff ID (the
//	                       SHA-256 of the uncompressed tar): an overlay lower
//	containers/<id>/       each running container's writable layer
//	tmp/                   what is being fetched: renamed into place once whole
//
// Content addressing makes sharing and checking one thing: a blob or layer
// two images have in common is stored once, and a name that does not match
// its bytes is caught on the spot.
type Store struct{ Dir string }

// RefAnnotation names an image in index.json, as OCI image layouts do.
const RefAnnotation = "org.opencontainers.image.ref.name"

// An Image is an image of the store, ready to run.
type Image struct {
	Ref      string        // its name, normalised: 127.0.0.1:5000/test/busybox:1
	Manifest v1.Descriptor // its manifest's digest and size
	Layers   []string      // the unpacked layers, lowest first
	Config   v1.Config     // Cmd, Entrypoint, Env, WorkingDir, ...
	Size     int64         // the compressed layers' bytes
}

func (s Store) blob(h v1.Hash) string {
	return filepath.Join(s.Dir, "blobs", h.Algorithm, h.Hex)
}

func (s Store) layer(diffID v1.Hash) string {
	return filepath.Join(s.Dir, "layers", diffID.Algorithm, diffID.Hex)
}

// Normalize is the name an image is stored under: busybox is
// index.docker.io/library/busybox:latest, as Docker reads it.
func Normalize(ref string) (string, error) {
	r, err := parseReference(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not an image reference: %w", ref, err)
	}
	return r.Name(), nil
}

// lock serialises what changes the store (two pulls, a pull and a rmi).
func (s Store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the store %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "store.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// index reads index.json; a store without one is empty.
func (s Store) index() (*v1.IndexManifest, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return &v1.IndexManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json"}, nil
	}
	if err != nil {
		return nil, err
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("read %s/index.json: %w", s.Dir, err)
	}
	return &index, nil
}

// writeIndex replaces index.json whole (write, then rename), with the
// oci-layout file beside it.
func (s Store) writeIndex(index *v1.IndexManifest) error {
	layout := filepath.Join(s.Dir, "oci-layout")
	if _, err := os.Stat(layout); err != nil {
		if err := os.WriteFile(layout, []byte(`{"imageLayoutVersion":"1.0.0"}`+"\n"), 0o600); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.Dir, "index.json"), b)
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Blobs opens the blobs of one image by their descriptors: a registry's
// /v2/<repository>/blobs/<digest>, or a file of an archive. Add checks
// every byte it reads against the descriptor, so a source need not.
type Blobs interface {
	Open(d v1.Descriptor) (io.ReadCloser, error)
}

// maxJSON caps what is read into memory: a manifest, an index, a config.
// They are a few KiB; a hostile source must not make a pull fill memory.
const maxJSON = 4 << 20

// Add stores the image of rawManifest under ref (normalised), its config
// and layers read from blobs: every blob is written to tmp/ and checked
// against its digest, every layer unpacked there and checked against its
// diff ID, and only when all of them are whole are they renamed into place
// and the image named in index.json. A failure leaves nothing. progress, if
// not nil, hears of each layer.
func (s Store) Add(ref string, rawManifest []byte, blobs Blobs, progress io.Writer) (err error) {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.MkdirAll(filepath.Join(s.Dir, "tmp"), 0o700); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "add-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)

	manifest, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return fmt.Errorf("read the manifest: %w", err)
	}
	manifestDigest, _, err := v1.SHA256(bytes.NewReader(rawManifest))
	if err != nil {
		return err
	}
	rawConfig, err := readBlob(blobs, manifest.Config)
	if err != nil {
		return fmt.Errorf("config %s: %w", manifest.Config.Digest, err)
	}
	config, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return fmt.Errorf("read the config: %w", err)
	}
	if len(config.RootFS.DiffIDs) != len(manifest.Layers) {
		return fmt.Errorf("the manifest has %d layers, the config %d diff IDs", len(manifest.Layers), len(config.RootFS.DiffIDs))
	}

	// Stage: blobs and layers under staging/, each checked.
	staged := map[string]string{} // staged path -> its place in the store
	stage := func(h v1.Hash, b []byte) error {
		p := filepath.Join(staging, "blob-"+h.Hex)
		staged[p] = s.blob(h)
		return os.WriteFile(p, b, 0o644)
	}
	for i, desc := range manifest.Layers {
		diffID := config.RootFS.DiffIDs[i]
		if exists(s.blob(desc.Digest)) && exists(s.layer(diffID)) {
			continue // shared with an image already here
		}
		blob := filepath.Join(staging, "blob-"+desc.Digest.Hex)
		if err := fetchBlob(blobs, desc, blob); err != nil {
			return fmt.Errorf("layer %d/%d %s: %w", i+1, len(manifest.Layers), desc.Digest, err)
		}
		dir := filepath.Join(staging, "layer-"+diffID.Hex)
		if err := unpackBlob(blob, dir, diffID); err != nil {
			return fmt.Errorf("layer %d/%d %s: %w", i+1, len(manifest.Layers), desc.Digest, err)
		}
		staged[blob], staged[dir] = s.blob(desc.Digest), s.layer(diffID)
		if progress != nil {
			fmt.Fprintf(progress, "layer %d/%d %s: %d bytes, unpacked\n", i+1, len(manifest.Layers), desc.Digest, desc.Size)
		}
	}
	if err := stage(manifest.Config.Digest, rawConfig); err != nil {
		return err
	}
	if err := stage(manifestDigest, rawManifest); err != nil {
		return err
	}

	// Commit: rename each into place, then name the image.
	for from, to := range staged {
		if exists(to) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
	}
	index, err := s.index()
	if err != nil {
		return err
	}
	index.Manifests = slices.DeleteFunc(index.Manifests, func(d v1.Descriptor) bool { return d.Annotations[RefAnnotation] == ref })
	mediaType := manifest.MediaType
	if mediaType == "" {
		mediaType = "application/vnd.oci.image.manifest.v1+json"
	}
	index.Manifests = append(index.Manifests, v1.Descriptor{
		MediaType:   mediaType,
		Digest:      manifestDigest,
		Size:        int64(len(rawManifest)),
		Annotations: map[string]string{RefAnnotation: ref},
	})
	return s.writeIndex(index)
}

// readBlob reads the small blob d describes (a config, a manifest) into
// memory, checked against d.
func readBlob(blobs Blobs, d v1.Descriptor) ([]byte, error) {
	if d.Size > maxJSON {
		return nil, fmt.Errorf("%d bytes: more than the %d MiB a manifest or config may have", d.Size, maxJSON>>20)
	}
	rc, err := blobs.Open(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if err := copyVerified(&buf, rc, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fetchBlob copies the compressed layer d describes to path, checked.
func fetchBlob(blobs Blobs, d v1.Descriptor, path string) error {
	rc, err := blobs.Open(d)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := copyVerified(f, rc, d); err != nil {
		return err
	}
	return f.Close()
}

// copyVerified copies the blob d describes from r to w and checks it: d.Size
// bytes, hashing to d.Digest. This is what content addressing buys: whoever
// served the bytes, they are the ones the manifest names, or an error. It
// reads at most one byte more than d.Size, so a source cannot send forever.
func copyVerified(w io.Writer, r io.Reader, d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" {
		return fmt.Errorf("digest %s: only sha256 digests are supported", d.Digest)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, d.Size+1))
	if err != nil {
		return oneLine(err)
	}
	switch {
	case n > d.Size:
		return fmt.Errorf("size mismatch: the descriptor says %d bytes, more came", d.Size)
	case n < d.Size:
		return fmt.Errorf("size mismatch: the descriptor says %d bytes, %d came", d.Size, n)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.Digest.Hex {
		return fmt.Errorf("error verifying sha256 checksum: expected %s, the %d bytes received are sha256:%s", d.Digest, n, got)
	}
	return nil
}

// unpackBlob unpacks the compressed layer in blob into dir, and checks that
// its tar hashes to diffID.
func unpackBlob(blob, dir string, diffID v1.Hash) error {
	f, err := os.Open(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	switch magic, _ := br.Peek(4); {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		r = gz
	case len(magic) == 4 && string(magic) == "\x28\xb5\x2f\xfd":
		return errors.New("a zstd-compressed layer: only gzip and plain tar are supported")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	h := sha256.New()
	tee := io.TeeReader(r, h)
	if err := Unpack(tee, dir); err != nil {
		return err
	}
	io.Copy(io.Discard, tee) // the tar's padding counts in its hash
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID.String() {
		return fmt.Errorf("diff ID mismatch: the config names %s, the tar is %s", diffID, got)
	}
	return nil
}

// oneLine keeps an error on one line: a registry's answer may hold several.
func oneLine(err error) error {
	return errors.New(strings.Join(strings.Fields(err.Error()), " "))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Images lists the store's images, in index order.
func (s Store) Images() ([]Image, error) {
	index, err := s.index()
	if err != nil {
		return nil, err
	}
	var all []Image
	for _, d := range index.Manifests {
		img, err := s.image(d)
		if err != nil {
			return nil, err
		}
		all = append(all, img)
	}
	return all, nil
}

// Lookup finds the image named ref.
func (s Store) Lookup(ref string) (Image, error) {
	normal, err := Normalize(ref)
	if err != nil {
		return Image{}, err
	}
	index, err := s.index()
	if err != nil {
		return Image{}, err
	}
	for _, d := range index.Manifests {
		if d.Annotations[RefAnnotation] == normal {
			return s.image(d)
		}
	}
	return Image{}, fmt.Errorf("no image %s in the store %s (scratchcontainer pull %s fetches it; scratchcontainer images lists the store)", ref, s.Dir, ref)
}

// image reads the manifest and config of the image d names.
func (s Store) image(d v1.Descriptor) (Image, error) {
	img := Image{Ref: d.Annotations[RefAnnotation], Manifest: d}
	f, err := os.Open(s.blob(d.Digest))
	if err != nil {
		return img, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	defer f.Close()
	manifest, err := v1.ParseManifest(f)
	if err != nil {
		return img, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	cf, err := os.Open(s.blob(manifest.Config.Digest))
	if err != nil {
		return img, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	defer cf.Close()
	config, err := v1.ParseConfigFile(cf)
	if err != nil {
		return img, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	img.Config = config.Config
	for _, diffID := range config.RootFS.DiffIDs {
		img.Layers = append(img.Layers, s.layer(diffID))
	}
	for _, l := range manifest.Layers {
		img.Size += l.Size
	}
	return img, nil
}

// Remove takes image ref out of the index, then deletes the blobs and layers
// no image left names. inUse says whether a running container uses a
// manifest digest: its layers must stay.
func (s Store) Remove(ref string, inUse func(manifest string) bool) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	img, err := s.Lookup(ref)
	if err != nil {
		return err
	}
	if inUse(img.Manifest.Digest.String()) {
		return fmt.Errorf("image %s is in use by a running container (scratchcontainer ps): stop it first", ref)
	}
	index, err := s.index()
	if err != nil {
		return err
	}
	index.Manifests = slices.DeleteFunc(index.Manifests, func(d v1.Descriptor) bool { return d.Annotations[RefAnnotation] == img.Ref })
	if err := s.writeIndex(index); err != nil {
		return err
	}
	return s.collect(index)
}

// collect deletes every blob and layer that no manifest of index names.
func (s Store) collect(index *v1.IndexManifest) error {
	keep := map[string]bool{}
	for _, d := range index.Manifests {
		keep[s.blob(d.Digest)] = true
		img, err := s.image(d)
		if err != nil {
			return err
		}
		for _, l := range img.Layers {
			keep[l] = true
		}
		f, err := os.Open(s.blob(d.Digest))
		if err != nil {
			return err
		}
		manifest, err := v1.ParseManifest(f)
		f.Close()
		if err != nil {
			return err
		}
		keep[s.blob(manifest.Config.Digest)] = true
		for _, l := range manifest.Layers {
			keep[s.blob(l.Digest)] = true
		}
	}
	for _, pattern := range []string{"blobs/*/*", "layers/*/*"} {
		paths, _ := filepath.Glob(filepath.Join(s.Dir, pattern))
		for _, p := range paths {
			if !keep[p] {
				if err := os.RemoveAll(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
