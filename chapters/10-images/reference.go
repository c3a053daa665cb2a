package images

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A reference names an image in a registry, in the form users type:
//
//	busybox                          index.docker.io/library/busybox:latest
//	127.0.0.1:5000/test/busybox:1    registry 127.0.0.1:5000, repository test/busybox, tag 1
//	alpine@sha256:<64 hex>           one manifest, by the digest of its bytes
//
// The first part of the name is the registry when it could not be a path
// element (it has a '.' or a ':', or is localhost); otherwise the registry is
// Docker Hub, whose one-word repositories live under library/. The rules are
// the ones Docker and go-containerregistry's name.ParseReference follow
// (distribution's reference grammar, weakly checked), so a name is stored
// under the same string they give it.
type reference struct {
	Registry   string // host[:port]: index.docker.io, 127.0.0.1:5000
	Repository string // library/busybox, test/busybox
	Tag        string // "latest" if neither tag nor digest was given
	Digest     string // sha256:<hex>, or "" for a tag
}

const (
	dockerHub       = "index.docker.io"
	repositoryChars = "abcdefghijklmnopqrstuvwxyz0123456789_-./"
	tagChars        = "abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// Name is the reference in full: registry/repository:tag or @digest.
func (r reference) Name() string {
	if r.Digest != "" {
		return r.Registry + "/" + r.Repository + "@" + r.Digest
	}
	return r.Registry + "/" + r.Repository + ":" + r.Tag
}

// parseReference reads s as a tag (name[:tag]), else as a digest
// (name[:tag]@digest, where the tag is ignored).
func parseReference(s string) (reference, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return reference{}, fmt.Errorf("an image reference has no URL scheme: drop the %s", s[:strings.Index(s, "//")+2])
	}
	r, err := parseTagged(s)
	if err == nil {
		return r, nil
	}
	name, digest, ok := strings.Cut(s, "@")
	if !ok {
		return reference{}, err
	}
	if _, err := v1.NewHash(digest); err != nil {
		return reference{}, fmt.Errorf("digest %q: %w (want sha256: and 64 lower-case hex digits)", digest, err)
	}
	if r, err = parseTagged(name); err != nil {
		return reference{}, err
	}
	r.Tag, r.Digest = "", digest
	return r, nil
}

// parseTagged reads registry/repository[:tag]. A last ':' is a tag's only
// if no '/' follows it: in localhost:5000/busybox it is the port's.
func parseTagged(s string) (reference, error) {
	name, tag := s, "latest"
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i+1:], "/") {
		name, tag = s[:i], s[i+1:]
		if err := checkChars("tag", tag, tagChars, 128); err != nil {
			return reference{}, err
		}
	}
	if name == "" {
		return reference{}, fmt.Errorf("no repository name in %q", s)
	}
	r := reference{Registry: dockerHub, Repository: name, Tag: tag}
	if first, rest, ok := strings.Cut(name, "/"); ok && (first == "localhost" || strings.ContainsAny(first, ".:")) {
		r.Registry, r.Repository = first, rest
	}
	if err := checkChars("repository", r.Repository, repositoryChars, 255); err != nil {
		return reference{}, err
	}
	if u, err := url.Parse("//" + r.Registry); err != nil || u.Host != r.Registry {
		return reference{}, fmt.Errorf("registry %q is not a host[:port]", r.Registry)
	}
	if r.Registry == "docker.io" {
		r.Registry = dockerHub
	}
	if r.Registry == dockerHub && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository // Docker Hub's official images
	}
	return r, nil
}

func checkChars(what, s, allowed string, most int) error {
	if n := utf8.RuneCountInString(s); n < 1 || n > most {
		return fmt.Errorf("%s %q: must be 1 to %d characters long", what, s, most)
	}
	for _, c := range s {
		if !strings.ContainsRune(allowed, c) {
			return fmt.Errorf("%s %q: %q is not allowed (only %s)", what, s, c, allowed)
		}
	}
	return nil
}
