package images

import "scratchcontainer/runtime/container"

// Chapter is chapter 10. MountOverlay and Whiteout are the chapter's own
// code: images.go has them, or exercise.go in the workshop. The chapter adds
// no namespace: the overlay is a mount in chapter 03's.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "images",
		Capability: "copy-on-write root filesystems, volumes, and images pulled from a registry",
		Flags:      []string{"v", "store"},
		Resolve:    Resolve,
		Prepare:    Prepare,
		Release:    Release,
		Inspect:    Inspect,
		Commands:   Commands(),
	}
}
