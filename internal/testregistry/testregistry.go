// Package testregistry serves an OCI registry on 127.0.0.1 holding images
// built from a busybox rootfs, for chapter 10's tests and lesson: no test
// ever reaches the internet. It uses go-containerregistry's in-memory
// registry (pkg/registry) and pushes, as a real client would:
//
//	test/busybox:1   two layers: the rootfs, then one that deletes
//	                 /etc/gone.txt (a .wh. whiteout), replaces the directory
//	                 /old (an opaque whiteout) and adds /srv/hello.txt; Env,
//	                 WorkingDir and Cmd set
//	test/corrupt:1   the same, but the registry sends its top layer with a
//	                 byte changed: its digest no longer matches
//	test/evil:1      the rootfs, then a layer that tries to write outside:
//	                 ../ names, an absolute symbolic link to a host directory
//	                 followed by a file through it, a hard link to ../../etc
//	test/offsite:1   test/busybox:1, its blobs redirected to plain HTTP on
//	                 a host that is not loopback by its address (0.0.0.0:1):
//	                 a client must refuse to follow
package testregistry

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Greeting is the value of GREETING in test/busybox:1's Env.
const Greeting = "hello from the image"

// Serve listens on addr ("127.0.0.1:0" for any free port), pushes the test
// images built from rootfs, and serves until stop is called. outside names a
// host directory test/evil:1 aims at. It returns the address it listens on.
func Serve(addr, rootfs, outside string) (listening string, stop func(), err error) {
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" && host != "localhost" {
		return "", nil, fmt.Errorf("the test registry listens on 127.0.0.1 only, not %s", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	blobs := &corrupting{BlobHandler: registry.NewInMemoryBlobHandler(), corrupt: map[string]bool{}}
	srv := &http.Server{Handler: offsite(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(blobs)))}
	go srv.Serve(l)
	stop = func() { srv.Close() }
	listening = l.Addr().String()
	if err := push(listening, rootfs, outside, blobs); err != nil {
		stop()
		return "", nil, err
	}
	return listening, stop, nil
}

// push builds the three images and pushes them.
func push(addr, rootfs, outside string, blobs *corrupting) error {
	base, err := dirLayer(rootfs, map[string]string{
		"etc/gone.txt": "deleted by the layer above\n",
		"old/a":        "a file of the directory the layer above replaces\n",
	})
	if err != nil {
		return err
	}
	top, err := tarLayer([]entry{
		{name: "etc/.wh.gone.txt"},
		{name: "old/", dir: true},
		{name: "old/.wh..wh..opq"},
		{name: "old/c", body: "the only file of /old now\n"},
		{name: "srv/", dir: true},
		{name: "srv/hello.txt", body: "hello from layer 2\n"},
	})
	if err != nil {
		return err
	}
	config := v1.Config{
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=" + Greeting},
		WorkingDir: "/srv",
		Cmd:        []string{"sh", "-c", `echo "$GREETING in $(pwd)"`},
	}
	if err := pushImage(addr+"/test/busybox:1", config, base, top); err != nil {
		return err
	}
	if err := pushImage(addr+"/test/offsite:1", config, base, top); err != nil {
		return err
	}

	// The corrupt image's top layer is its own, so a store holding
	// test/busybox:1 must still fetch it.
	corruptTop, err := tarLayer([]entry{{name: "srv/", dir: true}, {name: "srv/corrupt.txt", body: "never unpacked\n"}})
	if err != nil {
		return err
	}
	digest, err := corruptTop.Digest()
	if err != nil {
		return err
	}
	blobs.corrupt[digest.String()] = true
	if err := pushImage(addr+"/test/corrupt:1", config, base, corruptTop); err != nil {
		return err
	}

	rel := strings.TrimPrefix(filepath.Clean(outside), "/")
	evil, err := tarLayer([]entry{
		{name: "../../../../escaped.txt", body: "written by a ../ name\n"},
		{name: "/abs.txt", body: "written by an absolute name\n"},
		{name: rel + "/", dir: true}, // the same path inside: the link resolves there
		{name: "link", link: outside, symlink: true},
		{name: "link/planted.txt", body: "written through an absolute symbolic link\n"},
		{name: "etc/", dir: true},
		{name: "etc/hostname", body: "the image's own\n"},
		{name: "hard", link: "../../../../etc/hostname"},
	})
	if err != nil {
		return err
	}
	return pushImage(addr+"/test/evil:1", v1.Config{Env: config.Env, Cmd: []string{"sh"}}, base, evil)
}

func pushImage(ref string, config v1.Config, layers ...v1.Layer) error {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return err
	}
	if img, err = mutate.Config(img, config); err != nil {
		return err
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// offsite redirects the GETs of test/offsite's blobs to plain HTTP on
// another host, as a registry redirects to its storage. The host is 0.0.0.0:
// not a loopback address, so the client must refuse it, yet a connection
// to it, should a broken client try one, would stay on this machine (Linux
// connects 0.0.0.0 to itself): a test sends nothing off the machine.
func offsite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/test/offsite/blobs/") {
			http.Redirect(w, r, "http://0.0.0.0:1"+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// An entry of a hand-made layer.
type entry struct {
	name, body, link string
	dir, symlink     bool
}

// tarLayer makes a gzipped layer of entries, in order.
func tarLayer(entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		case e.symlink:
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, e.link, 0o777
		case e.link != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, e.link
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// dirLayer makes a layer of the rootfs directory, without the test helpers
// of /usr/local/bin (megabytes the images do not need), plus extra files.
func dirLayer(root string, extra map[string]string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		if rel == "usr/local/bin" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, body := range extra {
		dir := filepath.Dir(name)
		tw.WriteHeader(&tar.Header{Name: dir + "/", Mode: 0o755, Typeflag: tar.TypeDir})
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// corrupting is the registry's blob store, changing one byte of the blobs
// named in corrupt as it sends them (after it stored them whole).
type corrupting struct {
	registry.BlobHandler
	corrupt map[string]bool // set before serving, then only read
}

func (c *corrupting) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	rc, err := c.BlobHandler.Get(ctx, repo, h)
	if err != nil || !c.corrupt[h.String()] {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	b[len(b)/2] ^= 0xff
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (c *corrupting) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	return c.BlobHandler.(registry.BlobStatHandler).Stat(ctx, repo, h)
}

func (c *corrupting) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	return c.BlobHandler.(registry.BlobPutHandler).Put(ctx, repo, h, rc)
}
