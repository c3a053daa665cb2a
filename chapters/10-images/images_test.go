package images_test

import (
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/internal/scripttest"
	"scratchcontainer/runtime/container"
)

func TestMain(m *testing.M) { scripttest.Main(m, upToImages()) }

func TestScripts(t *testing.T) { scripttest.Run(t, "10-images") }

// upToImages is the course up to this chapter, whatever its number.
func upToImages() []container.Chapter {
	all := chapters.All()
	for i, ch := range all {
		if ch.Name == "images" {
			return all[:i+1]
		}
	}
	panic("chapter images is not in chapters.All()")
}
