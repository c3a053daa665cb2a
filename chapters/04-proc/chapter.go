package proc

import "scratchcontainer/runtime/container"

// Chapter is chapter 04. MountKernelFS, MakeDev and MaskPaths are the
// chapter's own code: proc.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "proc",
		Capability: "own /proc, /dev and read-only /sys; host paths masked",
		Enter:      enter,
		Inspect:    Inspect,
	}
}

// enter is the chapter's Enter: MountKernelFS, then, in a user namespace,
// the old root chapter 03 left for it goes.
func enter(c *container.Container) error {
	if err := MountKernelFS(c); err != nil {
		return err
	}
	return detachOldRoot(c)
}
