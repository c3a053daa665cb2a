package mount

import "scratchcontainer/runtime/container"

// Chapter is chapter 03. cloneFlags, CheckRootfs and PivotRoot are the
// chapter's own code: mount.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "mount",
		Capability: "own filesystem: pivot_root into the rootfs",
		CloneFlags: cloneFlags,
		Namespaces: []string{"mnt"},
		Prepare:    CheckRootfs,
		Enter:      PivotRoot,
		Join:       JoinMount,
		Inspect:    Inspect,
	}
}
