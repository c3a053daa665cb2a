//go:build !workshop && !workshop01

// Package uts gives the container its own hostname.
//
// A UTS namespace (the name comes from the kernel's struct utsname, "UNIX
// Time-sharing System") holds the hostname and the NIS domain name. A child
// cloned with CLONE_NEWUTS starts with a copy of the host's names; when it
// calls sethostname(2), only its own copy changes.
//
// Syscalls: clone(2) with CLONE_NEWUTS, sethostname(2).
// Man pages: uts_namespaces(7), namespaces(7).
package uts

import (
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 01.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "uts",
		Capability: "own hostname",
		CloneFlags: unix.CLONE_NEWUTS,
		Enter:      SetHostname,
		Join:       JoinUTS,
	}
}

// SetHostname runs inside the child, in its new UTS namespace: the host's
// hostname is untouched.
func SetHostname(c *container.Container) error {
	name := c.Hostname()
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("sethostname %q: %w", name, err)
	}
	return nil
}
