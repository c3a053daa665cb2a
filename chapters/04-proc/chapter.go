package proc

import "scratchcontainer/runtime/container"

// Chapter is chapter 04. MountKernelFS, MakeDev and MaskPaths are the
// chapter's own code: proc.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "proc",
		Capability: "own /proc, /dev and read-only /sys; host paths masked",
		Enter:      MountKernelFS,
		Inspect:    Inspect,
	}
}
