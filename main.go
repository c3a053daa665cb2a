// Command scratchcontainer is a small, real container runtime, built one
// capability per chapter. This is the full runtime: every chapter on.
//
//	go build -o scratchcontainer . && sudo ./scratchcontainer run build/rootfs /bin/sh
package main

import (
	"os"

	"scratchcontainer/chapters"
	"scratchcontainer/runtime/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, chapters.All()))
}
