package oci_test

import (
	"testing"

	"scratchcontainer/chapters"
	"scratchcontainer/internal/scripttest"
)

func TestMain(m *testing.M) { scripttest.Main(m, chapters.All()) }

func TestScripts(t *testing.T) { scripttest.Run(t, "11-oci") }
