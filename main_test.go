package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/internal/scripttest"
)

func TestMain(m *testing.M) { scripttest.Main(m, chapters.All()) }

// TestAllChapters runs every chapter's scripts against the full runtime, so
// no later chapter breaks an earlier one, then the lifecycle's. $SCRATCH_SUITES
// (space-separated) runs only those: the test VM sets it to lifecycle, as it
// runs each chapter's suite in the chapter's own package already.
func TestAllChapters(t *testing.T) {
	suites := strings.Fields(os.Getenv("SCRATCH_SUITES"))
	if len(suites) == 0 {
		dirs, err := filepath.Glob("testdata/[0-9][0-9]-*")
		if err != nil || len(dirs) == 0 {
			t.Fatalf("no chapter suites under testdata: %v", err)
		}
		for _, d := range dirs {
			suites = append(suites, filepath.Base(d))
		}
		// The lifecycle (ps, exec, gc, check, crashes, concurrency) needs every chapter.
		suites = append(suites, "lifecycle")
	}
	scripttest.Run(t, suites...)
}
