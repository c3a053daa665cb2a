package uts_test

import (
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/internal/scripttest"
)

func TestMain(m *testing.M) { scripttest.Main(m, chapters.Upto(1)) }

func TestScripts(t *testing.T) { scripttest.Run(t, "01-uts") }
