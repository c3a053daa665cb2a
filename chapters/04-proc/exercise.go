//go:build workshop || workshop04

// Exercise for chapter 04: read README.md, write the TODOs, and run
// `make chapter N=04` until it passes. (proc.go is the reference answer.)

package proc

import (
	"errors"

	"scratchcontainer/runtime/container"
)

// Chapter is chapter 04.
func Chapter() container.Chapter {
	return container.Chapter{
		Name:       "proc",
		Capability: "own /proc, /dev and read-only /sys; host paths masked",
		Enter:      MountKernelFS,
	}
}

// MountKernelFS runs inside the child, after pivot_root: / is the rootfs,
// and nothing mounted here reaches the host (chapter 03 made / private).
func MountKernelFS(c *container.Container) error {
	// TODO: mount proc on /proc (MS_NOSUID|MS_NODEV|MS_NOEXEC), then
	// MakeDev(), then sysfs on /sys read-only (add MS_RDONLY), then MaskPaths().
	return errors.New("chapter 04 exercise: MountKernelFS is not written yet (chapters/04-proc/exercise.go)")
}

// MakeDev mounts a tmpfs on /dev and fills it.
func MakeDev() error {
	// Character devices, numbered as the kernel's
	// Documentation/admin-guide/devices.txt has them.
	devices := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	links := []struct{ name, target string }{
		{"/dev/fd", "/proc/self/fd"},
		{"/dev/stdin", "/proc/self/fd/0"},
		{"/dev/stdout", "/proc/self/fd/1"},
		{"/dev/stderr", "/proc/self/fd/2"},
		{"/dev/ptmx", "pts/ptmx"},
	}
	// TODO:
	//  1. a tmpfs on /dev (MS_NOSUID, "mode=755")
	//  2. each device: unix.Mknod("/dev/"+name, unix.S_IFCHR|0o666, int(unix.Mkdev(major, minor))),
	//     then chmod 0666 (mknod's mode goes through the umask)
	//  3. mkdir /dev/pts and /dev/shm; mount devpts on /dev/pts with
	//     "newinstance,ptmxmode=0666,mode=0620", a tmpfs on /dev/shm ("mode=1777")
	//  4. each link: unix.Symlink(target, name)
	_, _ = devices, links
	return errors.New("chapter 04 exercise: MakeDev is not written yet")
}

// MaskPaths hides the host-wide parts of /proc and /sys (runc's defaults).
func MaskPaths() error {
	masked := []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonly := []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
	// TODO:
	//  - each masked path: bind /dev/null over it; if that fails with
	//    ENOTDIR it is a directory: mount an empty read-only tmpfs over it.
	//    Skip paths this kernel lacks (ENOENT).
	//  - each read-only path: bind it onto itself (MS_BIND|MS_REC), then
	//    remount that bind MS_BIND|MS_REMOUNT|MS_RDONLY.
	_, _ = masked, readonly
	return errors.New("chapter 04 exercise: MaskPaths is not written yet")
}
