//go:build workshop || workshop04

// Exercise for chapter 04: read README.md, write the TODOs, and run
// `make chapter N=04` until it passes. (proc.go is the reference answer;
// chapter.go plugs your code into the runtime.)
// Given, in tables.go: the devices, links, masked and read-only paths, the
// mount options, the flags safe (MS_NOSUID|MS_NODEV|MS_NOEXEC), and mount,
// a mount(2) whose error names what was mounted where.

package proc

import (
	"errors"

	"scratchcontainer/runtime/container"
)

// MountKernelFS runs inside the child, after pivot_root: / is the rootfs,
// and nothing mounted here reaches the host (chapter 03 made / private).
func MountKernelFS(c *container.Container) error {
	// TODO: mount proc on /proc (safe), then MakeDev(c), then sysfs on /sys
	// read-only (safe|MS_RDONLY), then MaskPaths(c).
	return errors.New("chapter 04 exercise: MountKernelFS is not written yet (chapters/04-proc/exercise.go)")
}

// MakeDev mounts a tmpfs on /dev and fills it.
func MakeDev(c *container.Container) error {
	// TODO:
	//  1. a tmpfs on /dev (MS_NOSUID, devOptions)
	//  2. each of devices(): unix.Mknod("/dev/"+name, unix.S_IFCHR|0o666, int(unix.Mkdev(major, minor))),
	//     then chmod 0666 (mknod's mode goes through the umask); but in a user
	//     namespace (chapter 09: c.Resources["oldroot"] is set) mknod is refused:
	//     bindNode(c, d, c.Resources["oldroot"]+"/dev/"+name) binds the host's node
	//  3. mkdir /dev/pts, /dev/shm and /dev/mqueue; mount devpts on /dev/pts
	//     (MS_NOSUID|MS_NOEXEC, devptsOptions), a tmpfs on /dev/shm (safe,
	//     shmOptions), mqueue on /dev/mqueue (safe)
	//  4. each of links(): unix.Symlink(target, name)
	return errors.New("chapter 04 exercise: MakeDev is not written yet")
}

// MaskPaths hides the host-wide parts of /proc and /sys (runc's defaults).
func MaskPaths(c *container.Container) error {
	// TODO:
	//  - each of maskedPaths(c): stat it (skip paths this kernel lacks:
	//    ENOENT); over a directory mount an empty read-only tmpfs, over
	//    anything else bind /dev/null.
	//  - each of readonlyPaths(c): bind it onto itself (MS_BIND|MS_REC), then
	//    remount that bind MS_BIND|MS_REMOUNT|MS_RDONLY.
	return errors.New("chapter 04 exercise: MaskPaths is not written yet")
}
