package userns

import "scratchcontainer/runtime/container"

// Chapter is chapter 09. cloneFlags and WriteMaps are the chapter's own
// code: userns.go has them, or exercise.go in the workshop.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "userns",
		Capability: "root in the container is uid 100000 on the host: user namespace, idmapped rootfs",
		Flags:      []string{"userns"},
		Off:        func(cfg container.Config) bool { return cfg.UserNS == "host" },
		CloneFlags: cloneFlags,
		Namespaces: []string{"user"},
		Prepare:    Prepare,
		Attach:     Attach,
		Inspect:    Inspect,
	}
}

// Attach runs on the host while the child waits for its orders: the maps
// first (WriteMaps), then the rootfs seen through them (MountRootfs).
func Attach(c *container.Container) error {
	if err := WriteMaps(c); err != nil {
		return err
	}
	return MountRootfs(c)
}
