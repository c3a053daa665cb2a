package images

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	userns "scratchcontainer/chapters/09-userns"
	"scratchcontainer/runtime/container"
)

// DefaultStore is the image store's directory unless -store says otherwise.
const DefaultStore = "/var/lib/scratchcontainer"

// StoreDir is the store container c uses: -store, or the default (for a
// run without root, UserStore).
func StoreDir(c *container.Container) string {
	if c.Config.Store != "" {
		return c.Config.Store
	}
	if c.Rootless {
		return UserStore()
	}
	return DefaultStore
}

// UserStore is the store of a user other than root, who may not write
// /var/lib: $XDG_DATA_HOME/scratchcontainer, by default
// ~/.local/share/scratchcontainer (the XDG base directories, as podman's
// ~/.local/share/containers).
func UserStore() string {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "scratchcontainer")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "scratchcontainer")
}

// LayerDir is where container id's writable layer lives in store: upper/,
// work/ and merged/ under <store>/containers/<id>/.
func LayerDir(store, id string) string { return filepath.Join(store, "containers", id) }

// MakeLayer makes the container's writable layer, upper/ and work/, and
// merged/, where the overlay will be mounted. It is the first step of
// Attach: the child needs none of it before its Enter, so it is made while
// the child's Go runtime starts, not before the clone.
func MakeLayer(c *container.Container) error {
	dir := LayerDir(StoreDir(c), c.ID)
	// Recorded before it exists: Release removes whatever part of it
	// was made, should anything below fail.
	if err := c.Record("layer", dir); err != nil {
		return err
	}
	if err := makeLayerDir(c, dir); err != nil {
		return err
	}
	for _, d := range []string{"upper", "work", "merged"} {
		// upper/ is the container's / (overlayfs takes the root's mode
		// from it): 0755, as an image's / is, or a user other than root
		// in the container could not even chdir("/"). work/ and merged/
		// are overlayfs's and the mount point.
		mode, octal := os.FileMode(0o700), "0700"
		if d == "upper" {
			mode, octal = 0o755, "0755"
		}
		c.Trace("mkdir %s/%s %s", dir, d, octal)
		if err := os.Mkdir(filepath.Join(dir, d), mode); err != nil {
			return fmt.Errorf("create the container's layer %s: %w", dir, err)
		}
		if err := os.Chmod(filepath.Join(dir, d), mode); err != nil { // past the umask
			return fmt.Errorf("create the container's layer %s: %w", dir, err)
		}
	}
	if c.Resources["uid_map"] == "" {
		return nil
	}
	// In a user namespace (chapter 09) the container's root is uid
	// 100000 on the host: upper/ is its /, and must be its own, as the
	// rootfs's / is root's through the idmapped mount. Overlayfs copies
	// a file up with the owner it has below: 0 through the maps, 100000
	// on the disk. work/ is touched only by overlayfs, as the host's root
	// that mounted it.
	uid, gid, err := userns.RootIDs(c)
	if err != nil {
		return err
	}
	upper := filepath.Join(dir, "upper")
	c.Trace("chown(%q, %d, %d)", upper, uid, gid)
	if err := os.Chown(upper, uid, gid); err != nil {
		return fmt.Errorf("give the container's upper layer %s to its root (host uid %d): %w", upper, uid, err)
	}
	return nil
}

// makeLayerDir makes dir, <store>/containers/<id>, and the store directories
// above it, mode 0711: searchable, not listable. Chapter 03's pivot_root
// looks up merged/ by its path from inside the child, and in a user
// namespace (chapter 09) the child is an ordinary user on the host. What the
// directories hold stays closed: upper/ and work/ are 0700, the store's
// blobs/ and layers/ 0700, its index.json 0600.
func makeLayerDir(c *container.Container, dir string) error {
	store := filepath.Dir(filepath.Dir(dir))
	// The store's parents (/var/lib on a host that has never had one)
	// are made as any program's data directories are: 0755.
	if err := os.MkdirAll(filepath.Dir(store), 0o755); err != nil {
		return fmt.Errorf("create the container's layer %s: %w", dir, err)
	}
	for _, d := range []string{store, filepath.Dir(dir), dir} {
		c.Trace("mkdir %s 0711", d)
		if err := os.Mkdir(d, 0o711); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create the container's layer %s: %w", dir, err)
		}
		// An existing store (pull made it 0700) opens for searching.
		if err := os.Chmod(d, 0o711); err != nil {
			return fmt.Errorf("make %s searchable (0711) for the container's root: %w", d, err)
		}
	}
	return nil
}

// Attach runs on the host once the child exists, blocked: it makes the
// layer (MakeLayer), mounts the overlay on merged/ and binds the volumes
// into it, inside the child's mount namespace, then sets merged/ as the
// directory chapter 03's pivot_root enters (container.RootDir). Made there,
// the mounts are never in the host's mount table, and they go with the
// namespace when the container exits; the host still sees upper/, where
// the changes live. Without root, the child mounts them itself
// (AttachInside).
//
// A bundle's container (chapter 11's create) gets no layer: root.path is
// its / itself, as the OCI runtime spec and runc have it, and its writes
// land there, where the caller looks for them.
//
// setns(2) into a mount namespace moves one thread, and for good: a thread
// of its own does it, locked and never unlocked, so Go ends the thread
// with it instead of handing it to other goroutines.
func Attach(c *container.Container) error {
	if c.Config.Created() {
		return nil
	}
	if err := MakeLayer(c); err != nil {
		return err
	}
	if c.Rootless {
		return nil // the child mounts it: AttachInside
	}
	volumes, err := ParseVolumes(c.Config.Volumes)
	if err != nil {
		return err
	}
	lower := []string{c.Config.Rootfs}
	if stack := c.Resources["lowerdir"]; stack != "" { // an image's layers (Resolve)
		lower = strings.Split(stack, ":")
	}
	dir := c.Resources["layer"]
	merged := filepath.Join(dir, "merged")
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		done <- mountInChild(c, lower, dir, volumes)
	}()
	if err := <-done; err != nil {
		return err
	}
	c.Set("rootfs", merged)
	return nil
}

// mountInChild enters the child's mount namespace on this thread and
// mounts the overlay and the volumes there.
func mountInChild(c *container.Container, lower []string, dir string, volumes []Volume) error {
	// The kernel refuses setns(CLONE_NEWNS) to a thread sharing its root
	// and working directory with others, as every Go thread does.
	c.Trace("unshare(CLONE_FS)")
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := container.JoinNamespace(c, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter the container's mount namespace: %w", err)
	}
	return mountLayers(c, lower, dir, volumes)
}

// AttachInside is Attach for a run without root: the child, root of its
// user namespace, mounts the overlay and the volumes itself, before
// chapter 03's pivot_root, which the host without root cannot enter the
// child's mount namespace to do (see container.Chapter.AttachInside).
// An ordinary user may mount overlayfs in a user namespace of its own
// since Linux 5.11. The layers are not idmapped: the rootfs's files are
// seen as they are on the disk (chapter 09's rootless.go).
func AttachInside(c *container.Container) error {
	volumes, err := ParseVolumes(c.Config.Volumes)
	if err != nil {
		return err
	}
	lower := []string{c.Config.Rootfs}
	if stack := c.Resources["lowerdir"]; stack != "" {
		lower = strings.Split(stack, ":")
	}
	dir := c.Resources["layer"]
	if err := mountLayers(c, lower, dir, volumes); err != nil {
		return err
	}
	// The child's own copy: chapter 03 enters it; the host's record
	// keeps only the layer, which Release removes.
	c.Resources["rootfs"] = filepath.Join(dir, "merged")
	return nil
}

// mountLayers mounts the overlay on dir/merged and the volumes into it, in
// the caller's mount namespace, the container's.
func mountLayers(c *container.Container, lower []string, dir string, volumes []Volume) error {
	// The child's mounts are still peers of the host's (chapter 03 makes
	// them private only later, inside): a mount made now would show on
	// the host. Private first, as 03 does.
	c.Trace(`mount("", "/", "", MS_PRIVATE|MS_REC, "")`)
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make the container's / recursively private: %w", err)
	}
	if c.Resources["uid_map"] != "" && !c.Rootless {
		if err := idmapLayers(c, lower); err != nil {
			return err
		}
	}
	merged := filepath.Join(dir, "merged")
	if err := MountOverlay(c, lower, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), merged); err != nil {
		if c.Rootless && errors.Is(err, unix.EPERM) {
			return fmt.Errorf("%w: without root, overlayfs mounts only in a user namespace, from Linux 5.11 (uname -r): run with -chapter 9 (no layer of its own), or as root", err)
		}
		return err
	}
	for _, v := range volumes {
		if err := BindVolume(c, merged, v); err != nil {
			return err
		}
	}
	return nil
}

// idmapLayers shows an image's layers to the overlay through the maps of
// the container's user namespace (chapter 09): their files are the host's
// root's, and without the maps the container's root (uid 100000 on the
// host) would see every file as nobody's and own none. Each layer gets an
// idmapped mount over its own path, in the child's mount namespace only;
// overlayfs takes idmapped lower layers since Linux 5.19. The rootfs (or
// the init layer of an image) is chapter 09's: mapped already.
func idmapLayers(c *container.Container, lower []string) error {
	for _, l := range lower {
		if l == c.Config.Rootfs {
			continue
		}
		tree, err := userns.IDMapped(c, l)
		if err != nil {
			return err
		}
		c.Trace("move_mount(tree, \"\", AT_FDCWD, %q, MOVE_MOUNT_F_EMPTY_PATH)", l)
		err = unix.MoveMount(tree, "", unix.AT_FDCWD, l, unix.MOVE_MOUNT_F_EMPTY_PATH)
		unix.Close(tree)
		if err != nil {
			return fmt.Errorf("attach the idmapped layer %s: move_mount: %w", l, err)
		}
	}
	return nil
}

// Release removes the container's layer: what it wrote is gone. The overlay
// went with the container's mount namespace. It is idempotent, for gc.
func Release(c *container.Container) error {
	dir := c.Resources["layer"]
	if dir == "" {
		return nil
	}
	// Never remove through a mount: that would delete a volume's files.
	if merged := filepath.Join(dir, "merged"); mounted(merged) {
		return fmt.Errorf("remove the container's layer %s: %s is mounted on the host (umount it first)", dir, merged)
	}
	c.Trace("rm -r %s", dir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the container's layer %s: %w", dir, err)
	}
	return nil
}

// mounted reports whether dir is a mount point: it lies on another device
// than its parent, or the calling thread's mountinfo names it (a bind mount
// of the same filesystem). /proc/thread-self, not /proc/self: a thread that
// entered a container's mount namespace (Attach) sees that namespace's
// mounts, the host's threads the host's.
func mounted(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil {
		return false
	}
	if unix.Lstat(filepath.Dir(dir), &parent) == nil && st.Dev != parent.Dev {
		return true
	}
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	return err == nil && strings.Contains(string(b), " "+dir+" ")
}
