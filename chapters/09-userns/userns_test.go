package userns_test

import (
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/internal/scripttest"
)

func TestMain(m *testing.M) { scripttest.Main(m, chapters.Upto(9)) }

func TestScripts(t *testing.T) { scripttest.Run(t, "09-userns") }
