package publish

import "scratchcontainer/runtime/container"

// Chapter is chapter 07. sharedRules, localnetRules, Publish and Unpublish
// are the chapter's own code: publish.go has them, or exercise.go in the
// workshop. With -net pasta, pasta publishes the ports (pasta.go).
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "publish",
		Capability: "published ports: host port to container port, on every address or one",
		Flags:      []string{"publish", "p"},
		Prepare:    ReservePorts,
		Attach:     publish,
		Release:    unpublish,
		Inspect:    Inspect,
	}
}
