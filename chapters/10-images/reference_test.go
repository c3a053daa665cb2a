package images

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
)

// Normalize gives the names go-containerregistry's name.ParseReference gave
// before pull spoke the protocol itself: a store keeps its images' names.
func TestNormalizeAsBefore(t *testing.T) {
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, ref := range []string{
		"busybox",
		"busybox:1.36",
		"docker.io/busybox",
		"library/busybox:latest",
		"ghcr.io/owner/tool:v1.2.3",
		"127.0.0.1:5000/test/busybox:1",
		"localhost:5000/busybox",
		"localhost/busybox",
		"[::1]:5000/test/busybox:1",
		"alpine@sha256:" + hex,
		"alpine:3.20@sha256:" + hex,
		"127.0.0.1:5000/a/b@sha256:" + hex,
		// Bad ones: both refuse them.
		"",
		"Busybox",
		"busybox:",
		"busybox:bad/tag",
		"busybox@sha256:abc",
		"busybox@md5:" + hex[:32],
		"https://example.org/busybox",
		"exa mple.org/busybox",
		"busybox@sha256:" + hex + "@sha256:" + hex,
	} {
		t.Run(ref, func(t *testing.T) {
			want, wantErr := name.ParseReference(ref)
			got, err := Normalize(ref)
			if wantErr != nil {
				assert.Error(t, err, "go-containerregistry refused it: %v", wantErr)
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, want.Name(), got)
			}
		})
	}
	// What the lesson and a learner see.
	got, _ := Normalize("busybox")
	assert.Equal(t, "index.docker.io/library/busybox:latest", got)
}
