package oci

import "scratchcontainer/runtime/container"

// Chapter is chapter 11. toConfig is the chapter's own code: oci.go has it,
// or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "oci",
		Capability: "the OCI runtime command line: create, start, state, kill, delete over a bundle",
		Bundle:     ReadBundle,
		Attach:     attach,
		Parked:     Mount,
		Enter:      Console,
		Join:       JoinConsole,
		Starting:   StartHooks,
		Started:    PoststartHooks,
		Deleted:    PoststopHooks,
	}
}

// attach is the chapter's Attach: Furnish, then the hooks the spec runs
// before pivot_root, on the host (CreateHooks).
func attach(c *container.Container) error {
	if err := Furnish(c); err != nil {
		return err
	}
	return CreateHooks(c)
}
