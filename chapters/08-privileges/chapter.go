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
		Enter:      enter,
		Join:       JoinConfined,
		Inspect:    Inspect,
	}
}

// enter is the chapter's Enter: process.user first (BecomeUser, for a
// config.json's; `run` has none), then Confine.
func enter(c *container.Container) error {
	if err := BecomeUser(c); err != nil {
		return err
	}
	return Confine(c)
}
