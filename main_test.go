package main

import (
	"path/filepath"
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/runtime/scripttest"
)

func TestMain(m *testing.M) { scripttest.Main(m, chapters.All()) }

// TestAllChapters runs every chapter's scripts against the full runtime, so
// no later chapter breaks an earlier one.
func TestAllChapters(t *testing.T) {
	dirs, err := filepath.Glob("testdata/[0-9][0-9]-*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no chapter suites under testdata: %v", err)
	}
	var suites []string
	for _, d := range dirs {
		suites = append(suites, filepath.Base(d))
	}
	// The lifecycle (ps, gc, check, crash safety) needs every chapter.
	scripttest.Run(t, append(suites, "lifecycle")...)
}
