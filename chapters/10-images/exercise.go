//go:build workshop || workshop10

// Exercise for chapter 10: read README.md, write the TODOs, and run
// `make chapter N=10` until it passes. (images.go is the reference answer;
// chapter.go plugs your code into the runtime, layer.go calls MountOverlay,
// unpack.go calls Whiteout.)

package images

import (
	"errors"

	"scratchcontainer/runtime/container"
)

// MountOverlay mounts on merged the union of the lower directories (the
// first is the highest) under the writable upper, with work as overlayfs's
// scratch directory.
func MountOverlay(c *container.Container, lower []string, upper, work, merged string) error {
	// TODO: build the options "lowerdir=L1:L2:...,upperdir=U,workdir=W"
	// (strings.Join the lower ones with ":"), say it with
	// c.Trace(`mount("overlay", %q, "overlay", 0, %q)`, merged, options),
	// and mount("overlay", merged, "overlay", 0, options) (unix.Mount).
	// Wrap an error with what was mounted where.
	return errors.New("chapter 10 exercise: MountOverlay is not written yet (chapters/10-images/exercise.go)")
}

// Whiteout writes into dir, a layer being unpacked, what the image's entry
// name says: ".wh..wh..opq" makes dir opaque (nothing below it shows),
// ".wh.NAME" hides NAME of the layers below. It reports whether name was a
// whiteout at all; a name that is not one is left to the caller.
func Whiteout(dir, name string) (bool, error) {
	// TODO: name ".wh..wh..opq": set the extended attribute
	// trusted.overlay.opaque to "y" on dir (unix.Setxattr); return true.
	// TODO: name ".wh.NAME": remove dir/NAME if an earlier entry made it,
	// then make dir/NAME a character device 0:0 (unix.Mknod with
	// unix.S_IFCHR and unix.Mkdev(0, 0)); return true.
	// Any other name: return false, nil.
	return false, nil
}
