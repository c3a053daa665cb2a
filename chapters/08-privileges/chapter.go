package privileges

import "scratchcontainer/runtime/container"

// Chapter is chapter 08. cloneFlags, Confine and restrict are the chapter's
// own code: privileges.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "privileges",
		Capability: "root in the container is not root on the host: capabilities, seccomp, devices",
		Flags:      []string{"cap-add", "cap-drop", "privileged"},
		CloneFlags: cloneFlags,
		Namespaces: []string{"ipc"},
		Prepare:    Prepare,
		Enter:      Confine,
		Join:       JoinConfined,
		Inspect:    Inspect,
	}
}
