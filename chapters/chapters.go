// Package chapters is the course at a glance: the ordered list of chapters,
// each adding one capability to the container.
package chapters

import (
	uts "scratchcontainer/chapters/01-uts"
	pid "scratchcontainer/chapters/02-pid"
	mount "scratchcontainer/chapters/03-mount"
	proc "scratchcontainer/chapters/04-proc"
	cgroups "scratchcontainer/chapters/05-cgroups"
	veth "scratchcontainer/chapters/06-veth"
	publish "scratchcontainer/chapters/07-publish"
	privileges "scratchcontainer/chapters/08-privileges"
	userns "scratchcontainer/chapters/09-userns"
	images "scratchcontainer/chapters/10-images"
	oci "scratchcontainer/chapters/11-oci"
	"scratchcontainer/runtime/container"
)

// All returns every chapter, in course order.
func All() []container.Chapter {
	return []container.Chapter{
		uts.Chapter(),        // 01: own hostname
		pid.Chapter(),        // 02: own process IDs, the command is PID 1
		mount.Chapter(),      // 03: own filesystem, pivot_root into the rootfs
		proc.Chapter(),       // 04: own /proc, /dev and read-only /sys
		cgroups.Chapter(),    // 05: limits on CPU, memory and processes
		veth.Chapter(),       // 06: own network: veth pair, routing and NAT
		publish.Chapter(),    // 07: host ports published into the container
		privileges.Chapter(), // 08: root inside is not root on the host
		userns.Chapter(),     // 09: root inside is uid 100000 on the host
		images.Chapter(),     // 10: copy-on-write root filesystems, volumes, images
		oci.Chapter(),        // 11: the OCI runtime command line, for podman and containerd
	}
}

// Upto returns chapters 1..n: the runtime as it stands after chapter n.
func Upto(n int) []container.Chapter { return All()[:n] }
