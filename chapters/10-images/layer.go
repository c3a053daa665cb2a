package images

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// DefaultStore is the image store's directory unless -store says otherwise.
const DefaultStore = "/var/lib/scratchcontainer"

// StoreDir is the store container c uses: -store, or the default.
func StoreDir(c *container.Container) string {
	if c.Config.Store != "" {
		return c.Config.Store
	}
	return DefaultStore
}

// LayerDir is where container id's writable layer lives in store: upper/,
// work/ and merged/ under <store>/containers/<id>/.
func LayerDir(store, id string) string { return filepath.Join(store, "containers", id) }

// Prepare runs on the host before clone: it checks the volumes, makes the
// container's writable layer, mounts the overlay on merged/ and binds the
// volumes into it, then records merged/ as the directory chapter 03's
// pivot_root enters (container.RootDir). The mount is made here, on the
// host, as Docker makes it: the child's mount namespace is a copy of the
// host's taken at clone, so the child finds it there, and the host can look
// into upper/ while the container runs.
func Prepare(c *container.Container) error {
	volumes, err := ParseVolumes(c.Config.Volumes)
	if err != nil {
		return err
	}
	lower := []string{c.Config.Rootfs}
	if stack := c.Resources["lowerdir"]; stack != "" { // an image's layers (Resolve)
		lower = strings.Split(stack, ":")
	}
	dir := LayerDir(StoreDir(c), c.ID)
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	// Recorded before it exists: Release removes whatever part of it
	// was made, should anything below fail.
	if err := c.Record("layer", dir); err != nil {
		return err
	}
	for _, d := range []string{upper, work, merged} {
		c.Trace("mkdir -p %s", d)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create the container's layer %s: %w", d, err)
		}
	}
	if err := MountOverlay(c, lower, upper, work, merged); err != nil {
		return err
	}
	for _, v := range volumes {
		if err := BindVolume(c, merged, v); err != nil {
			return err
		}
	}
	return c.Record("rootfs", merged)
}

// Release unmounts the overlay, with the volumes on it, and removes the
// container's layer: what the container wrote is gone. It is idempotent, for
// gc.
func Release(c *container.Container) error {
	dir := c.Resources["layer"]
	if dir == "" {
		return nil
	}
	merged := filepath.Join(dir, "merged")
	// MNT_DETACH takes the volumes mounted under merged/ along.
	c.Trace("umount2(%q, MNT_DETACH)", merged)
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount the container's overlay %s: %w", merged, err)
	}
	// Never remove through a mount: that would delete a volume's files.
	if mounted(merged) {
		return fmt.Errorf("remove the container's layer %s: %s is still mounted", dir, merged)
	}
	c.Trace("rm -r %s", dir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the container's layer %s: %w", dir, err)
	}
	return nil
}

// mounted reports whether dir is a mount point: it lies on another device
// than its parent, or /proc/self/mountinfo names it (a bind mount of the same
// filesystem).
func mounted(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil {
		return false
	}
	if unix.Lstat(filepath.Dir(dir), &parent) == nil && st.Dev != parent.Dev {
		return true
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	return err == nil && strings.Contains(string(b), " "+dir+" ")
}
