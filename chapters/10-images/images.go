//go:build !workshop && !workshop10

// Package images gives every container a root filesystem of its own that
// costs nothing to make: the image stays read-only, and what the container
// writes goes to a layer of its own, thrown away when it exits. It also
// binds host directories into the container (volumes), and fetches images
// from a registry into a store on disk.
//
// Copy-on-write is overlayfs: one mount stacks directories, read-only lower
// layers under one writable upper layer, and shows their union:
//
//	merged/   what the container sees as /, what pivot_root enters
//	upper/    what the container changed: new files, copies of changed ones
//	lower     the image, read-only: a rootfs directory, or an image's layers
//	work/     overlayfs's scratch space, on the same filesystem as upper/
//
// A file read comes from the highest layer that has it; the first write to a
// lower file copies it up first; a deletion leaves a whiteout in upper/, a
// character device 0:0 that hides the name below. Images carry their
// deletions the same way, in their own spelling: an entry ".wh.NAME" in a
// layer's tar deletes NAME, ".wh..wh..opq" hides a whole directory below.
// Unpacking a layer turns those into overlayfs's own whiteouts, so the
// layers stack as they are.
//
// Syscalls: mount(2) (overlay, bind), mknod(2), setxattr(2), umount2(2).
// Man pages and docs: mount(8) "overlay", the kernel's
// Documentation/filesystems/overlayfs.rst, the OCI image-spec (layer.md,
// image-layout.md).
package images

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// MountOverlay mounts on merged the union of the lower directories (the
// first is the highest) under the writable upper, with work as overlayfs's
// scratch directory.
func MountOverlay(c *container.Container, lower []string, upper, work, merged string) error {
	// lowerdir lists the read-only layers, highest first; upper and work
	// must be on one filesystem, as overlayfs renames from one to the
	// other.
	options := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
	c.Trace(`mount("overlay", %q, "overlay", 0, %q)`, merged, options)
	if err := unix.Mount("overlay", merged, "overlay", 0, options); err != nil {
		return fmt.Errorf("mount overlay on %s (lowerdir %s): %w", merged, strings.Join(lower, ":"), err)
	}
	return nil
}

// Whiteout writes into dir, a layer being unpacked, what the image's entry
// name says: ".wh..wh..opq" makes dir opaque (nothing below it shows),
// ".wh.NAME" hides NAME of the layers below. It reports whether name was a
// whiteout at all; a name that is not one is left to the caller.
func Whiteout(dir, name string) (bool, error) {
	switch {
	case name == ".wh..wh..opq":
		// An opaque directory: overlayfs reads this attribute of the
		// upper directory and stops looking below it.
		if err := unix.Setxattr(dir, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
			return true, fmt.Errorf("setxattr(%s, trusted.overlay.opaque, y): %w", dir, err)
		}
		return true, nil
	case strings.HasPrefix(name, ".wh."):
		// overlayfs's whiteout: a character device with number 0:0.
		path := filepath.Join(dir, strings.TrimPrefix(name, ".wh."))
		os.RemoveAll(path) // an earlier entry of this same layer
		if err := unix.Mknod(path, unix.S_IFCHR|0o000, int(unix.Mkdev(0, 0))); err != nil {
			return true, fmt.Errorf("mknod(%s, S_IFCHR, 0:0): %w", path, err)
		}
		return true, nil
	}
	return false, nil
}
