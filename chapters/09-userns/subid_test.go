package userns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRange(t *testing.T) {
	r, found, err := parseRange(strings.NewReader("alice:100000:65536\nscratchcontainer:200000:65536\n"), "scratchcontainer")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "0 200000 65536", r.String())

	r, _, err = parseRange(strings.NewReader("scratchcontainer:300000:1000000\n"), "scratchcontainer")
	require.NoError(t, err)
	assert.Equal(t, Range{0, 300000, 65536}, r, "more than the container needs is cut to 65536")

	_, found, err = parseRange(strings.NewReader("alice:100000:65536\n"), "scratchcontainer")
	require.NoError(t, err)
	assert.False(t, found)

	_, _, err = parseRange(strings.NewReader("scratchcontainer:x:65536\n"), "scratchcontainer")
	assert.ErrorContains(t, err, "scratchcontainer:FIRST:COUNT")
}

func TestReadRangeDefault(t *testing.T) {
	r, err := ReadRange(filepath.Join(t.TempDir(), "absent"), Owner)
	require.NoError(t, err)
	assert.Equal(t, "0 100000 65536", r.String())

	file := filepath.Join(t.TempDir(), "subuid")
	require.NoError(t, os.WriteFile(file, []byte("bob:165536:65536\n"), 0o644))
	r, err = ReadRange(file, Owner)
	require.NoError(t, err)
	assert.Equal(t, Range{0, DefaultFirst, DefaultCount}, r)
}
