package images

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Pull fetches image ref from its registry into the store: the manifest for
// this machine's platform, its config and its layers, each checked against
// its digest (see Store.Add).
func Pull(s Store, ref string, progress io.Writer) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("pull %s: not an image reference: %w", ref, err)
	}
	img, err := remote.Image(r,
		remote.WithTransport(loopbackHTTPOnly{newTransport()}),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, oneLine(err))
	}
	if err := s.Add(r.Name(), img, progress); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}

// newTransport is HTTP with time limits: a registry that stops answering
// fails the pull instead of hanging it.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

// loopbackHTTPOnly refuses plain HTTP to any host but this machine's own:
// go-containerregistry would also speak it to private addresses (10/8,
// 192.168/16, ...), where anyone on the way could change an image's
// manifest. Docker, too, speaks plain HTTP only to 127.0.0.0/8 unless told.
type loopbackHTTPOnly struct{ next http.RoundTripper }

func (t loopbackHTTPOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !loopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("plain HTTP to %s refused: only a registry on 127.0.0.1 or localhost may be reached without TLS", req.URL.Host)
	}
	return t.next.RoundTrip(req)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Import loads the image of an archive: an OCI image layout in a tar, or
// what `docker save` writes. It is stored under name, or under the name the
// archive gives it.
func Import(s Store, file, ref string, progress io.Writer) error {
	img, named, cleanup, err := openArchive(s, file)
	defer cleanup()
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
	if err := s.Add(normal, img, progress); err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	return nil
}

// openArchive reads the image of file, and the name the archive gives it;
// cleanup removes what it unpacked, once the image is stored.
func openArchive(s Store, file string) (img v1.Image, named string, cleanup func(), err error) {
	cleanup = func() {}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", cleanup, err
	}
	f.Close()
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	if m, err := tarball.LoadManifest(opener); err == nil && len(m) > 0 {
		// docker save: manifest.json lists the images and their tags.
		if len(m) > 1 {
			return nil, "", cleanup, fmt.Errorf("the archive holds %d images: import one at a time", len(m))
		}
		if len(m[0].RepoTags) > 0 {
			named = m[0].RepoTags[0]
		}
		img, err := tarball.Image(opener, nil)
		return img, named, cleanup, err
	}
	// An OCI image layout: unpack it to a directory the store removes
	// later, and read its index. (Unpack keeps every name inside.)
	if err := os.MkdirAll(filepath.Join(s.Dir, "tmp"), 0o700); err != nil {
		return nil, "", cleanup, err
	}
	dir, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "import-")
	if err != nil {
		return nil, "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := untarLayout(file, dir); err != nil {
		return nil, "", cleanup, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, "", cleanup, errors.New("neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)")
	}
	index, err := p.ImageIndex()
	if err != nil {
		return nil, "", cleanup, err
	}
	im, err := index.IndexManifest()
	if err != nil {
		return nil, "", cleanup, err
	}
	if len(im.Manifests) != 1 {
		return nil, "", cleanup, fmt.Errorf("the layout's index.json lists %d manifests: import a layout with one image", len(im.Manifests))
	}
	img, err = index.Image(im.Manifests[0].Digest)
	return img, im.Manifests[0].Annotations[RefAnnotation], cleanup, err
}

// untarLayout unpacks the OCI layout in file to dir.
func untarLayout(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return Unpack(f, dir)
}
