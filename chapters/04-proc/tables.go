package proc

import (
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// safe are the flags of a kernel file system no program is run from: no
// set-user-ID programs, no device nodes, nothing executable.
const safe = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// Mount options of what MakeDev mounts. /dev holds only device nodes and
// links, and /dev/shm is memory the container's processes share: both are
// small. newinstance gives the container a devpts of its own, whose ptmx
// anyone may open: ptys are numbered from 0 and the host's terminals are
// not in it.
const (
	devOptions    = "mode=755,size=65536k"
	devptsOptions = "newinstance,ptmxmode=0666,mode=0620"
	shmOptions    = "mode=1777,size=65536k"
)

// A device is a character device node in /dev.
type device struct {
	name         string
	major, minor uint32
}

// devices are the nodes every program assumes, numbered as the kernel's
// Documentation/admin-guide/devices.txt has them.
func devices() []device {
	return []device{
		{"null", 1, 3},    // discards writes, reads as empty
		{"zero", 1, 5},    // reads as zeros
		{"full", 1, 7},    // every write fails: no space left on device
		{"random", 1, 8},  // random bytes
		{"urandom", 1, 9}, // random bytes, never blocks
		{"tty", 5, 0},     // the process's controlling terminal
	}
}

// A link is a symbolic link in /dev.
type link struct{ name, target string }

// links are the links shells and programs expect in /dev.
func links() []link {
	return []link{
		{"/dev/fd", "/proc/self/fd"},
		{"/dev/stdin", "/proc/self/fd/0"},
		{"/dev/stdout", "/proc/self/fd/1"},
		{"/dev/stderr", "/proc/self/fd/2"},
		{"/dev/ptmx", "pts/ptmx"}, // the multiplexer of our own devpts
	}
}

// maskedPaths leak host memory or state; readonlyPaths configure the host's
// kernel. They are runc's defaults: the OCI runtime spec's maskedPaths and
// readonlyPaths that Docker and containerd send; a config.json's own lists
// (chapter 11) come on top.
func maskedPaths(c *container.Container) []string {
	return withOwn([]string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}, c.Config.MaskedPaths)
}

func readonlyPaths(c *container.Container) []string {
	return withOwn([]string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}, c.Config.ReadonlyPaths)
}

// withOwn is defaults, then each path of own not among them.
func withOwn(defaults, own []string) []string {
	for _, path := range own {
		if !slices.Contains(defaults, path) {
			defaults = append(defaults, path)
		}
	}
	return defaults
}

// mount is mount(2), its error naming what was mounted where.
func mount(c *container.Container, source, target, fstype string, flags uintptr, data string) error {
	c.Trace("mount(%q, %q, %q, %v, %q)", source, target, fstype, container.MountFlags(flags), data)
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		if data != "" {
			data = " -o " + data
		}
		return fmt.Errorf("mount -t %s %s %s%s: %w", fstype, source, target, data, err)
	}
	return nil
}

// DeviceNames are the nodes MakeDev makes, for chapter 11, which checks a
// config.json's linux.devices against them.
func DeviceNames() []string {
	var names []string
	for _, d := range devices() {
		names = append(names, d.name)
	}
	return names
}

// bindNode makes device d in /dev a bind mount of the host's node at
// hostPath: a user namespace may not mknod(2), but it may bind a node the
// host made, and open it as the node's mode allows (0666 for these).
func bindNode(c *container.Container, d device, hostPath string) error {
	path := "/dev/" + d.name
	c.Trace("create %s, mount(%q, %q, \"\", MS_BIND, \"\")", path, hostPath, path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		return fmt.Errorf("create %s to bind the host's node on: %w", path, err)
	}
	f.Close()
	if err := unix.Mount(hostPath, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind the host's %s (c %d:%d) onto %s: %w", hostPath, d.major, d.minor, path, err)
	}
	return nil
}

// detachOldRoot unmounts the host's old root chapter 03 left in a user
// namespace (c.Resources["oldroot"]), now that proc, sysfs and the device
// nodes are mounted: from here nothing of the host is reachable.
func detachOldRoot(c *container.Container) error {
	oldRoot := c.Resources["oldroot"]
	if oldRoot == "" {
		return nil
	}
	c.Trace("umount2(%q, MNT_DETACH), rmdir", oldRoot)
	if err := unix.Unmount(oldRoot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the old root %s: %w", oldRoot, err)
	}
	if err := os.Remove(oldRoot); err != nil {
		return fmt.Errorf("remove %s: %w", oldRoot, err)
	}
	return nil
}
