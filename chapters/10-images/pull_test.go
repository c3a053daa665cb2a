package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyRegistry serves one image, tiny:1, of one layer holding /motd, on
// 127.0.0.1, the way a registry would (and sometimes, as a bad one would).
type tinyRegistry struct {
	*httptest.Server
	manifest []byte            // the image manifest
	index    []byte            // an index naming it for this machine and another
	blobs    map[string][]byte // by digest: config, layer

	token     string // if set, every /v2/ request needs "Bearer <token>"
	withIndex bool   // tiny:1 is the index, not the manifest
	corrupt   bool   // the layer is sent with a byte changed
	redirect  string // blobs are redirected to this base URL

	tokens, authorized atomic.Int32
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newTinyRegistry(t *testing.T) *tinyRegistry {
	layer := layerTar(t, entry{name: "motd", body: "tiny"}).Bytes()
	config, err := json.Marshal(v1.ConfigFile{
		OS: "linux", Architecture: runtime.GOARCH,
		Config: v1.Config{Cmd: []string{"cat", "/motd"}},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustHash(t, digest(layer))}},
	})
	require.NoError(t, err)
	manifest, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(config)), Digest: mustHash(t, digest(config))},
		Layers: []v1.Descriptor{{MediaType: types.OCIUncompressedLayer, Size: int64(len(layer)), Digest: mustHash(t, digest(layer))}},
	})
	require.NoError(t, err)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2, MediaType: types.OCIImageIndex,
		Manifests: []v1.Descriptor{
			{MediaType: types.OCIManifestSchema1, Size: 7, Digest: mustHash(t, digest([]byte("another"))), Platform: &v1.Platform{OS: "linux", Architecture: other}},
			{MediaType: types.OCIManifestSchema1, Size: int64(len(manifest)), Digest: mustHash(t, digest(manifest)), Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}},
		},
	})
	require.NoError(t, err)
	r := &tinyRegistry{manifest: manifest, index: index, blobs: map[string][]byte{digest(config): config, digest(layer): layer}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func mustHash(t *testing.T, s string) v1.Hash {
	h, err := v1.NewHash(s)
	require.NoError(t, err)
	return h
}

func (r *tinyRegistry) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		if req.URL.Query().Get("service") != "tiny-registry" || req.URL.Query().Get("scope") != "repository:tiny:pull" {
			http.Error(w, "bad service or scope", http.StatusBadRequest)
			return
		}
		r.tokens.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"access_token": r.token})
		return
	}
	if r.token != "" {
		if req.Header.Get("Authorization") != "Bearer "+r.token {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="tiny-registry",scope="repository:tiny:pull"`, r.URL))
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		r.authorized.Add(1)
	}
	switch rest, _ := strings.CutPrefix(req.URL.Path, "/v2/tiny/"); {
	case rest == "manifests/1" && r.withIndex:
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Write(r.index)
	case strings.HasPrefix(rest, "manifests/"):
		// Any tag or digest: a registry that does not check what it sends.
		w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
		w.Write(r.manifest)
	case strings.HasPrefix(rest, "blobs/") && r.redirect != "":
		http.Redirect(w, req, r.redirect+req.URL.Path, http.StatusTemporaryRedirect)
	case strings.HasPrefix(rest, "blobs/") && r.blobs[strings.TrimPrefix(rest, "blobs/")] != nil:
		b := bytes.Clone(r.blobs[strings.TrimPrefix(rest, "blobs/")])
		if r.corrupt && bytes.HasPrefix(b, []byte("motd")) {
			b[len(b)/2] ^= 0xff
		}
		w.Write(b)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`)
	}
}

func (r *tinyRegistry) ref(identifier string) string {
	return strings.TrimPrefix(r.URL, "http://") + "/tiny" + identifier
}

// pulled checks that the store holds tiny:1 whole.
func pulled(t *testing.T, s Store, ref string) {
	img, err := s.Lookup(ref)
	require.NoError(t, err)
	assert.Equal(t, []string{"cat", "/motd"}, img.Config.Cmd)
	require.Len(t, img.Layers, 1)
	b, err := os.ReadFile(filepath.Join(img.Layers[0], "motd"))
	require.NoError(t, err)
	assert.Equal(t, "tiny", string(b))
}

// Docker Hub's anonymous pull: a 401 names a token server, whose token
// opens the manifest and the blobs. Without the token sent back, the 401s
// go on and the pull fails.
func TestPullBearerToken(t *testing.T) {
	needRoot(t)
	reg := newTinyRegistry(t)
	reg.token = "tiny-token"
	s := Store{Dir: t.TempDir()}
	require.NoError(t, Pull(s, reg.ref(":1"), nil))
	pulled(t, s, reg.ref(":1"))
	assert.Equal(t, int32(1), reg.tokens.Load(), "one token, kept for the blobs")
	assert.Equal(t, int32(3), reg.authorized.Load(), "manifest, config and layer, each with the token")
}

// An index names one manifest per platform: the one of linux on this
// machine's architecture is pulled.
func TestPullIndexPicksPlatform(t *testing.T) {
	needRoot(t)
	reg := newTinyRegistry(t)
	reg.withIndex = true
	s := Store{Dir: t.TempDir()}
	require.NoError(t, Pull(s, reg.ref(":1"), nil))
	pulled(t, s, reg.ref(":1"))
}

func TestPickPlatform(t *testing.T) {
	index := &v1.IndexManifest{Manifests: []v1.Descriptor{
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "aa"}, Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "bb"}, Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "cc"}, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "dd"}}, // an attestation: no platform
	}}
	d, err := pickPlatform(index, v1.Platform{OS: "linux", Architecture: "amd64"})
	require.NoError(t, err)
	assert.Equal(t, "cc", d.Digest.Hex)
	d, err = pickPlatform(index, v1.Platform{OS: "linux", Architecture: "arm"})
	require.NoError(t, err)
	assert.Equal(t, "aa", d.Digest.Hex, "any variant")
	_, err = pickPlatform(index, v1.Platform{OS: "linux", Architecture: "riscv64"})
	require.EqualError(t, err, "no manifest for linux/riscv64 in the index: it has linux/arm/v7, windows/amd64, linux/amd64")
}

// Bytes that do not hash to the digest that names them are refused, and
// leave nothing in the store: a layer, and a manifest pulled by digest.
func TestPullRefusesWrongDigest(t *testing.T) {
	needRoot(t)
	reg := newTinyRegistry(t)
	reg.corrupt = true
	s := Store{Dir: t.TempDir()}
	err := Pull(s, reg.ref(":1"), nil)
	require.Error(t, err)
	assert.Regexp(t, `^pull .*/tiny:1: layer 1/1 sha256:[0-9a-f]{64}: error verifying sha256 checksum: expected sha256:[0-9a-f]{64}, the \d+ bytes received are sha256:[0-9a-f]{64}$`, err.Error())
	all, err := s.Images()
	require.NoError(t, err)
	assert.Empty(t, all)
	tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	assert.Empty(t, tmp, "nothing left in tmp/")
	blobs, _ := filepath.Glob(filepath.Join(s.Dir, "blobs/*/*"))
	assert.Empty(t, blobs)

	reg.corrupt = false
	other := digest([]byte("another manifest"))
	err = Pull(s, reg.ref("@"+other), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "manifest: error verifying sha256 checksum: expected "+other)
	require.NoError(t, Pull(s, reg.ref("@"+digest(reg.manifest)), nil))
	pulled(t, s, reg.ref("@"+digest(reg.manifest)))
}

// Plain HTTP goes to this machine only: a registry elsewhere is spoken to
// over HTTPS, and a redirect (or token realm) to http:// on another host is
// refused before anything is dialled.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	r, err := parseReference("198.51.100.7:5000/tiny:1")
	require.NoError(t, err)
	assert.Equal(t, "https://198.51.100.7:5000/v2/tiny", newRegistry(r, nil).base)
	for _, local := range []string{"127.0.0.1:5000", "127.1.2.3:5000", "localhost:5000", "[::1]:5000"} {
		r, err := parseReference(local + "/tiny:1")
		require.NoError(t, err)
		assert.Equal(t, "http://"+local+"/v2/tiny", newRegistry(r, nil).base)
	}

	// Every dial is checked: 127.0.0.1 only.
	dialer := &net.Dialer{}
	onlyLoopback := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("dialled %s", addr)
			return nil, fmt.Errorf("the test dials 127.0.0.1 only, not %s", addr)
		}
		return dialer.DialContext(ctx, network, addr)
	}}
	t.Cleanup(onlyLoopback.CloseIdleConnections)
	reg := newTinyRegistry(t)
	reg.redirect = "http://198.51.100.7:80"
	r, err = parseReference(reg.ref(":1"))
	require.NoError(t, err)
	client := newRegistry(r, onlyLoopback)
	manifest, err := client.imageManifest()
	require.NoError(t, err)
	err = Store{Dir: t.TempDir()}.Add(r.Name(), manifest, client, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plain HTTP to 198.51.100.7:80 refused")

	_, err = loopbackHTTPOnly{onlyLoopback}.RoundTrip(httptest.NewRequest(http.MethodGet, "http://198.51.100.7/v2/", nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plain HTTP to 198.51.100.7 refused")
}

func TestParseChallenge(t *testing.T) {
	scheme, params := parseChallenge(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"`)
	assert.Equal(t, "Bearer", scheme)
	assert.Equal(t, map[string]string{
		"realm":   "https://auth.docker.io/token",
		"service": "registry.docker.io",
		"scope":   "repository:library/busybox:pull,push",
	}, params)
}
