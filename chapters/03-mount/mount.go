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

// cloneFlags asks clone(2) for a new mount namespace: the child gets a
// copy of the host's mount table, which it can change without the host
// seeing it.
const cloneFlags = unix.CLONE_NEWNS

// CheckRootfs runs on the host: the rootfs must be a directory, and it gets
// the mount points the chapters need if it lacks them.
func CheckRootfs(c *container.Container) error {
	rootfs := c.Config.Rootfs
	c.Trace("stat(%q)", rootfs)
	fi, err := os.Stat(rootfs)
	switch {
	case err != nil:
		return fmt.Errorf("rootfs %s: %w (make rootfs builds one in build/rootfs)", rootfs, container.UnwrapPath(err))
	case !fi.IsDir():
		return fmt.Errorf("rootfs %s is not a directory: give the directory that becomes / (make rootfs builds one in build/rootfs)", rootfs)
	}
	for _, dir := range []string{"proc", "dev", "sys"} { // later chapters mount here
		c.Trace("mkdir -p %s/%s", rootfs, dir)
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
	c.Trace(`mount("", "/", "", MS_PRIVATE|MS_REC, "")`)
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / recursively private: %w", err)
	}
	c.Trace(`mount(%q, %q, "", MS_BIND|MS_REC, "")`, rootfs, rootfs)
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mount rootfs %s onto itself: %w", rootfs, err)
	}
	// Named for the container: two containers may share one rootfs.
	putOld := ".oldroot-" + c.ID
	oldRoot := filepath.Join(rootfs, putOld)
	c.Trace("mkdir(%q, 0700)", oldRoot)
	if err := os.MkdirAll(oldRoot, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", oldRoot, err)
	}
	c.Trace("pivot_root(%q, %q)", rootfs, oldRoot)
	if err := unix.PivotRoot(rootfs, oldRoot); err != nil {
		os.Remove(oldRoot)
		return fmt.Errorf("pivot_root into %s: %w (is / a shared mount?)", rootfs, err)
	}
	c.Trace(`chdir("/")`)
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the new root: %w", err)
	}
	if c.Resources["uid_map"] != "" {
		// In a user namespace (chapter 09) the kernel lets the container
		// mount proc and sysfs only while the host's are in its view
		// (mount_too_revealing), and device nodes come from the host's
		// /dev: chapter 04 detaches the old root once it is done.
		c.Resources["oldroot"] = "/" + putOld
		return nil
	}
	c.Trace(`umount2("/%s", MNT_DETACH)`, putOld)
	if err := unix.Unmount("/"+putOld, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the old root: %w", err)
	}
	c.Trace(`rmdir("/%s")`, putOld)
	if err := os.Remove("/" + putOld); err != nil {
		return fmt.Errorf("remove /%s: %w", putOld, err)
	}
	return nil
}
