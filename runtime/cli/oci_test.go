package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "3f2a9c01b7de", "my_box.1+2-3", strings.Repeat("f", 64), strings.Repeat("x", 128)} {
		assert.True(t, validID(id), id)
	}
	for _, id := range []string{"", "-a", ".a", "_a", "+a", "a/b", "a b", "../x", "é", strings.Repeat("x", 129)} {
		assert.False(t, validID(id), id)
	}
}
