//go:build !workshop && !workshop09

// Package userns makes root in the container an ordinary user on the host.
// After chapter 08 the container's root has few capabilities left, but it
// is still uid 0: a file it writes where the host can reach it belongs to
// the host's root, and a kernel bug that lets it out finds it root on the
// host. A user namespace (user_namespaces(7)) gives the container IDs of
// its own:
//
//  1. clone(2) with CLONE_NEWUSER beside the other CLONE_NEW* flags: the
//     kernel makes the user namespace first, and it owns the others. The
//     child has every capability, but only over what its user namespace
//     owns: it may set its hostname, mount a proc of its PID namespace,
//     configure its network, and nothing of the host's.
//  2. The host writes the child's /proc/<pid>/uid_map and gid_map: "0
//     100000 65536" says the container's uids 0..65535 are the host's
//     100000..165535. Only a process outside may write them, once each:
//     the child cannot give itself host IDs, or every user could be root.
//     Until they are written its own uid is unmapped (it reads as 65534,
//     nobody), so the child waits on its orders pipe; then it takes uid 0
//     (setresuid(2)), which the host sees as 100000.
//  3. setgroups: a process may drop supplementary groups with setgroups(2),
//     and a group can be a "deny" (a file mode 0705 refuses its group). An
//     unprivileged user who maps its own uid must write "deny" to
//     /proc/<pid>/setgroups before gid_map; the host's root needs not.
//  4. The rootfs belongs to the host's root, unmapped inside: the
//     container's root would see every file as nobody's and could write
//     none. An idmapped mount (mount_setattr(2), MOUNT_ATTR_IDMAP, Linux
//     5.12) shows the rootfs through the same maps: the host's 0 is the
//     container's 0 (MountRootfs, idmap.go).
//
// Syscalls: clone(2) (CLONE_NEWUSER), write(2) of /proc/<pid>/uid_map,
// gid_map, setresuid(2), setgroups(2), open_tree(2), mount_setattr(2),
// move_mount(2), setns(2).
// Man pages: user_namespaces(7), capabilities(7) ("Capabilities and
// execution of programs by root" and "Interaction with user namespaces"),
// subuid(5), newuidmap(1), mount_setattr(2).
package userns

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// cloneFlags asks clone(2) for a new user namespace: IDs and capabilities
// of the container's own, owning every other namespace of the same clone.
const cloneFlags = unix.CLONE_NEWUSER

// WriteMaps runs on the host, once the child exists and before it is
// released: it writes the ranges Prepare chose into the child's uid_map
// and gid_map. The kernel takes each file once, in one write(2).
func WriteMaps(c *container.Container) error {
	for _, file := range []string{"uid_map", "gid_map"} {
		path := fmt.Sprintf("/proc/%d/%s", c.Pid, file)
		c.Trace("write %s = %s", path, c.Resources[file])
		if err := os.WriteFile(path, []byte(c.Resources[file]+"\n"), 0); err != nil {
			return fmt.Errorf("write %q to %s: %w", c.Resources[file], path, container.UnwrapPath(err))
		}
	}
	return nil
}
