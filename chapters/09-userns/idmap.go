package userns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// MountRootfs runs on the host after WriteMaps: it mounts the rootfs, seen
// through the container's maps, over the rootfs's own path in the child's
// mount namespace, so that chapter 03's pivot_root enters it unchanged.
// Through it the host's uid 0 is the container's uid 0, both ways: the
// rootfs's files are root's inside, and what the container's root creates
// there is root's on the disk, as with -userns host.
//
// /tmp is the exception: the rootfs's /tmp is mounted over it as it is,
// without the maps. It is where the container writes for itself, and what
// it writes there belongs to 100000 on the host, as on every file system it
// mounts itself (/dev/shm) and, in chapter 10, its volumes.
//
// An idmapped mount is made by the host's root (CAP_SYS_ADMIN where the
// file system was mounted), on a detached copy of the rootfs's mount tree
// (open_tree(2) with OPEN_TREE_CLONE), given the user namespace whose maps
// it applies (mount_setattr(2), MOUNT_ATTR_IDMAP); then a thread of ours
// enters the child's mount namespace and attaches it there (move_mount(2)).
// The host's mount table never holds it.
func MountRootfs(c *container.Container) error {
	rootfs := c.Config.Rootfs
	userns := fmt.Sprintf("/proc/%d/ns/user", c.Pid)
	nsfd, err := unix.Open(userns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", userns, err)
	}
	defer unix.Close(nsfd)

	c.Trace("open_tree(AT_FDCWD, %q, OPEN_TREE_CLONE|AT_RECURSIVE)", rootfs)
	tree, err := unix.OpenTree(unix.AT_FDCWD, rootfs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("open_tree(%s, OPEN_TREE_CLONE): %w (detached mounts need Linux 5.2; or run with -userns host)", rootfs, err)
	}
	defer unix.Close(tree)
	c.Trace("mount_setattr(tree, \"\", AT_EMPTY_PATH|AT_RECURSIVE, MOUNT_ATTR_IDMAP, %s)", userns)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(nsfd)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("idmapped mount of rootfs %s: mount_setattr(MOUNT_ATTR_IDMAP): %w: this kernel or the rootfs's file system cannot idmap a mount (Linux 5.12 or later, on ext4, xfs, btrfs, or tmpfs from 6.3); run with -userns host", rootfs, err)
	}

	// The rootfs's /tmp as it is, before the idmapped tree covers it.
	tmp := -1
	if fi, err := os.Stat(filepath.Join(rootfs, "tmp")); err == nil && fi.IsDir() {
		c.Trace("open_tree(AT_FDCWD, %q, OPEN_TREE_CLONE)", rootfs+"/tmp")
		if tmp, err = unix.OpenTree(unix.AT_FDCWD, filepath.Join(rootfs, "tmp"), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err != nil {
			return fmt.Errorf("open_tree(%s/tmp, OPEN_TREE_CLONE): %w", rootfs, err)
		}
		defer unix.Close(tmp)
	}

	return inMountNamespace(c, func() error {
		c.Trace("move_mount(tree, \"\", AT_FDCWD, %q, MOVE_MOUNT_F_EMPTY_PATH)", rootfs)
		if err := unix.MoveMount(tree, "", unix.AT_FDCWD, rootfs, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach the idmapped rootfs at %s: move_mount: %w", rootfs, err)
		}
		if tmp < 0 {
			return nil
		}
		c.Trace("move_mount(tmp, \"\", AT_FDCWD, %q, MOVE_MOUNT_F_EMPTY_PATH)", rootfs+"/tmp")
		if err := unix.MoveMount(tmp, "", unix.AT_FDCWD, filepath.Join(rootfs, "tmp"), unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach %s/tmp without the maps: move_mount: %w", rootfs, err)
		}
		return nil
	})
}

// inMountNamespace runs f on a thread of its own that entered container
// c's mount namespace. The thread is never given back to Go: locked to a
// goroutine that ends, it ends too, and its namespace with it.
func inMountNamespace(c *container.Container, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The kernel refuses a mount namespace to a thread that shares
		// its root and working directory with others (see chapter 03's
		// JoinMount): a copy of its own first.
		c.Trace("unshare(CLONE_FS)")
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- fmt.Errorf("unshare(CLONE_FS): %w", err)
			return
		}
		if err := container.JoinNamespace(c, unix.CLONE_NEWNS); err != nil {
			done <- fmt.Errorf("enter the container's mount namespace: %w", err)
			return
		}
		done <- f()
	}()
	return <-done
}
