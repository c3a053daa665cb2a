package oci

import "scratchcontainer/runtime/container"

// Chapter is chapter 11. toConfig is the chapter's own code: oci.go has it,
// or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "oci",
		Capability: "the OCI runtime command line: create, start, state, kill, delete over a bundle",
		Bundle:     ReadBundle,
		Attach:     Furnish,
		Parked:     Mount,
		Enter:      SwitchUser,
	}
}
