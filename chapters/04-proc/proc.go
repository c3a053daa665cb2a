//go:build !workshop && !workshop04

// Package proc gives the container the kernel's file systems a program
// expects to find: its own /proc, a minimal /dev, and a read-only /sys.
//
// After chapter 03, / is the rootfs, but /proc, /dev and /sys are empty
// directories: `ps` finds nothing, `> /dev/null` creates a plain file. Those
// directories are not on disk on any Linux system; the kernel serves them,
// and each container mounts its own, from inside, after pivot_root:
//
//  1. proc on /proc: a proc mounted by a process of a PID namespace shows
//     that namespace's processes, so `ps` sees only the container and
//     /proc/1 is the command. (The host's /proc, bind-mounted, would show
//     every host process, and /proc/1/root would lead to the host's /.)
//  2. a tmpfs on /dev with the few device nodes every program assumes
//     (null, zero, full, random, urandom, tty), made with mknod(2); a
//     devpts of its own for terminals (newinstance: the container cannot
//     see or open the host's terminals); a tmpfs for POSIX shared memory on
//     /dev/shm; the POSIX message queues of the container's IPC namespace
//     on /dev/mqueue (mq_overview(7); chapter 08 makes that namespace its
//     own, until then they are the host's); and the links to /proc/self/fd
//     that shells rely on.
//     The host's /dev is never shared: it holds the host's disks.
//  3. sysfs on /sys, read-only: programs read it (devices, network
//     interfaces of the container's network namespace), but nothing inside
//     should reconfigure the host's hardware.
//  4. in a user namespace (chapter 09), mknod(2) is refused, and the kernel
//     mounts proc and sysfs only while the host's are in view: chapter 03
//     leaves the old root at c.Resources["oldroot"], the device nodes are
//     the host's, bind-mounted, and the old root is detached at the end.
//  5. masked /proc paths, as runc does by default: the PID namespace
//     filters /proc/<pid>, but much of /proc is the whole machine's.
//     Files that leak host memory or state (/proc/kcore, /proc/keys,
//     /proc/timer_list) get /dev/null bind-mounted over them; such
//     directories (/proc/acpi, /proc/scsi) an empty read-only tmpfs; and
//     the knobs that configure the host's kernel (/proc/sys,
//     /proc/sysrq-trigger, ...) are made read-only.
//
// Syscalls: mount(2) (fresh mounts, bind mounts, MS_REMOUNT), mknod(2),
// symlink(2).
// Man pages: proc(5), pid_namespaces(7) ("/proc and PID namespaces"),
// tmpfs(5), mq_overview(7), devpts in Documentation/filesystems/devpts.rst, sysfs(5),
// makedev(3).
package proc

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// MountKernelFS runs inside the child, after pivot_root: / is the rootfs,
// and nothing mounted here reaches the host (chapter 03 made / private).
func MountKernelFS(c *container.Container) error {
	if err := mount(c, "proc", "/proc", "proc", safe, ""); err != nil {
		return err
	}
	if err := MakeDev(c); err != nil {
		return err
	}
	if err := mount(c, "sysfs", "/sys", "sysfs", safe|unix.MS_RDONLY, ""); err != nil {
		return err
	}
	return MaskPaths(c)
}

// MakeDev mounts a tmpfs on /dev and fills it: device nodes, a devpts of
// its own, /dev/shm, /dev/mqueue, and the links (tables.go lists them).
func MakeDev(c *container.Container) error {
	// nosuid but not nodev: the nodes we make here must work.
	if err := mount(c, "tmpfs", "/dev", "tmpfs", unix.MS_NOSUID, devOptions); err != nil {
		return err
	}
	for _, d := range devices() {
		if hostDev := c.Resources["oldroot"]; hostDev != "" {
			// In a user namespace mknod(2) is refused: bind the
			// host's node instead, as runc's rootless mode does.
			if err := bindNode(c, d, hostDev+"/dev/"+d.name); err != nil {
				return err
			}
			continue
		}
		path := "/dev/" + d.name
		c.Trace("mknod(%q, S_IFCHR|0666, makedev(%d, %d)), chmod 0666", path, d.major, d.minor)
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod %s c %d %d: %w", path, d.major, d.minor, err)
		}
		// mknod's mode is filtered by the umask (usually 022): set it.
		if err := unix.Chmod(path, 0o666); err != nil {
			return fmt.Errorf("chmod 0666 %s: %w", path, err)
		}
	}
	for _, dir := range []string{"/dev/pts", "/dev/shm", "/dev/mqueue"} {
		c.Trace("mkdir(%q, 0755)", dir)
		if err := unix.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", dir, err)
		}
	}
	// newinstance: a devpts of our own, not the host's terminals.
	if err := mount(c, "devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, devptsOptions); err != nil {
		return err
	}
	if err := mount(c, "shm", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, shmOptions); err != nil {
		return err
	}
	// mqueue shows the queues of the IPC namespace of whoever mounts it.
	if err := mount(c, "mqueue", "/dev/mqueue", "mqueue", safe, ""); err != nil {
		return err
	}
	for _, l := range links() {
		c.Trace("symlink(%q, %q)", l.target, l.name)
		if err := unix.Symlink(l.target, l.name); err != nil {
			return fmt.Errorf("symlink %s -> %s: %w", l.name, l.target, err)
		}
	}
	return nil
}

// MaskPaths hides the host-wide parts of /proc and /sys (runc's defaults,
// listed in tables.go): what the kernel of this host lacks is skipped.
func MaskPaths(c *container.Container) error {
	for _, path := range maskedPaths(c) {
		// stat first, not a bind tried and refused with ENOTDIR: the
		// kernel undoes a refused bind's copy, and that waits for an RCU
		// grace period (0.1 ms on the test machine).
		var st unix.Stat_t
		if err := unix.Stat(path, &st); errors.Is(err, unix.ENOENT) {
			continue // not on this kernel
		} else if err != nil {
			return fmt.Errorf("mask %s: %w", path, err)
		}
		var err error
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			// A directory: an empty tmpfs over it, read-only.
			c.Trace(`mount("tmpfs", %q, "tmpfs", MS_RDONLY, "")`, path)
			err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "")
		} else {
			// A file: /dev/null over it reads as empty, writes go nowhere.
			c.Trace(`mount("/dev/null", %q, "", MS_BIND, "")`, path)
			err = unix.Mount("/dev/null", path, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", path, err)
		}
	}
	for _, path := range readonlyPaths(c) {
		// A bind mount ignores the flags it is given: bind the path
		// onto itself, then remount that one bind read-only.
		c.Trace(`mount(%q, %q, "", MS_BIND|MS_REC, ""), then MS_REMOUNT|MS_RDONLY`, path, path)
		err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, "")
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err == nil {
			err = unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|safe, "")
		}
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", path, err)
		}
	}
	return nil
}
