//go:build !workshop && !workshop03

// Package mount gives the container its own filesystem: the rootfs becomes
// its /, and the host's files are gone from its view.
//
// chroot(2) alone is not enough: it changes where "/" resolves for one
// process, but the host's root is still mounted underneath, and a root
// process can climb back out (testdata/helpers/breakout shows how).
// Real runtimes use pivot_root(2) in a mount namespace of their own:
//
//  1. clone(2) with CLONE_NEWNS: the child gets a copy of the host's mount
//     table, which it can change without the host seeing it;
//  2. make / recursively private: on most hosts (systemd) mounts are
//     shared, so without this every mount we make below would propagate
//     back to the host, and pivot_root refuses a shared mount (EINVAL);
//  3. bind-mount the rootfs onto itself: pivot_root needs the new root to
//     be a mount point;
//  4. pivot_root(rootfs, rootfs/.oldroot-<id>): the rootfs becomes /, the
//     host's old root is moved to /.oldroot-<id> (named for the container, as
//     two containers may share a rootfs);
//  5. unmount it (detached, as the host's mounts are busy) and
//     remove the directory: nothing of the host is reachable any more.
//
// Syscalls: mount(2), pivot_root(2), umount2(2), chdir(2).
// Man pages: mount_namespaces(7), pivot_root(2), chroot(2).
package mount

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 03.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "mount",
		Capability: "own filesystem: pivot_root into the rootfs",
		CloneFlags: unix.CLONE_NEWNS,
		Prepare:    CheckRootfs,
		Enter:      PivotRoot,
		Join:       JoinMount,
	}
}

// CheckRootfs runs on the host: the rootfs must be a directory, and it gets
// the mount points the chapters need if it lacks them.
func CheckRootfs(c *container.Container) error {
	rootfs := c.Config.Rootfs
	fi, err := os.Stat(rootfs)
	switch {
	case err != nil:
		return fmt.Errorf("rootfs %s: %w (make rootfs builds one in build/rootfs)", rootfs, unwrapPath(err))
	case !fi.IsDir():
		return fmt.Errorf("rootfs %s is not a directory: give the directory that becomes / (make rootfs builds one in build/rootfs)", rootfs)
	}
	for _, dir := range []string{"proc", "dev", "sys"} { // later chapters mount here
		if err := os.MkdirAll(filepath.Join(rootfs, dir), 0o755); err != nil {
			return fmt.Errorf("create mount point /%s in rootfs %s: %w", dir, rootfs, err)
		}
	}
	return nil
}

// PivotRoot runs inside the child, in its new mount namespace, and makes
// the rootfs its /.
func PivotRoot(c *container.Container) error {
	rootfs := c.Config.Rootfs
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / recursively private: %w", err)
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mount rootfs %s onto itself: %w", rootfs, err)
	}
	// Named for the container: two containers may share one rootfs.
	putOld := ".oldroot-" + c.ID
	oldRoot := filepath.Join(rootfs, putOld)
	if err := os.MkdirAll(oldRoot, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", oldRoot, err)
	}
	if err := unix.PivotRoot(rootfs, oldRoot); err != nil {
		os.Remove(oldRoot)
		return fmt.Errorf("pivot_root into %s: %w (is / a shared mount?)", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the new root: %w", err)
	}
	if err := unix.Unmount("/"+putOld, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the old root: %w", err)
	}
	if err := os.Remove("/" + putOld); err != nil {
		return fmt.Errorf("remove /%s: %w", putOld, err)
	}
	return nil
}

// unwrapPath drops the path from a *PathError: our message names it already.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
