package container

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Files the host prepares for a container, such as chapter 06's
// /etc/resolv.conf, live in its state directory and are bind-mounted into
// the container. The host's /run is out of the child's view once
// pivot_root has detached the old root, and a bind mount's source must be
// in the caller's mount namespace, so the child clones each file as a
// mount of its own, detached (open_tree(2) with OPEN_TREE_CLONE), before
// any chapter's Enter; a chapter attaches it where it belongs after
// pivot_root (move_mount(2)). Whatever is not attached is closed before the
// command runs: an open handle on a host directory is a way out of the
// rootfs (runc's CVE-2024-21626).

// WriteHostFile runs on the host, before the clone: it writes name into the
// state directory and lists it for the child to clone (see HostFile).
func (c *Container) WriteHostFile(name, content string) error {
	path := filepath.Join(c.StateDir(), name)
	c.Trace("write %s", path)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	c.HostFiles = append(c.HostFiles, name)
	return nil
}

// HostFile is, in the child, a detached mount of the host file name: hand
// it to move_mount(2) with MOVE_MOUNT_F_EMPTY_PATH to attach it.
func (c *Container) HostFile(name string) (fd int, err error) {
	fd, ok := c.hostFiles[name]
	if !ok {
		return -1, fmt.Errorf("no host file %q for container %s", name, c.ID)
	}
	return fd, nil
}

// cloneHostFiles runs in the child before any Enter, while the host's /run
// is still in view.
func (c *Container) cloneHostFiles() error {
	c.hostFiles = map[string]int{}
	for _, name := range c.HostFiles {
		path := filepath.Join(c.StateDir(), name)
		c.traceRuntime("open_tree(AT_FDCWD, %q, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC)", path)
		fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("clone %s as a mount for the container: open_tree: %w (Linux 5.2 or newer)", path, err)
		}
		c.hostFiles[name] = fd
	}
	return nil
}

// closeHostFiles closes the clones; the attached ones stay mounted.
func (c *Container) closeHostFiles() {
	for name, fd := range c.hostFiles {
		unix.Close(fd)
		delete(c.hostFiles, name)
	}
}
