package images

import "scratchcontainer/runtime/container"

// Chapter is chapter 10. MountOverlay and Whiteout are the chapter's own
// code: images.go has them, or exercise.go in the workshop. The chapter adds
// no namespace: it mounts in chapter 03's, which the guard checks first.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "images",
		Capability: "copy-on-write root filesystems, volumes, and images pulled from a registry",
		Flags:      []string{"v", "store"},
		Namespaces: []string{"mnt"},
		Resolve:    Resolve,
		Attach:     Attach,
		// Without root: the overlay mounted by the child itself.
		AttachInside: AttachInside,
		Release:      Release,
		Inspect:      Inspect,
		Commands:     Commands(),
	}
}
