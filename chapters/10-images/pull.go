package images

// pull.go speaks the OCI distribution protocol (the distribution-spec,
// spec.md, "Pull"), the HTTP API every registry serves, Docker Hub's
// included. A pull of 127.0.0.1:5000/test/busybox:1 is a few GETs:
//
//  1. GET /v2/test/busybox/manifests/1, with an Accept header listing the
//     manifest types this client reads: an OCI image index or Docker
//     manifest list (one manifest per platform), an OCI image manifest or
//     Docker v2 manifest (one image). An index names, per platform, the
//     digest of that platform's manifest; GET it the same way, by digest.
//  2. The image manifest names its config and layers by descriptor: media
//     type, size, digest. GET /v2/test/busybox/blobs/<digest> for each; a
//     registry may redirect a blob to storage elsewhere.
//  3. Check every blob, and a manifest asked for by digest: its size, and
//     the SHA-256 of its bytes. Nothing served needs trusting beyond the
//     first manifest (and not even that when pulled by digest).
//
// Docker Hub answers an anonymous request with 401 and
//
//	WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//
// a token server to ask: GET realm?service=...&scope=... returns JSON with a
// token, to send as "Authorization: Bearer <token>" (the distribution
// project's docs, "Token Authentication Specification").
//
// Why here and not with a library: go-containerregistry's remote package
// links regular expressions compiled at start-up, zstd tables, Docker's
// credential helpers and a logger, and a Go program runs every linked
// package's init at every start. That cost 0.6 to 0.9 ms of each start of
// the runtime, paid twice per container (the runtime, then its re-executed
// child), for a command (pull) that is not even the one running. The
// protocol itself is the few GETs above.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Pull fetches image ref from its registry into the store: the manifest for
// this machine's platform, its config and its layers, each checked against
// its digest (see Store.Add).
func Pull(s Store, ref string, progress io.Writer) error {
	r, err := parseReference(ref)
	if err != nil {
		return fmt.Errorf("pull %s: not an image reference: %w", ref, err)
	}
	reg := newRegistry(r, newTransport())
	manifest, err := reg.imageManifest()
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	if err := s.Add(r.Name(), manifest, reg, progress); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}

// A registry is one repository of a registry, as one pull speaks to it.
type registry struct {
	ref    reference
	base   string // https://index.docker.io/v2/library/busybox
	client *http.Client
	token  string // a bearer token, once a 401 asked for one
}

// newRegistry speaks HTTPS, or plain HTTP to a registry on this machine
// (127.0.0.1:5000, localhost:5000, [::1]:5000), which has no certificate to
// show. next carries the requests (newTransport, or a test's).
func newRegistry(r reference, next http.RoundTripper) *registry {
	scheme := "https"
	if loopback((&url.URL{Host: r.Registry}).Hostname()) {
		scheme = "http"
	}
	return &registry{
		ref:    r,
		base:   scheme + "://" + r.Registry + "/v2/" + r.Repository,
		client: &http.Client{Transport: loopbackHTTPOnly{next}}, // follows redirects
	}
}

// manifestTypes is the Accept header of a manifest GET, the types this
// client reads: OCI index and manifest, Docker manifest list and v2
// manifest. A registry not told may answer with an older type.
const manifestTypes = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
	"application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

// imageManifest GETs the reference's manifest and, if it is an index, the
// manifest of linux on this machine's architecture that the index names.
func (reg *registry) imageManifest() ([]byte, error) {
	identifier := reg.ref.Tag
	if reg.ref.Digest != "" {
		identifier = reg.ref.Digest
	}
	raw, mediaType, err := reg.manifest(identifier)
	if err != nil {
		return nil, err
	}
	if reg.ref.Digest != "" {
		h, _ := v1.NewHash(reg.ref.Digest) // parseReference checked it
		d := v1.Descriptor{Digest: h, Size: int64(len(raw))}
		if err := copyVerified(io.Discard, bytes.NewReader(raw), d); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	if mediaType == types.OCIImageIndex || mediaType == types.DockerManifestList {
		index, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("read the index: %w", err)
		}
		d, err := pickPlatform(index, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
		if err != nil {
			return nil, err
		}
		if raw, mediaType, err = reg.manifest(d.Digest.String()); err != nil {
			return nil, err
		}
		if err := copyVerified(io.Discard, bytes.NewReader(raw), d); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
	}
	if mediaType != types.OCIManifestSchema1 && mediaType != types.DockerManifestSchema2 {
		return nil, fmt.Errorf("manifest of type %q: only OCI image manifests and Docker v2 manifests are read", mediaType)
	}
	return raw, nil
}

// manifest GETs /v2/<repository>/manifests/<tag or digest>: its bytes (at
// most maxJSON) and its media type, which the manifest itself states or
// else the response's Content-Type.
func (reg *registry) manifest(identifier string) ([]byte, types.MediaType, error) {
	resp, err := reg.get(reg.base+"/manifests/"+identifier, manifestTypes)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return nil, "", fmt.Errorf("read the manifest: %w", oneLine(err))
	}
	if len(raw) > maxJSON {
		return nil, "", fmt.Errorf("manifest %s: more than the %d MiB a manifest may have", identifier, maxJSON>>20)
	}
	var stated struct{ MediaType types.MediaType }
	if err := json.Unmarshal(raw, &stated); err != nil {
		return nil, "", fmt.Errorf("manifest %s: not JSON: %w", identifier, err)
	}
	if stated.MediaType == "" {
		stated.MediaType = types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	}
	return raw, stated.MediaType, nil
}

// pickPlatform finds in index the manifest of platform want: the first
// whose OS and architecture are want's (any variant: arm/v7 is arm).
func pickPlatform(index *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
	var have []string
	for _, d := range index.Manifests {
		if d.Platform == nil {
			continue
		}
		if d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture {
			return d, nil
		}
		have = append(have, d.Platform.String())
	}
	return v1.Descriptor{}, fmt.Errorf("no manifest for %s in the index: it has %s", want.String(), strings.Join(have, ", "))
}

// Open GETs the blob d describes (Blobs, for Store.Add), following a
// redirect to wherever the registry stores it.
func (reg *registry) Open(d v1.Descriptor) (io.ReadCloser, error) {
	resp, err := reg.get(reg.base+"/blobs/"+d.Digest.String(), "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// get GETs url. A 401 that names a bearer token server gets a token from
// it, and the request is sent again with the token, as are the ones after.
func (reg *registry) get(url, accept string) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if reg.token != "" {
			// The client drops this header on a redirect to another
			// host: a blob's storage gets no token of the registry's.
			req.Header.Set("Authorization", "Bearer "+reg.token)
		}
		resp, err := reg.client.Do(req)
		if err != nil {
			return nil, oneLine(err)
		}
		if resp.StatusCode == http.StatusOK {
			return resp, nil
		}
		challenge := resp.Header.Get("WWW-Authenticate")
		err = statusError(resp)
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 {
			return nil, err
		}
		if reg.token, err = reg.bearerToken(challenge); err != nil {
			return nil, fmt.Errorf("GET %s: 401 Unauthorized: %w", url, err)
		}
	}
}

// bearerToken asks the token server a challenge names for an anonymous
// token to pull: GET realm?service=...&scope=..., answered with JSON
// {"token": ...} (or "access_token", as OAuth2 spells it).
func (reg *registry) bearerToken(challenge string) (string, error) {
	scheme, params := parseChallenge(challenge)
	if !strings.EqualFold(scheme, "Bearer") || params["realm"] == "" {
		return "", fmt.Errorf("the registry asks for credentials (WWW-Authenticate: %s): only anonymous pulls are supported", challenge)
	}
	realm, err := url.Parse(params["realm"])
	if err != nil {
		return "", fmt.Errorf("token realm %q: %w", params["realm"], err)
	}
	q := realm.Query()
	if params["service"] != "" {
		q.Set("service", params["service"])
	}
	scope := params["scope"]
	if scope == "" {
		scope = "repository:" + reg.ref.Repository + ":pull"
	}
	q.Set("scope", scope)
	realm.RawQuery = q.Encode()
	resp, err := reg.client.Get(realm.String())
	if err != nil {
		return "", fmt.Errorf("get a token: %w", oneLine(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get a token: %w", statusError(resp))
	}
	var answer struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(&answer); err != nil {
		return "", fmt.Errorf("get a token from %s: %w", realm.Host, err)
	}
	if answer.Token == "" {
		answer.Token = answer.AccessToken
	}
	if answer.Token == "" {
		return "", fmt.Errorf("get a token from %s: the answer has no token", realm.Host)
	}
	return answer.Token, nil
}

// parseChallenge reads `Bearer realm="...",service="...",scope="..."`
// (RFC 7235's auth-scheme and auth-params; a quoted value may hold commas).
func parseChallenge(h string) (scheme string, params map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params = map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(rest, ", ") {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if strings.HasPrefix(after, `"`) {
			var value strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				value.WriteByte(after[i])
			}
			params[key], rest = value.String(), after[min(i+1, len(after)):]
		} else {
			value, more, _ := strings.Cut(after, ",")
			params[key], rest = strings.TrimSpace(value), more
		}
	}
	return scheme, params
}

// statusError says what a registry answered instead of 200, with the codes
// and messages of its JSON error body (MANIFEST_UNKNOWN: manifest unknown).
func statusError(resp *http.Response) error {
	defer resp.Body.Close()
	var body struct {
		Errors []struct{ Code, Message string }
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	msg := fmt.Sprintf("GET %s: %s", resp.Request.URL.Redacted(), resp.Status)
	for _, e := range body.Errors {
		msg += ": " + e.Code + ": " + e.Message
	}
	return errors.New(strings.Join(strings.Fields(msg), " "))
}

// newTransport is HTTP with time limits: a registry that stops answering
// fails the pull instead of hanging it.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

// loopbackHTTPOnly refuses plain HTTP to any host but this machine's own,
// whoever asks for it: a redirect, or a token realm. Anyone on the way
// could change a manifest sent in the clear. Docker, too, speaks plain HTTP
// only to 127.0.0.0/8 unless told.
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
