// Command attack tries, from inside a container, the escapes that root with
// every capability has, and prints one line per attack:
//
//	mount-tmpfs allowed
//	mount-tmpfs denied (EPERM)
//
// "allowed" means the kernel let the call past its permission checks: it
// succeeded, or failed later for a harmless reason, shown in brackets
// (EBADF: the module file descriptor was a bad one on purpose). Each attack
// is harmless when it succeeds: it reads only, writes back the value it
// read, or undoes what it did at once. With arguments, only the attacks
// named run.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type attack struct {
	name string
	try  func() error
}

func attacks() []attack {
	return append([]attack{
		{"mknod-disk", mknodDisk},
		{"mknod-kmsg", mknodKmsg},
		{"mount-tmpfs", mountTmpfs},
		{"remount-proc-sys", func() error { return withProcSysWritable(func() error { return nil }) }},
		{"core-pattern", corePattern},
		{"mount-cgroup", mountCgroup},
		{"finit-module", func() error { return unix.FinitModule(-1, "", 0) }},
		{"open-by-handle", openByHandle},
		{"settimeofday", func() error { return rawErr(unix.Syscall(unix.SYS_SETTIMEOFDAY, 0, 0, 0)) }},
		{"keyctl", keyctl},
		{"unshare-user", func() error { return child(&syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWUSER}) }},
		{"clone-user", func() error { return child(&syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}) }},
		{"swapoff", swapoff},
		{"reboot", func() error { return rawErr(unix.Syscall6(unix.SYS_REBOOT, 0, 0, 0, 0, 0, 0)) }},
	}, archAttacks()...)
}

func main() {
	only := map[string]bool{}
	for _, name := range os.Args[1:] {
		only[name] = true
	}
	for _, a := range attacks() {
		if len(only) > 0 && !only[a.name] {
			continue
		}
		err := a.try()
		var errno unix.Errno
		switch {
		case err == nil:
			fmt.Println(a.name, "allowed")
		case errors.As(err, &errno) && (errno == unix.EPERM || errno == unix.EACCES):
			fmt.Printf("%s denied (%s)\n", a.name, unix.ErrnoName(errno))
		case errors.As(err, &errno):
			fmt.Printf("%s allowed (%s)\n", a.name, unix.ErrnoName(errno))
		default:
			fmt.Printf("%s error: %v\n", a.name, err)
		}
	}
}

// mknodDisk makes a node for the disk under the container's / and reads
// its first sector: whoever can, can read (and write) every host file.
func mknodDisk() error {
	major, minor, err := hostDisk()
	if err != nil {
		return err
	}
	node := "/dev/.attack-disk"
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
		return err
	}
	defer unix.Unlink(node)
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	_, err = unix.Read(fd, make([]byte, 512))
	return err
}

// mknodKmsg makes a node for the kernel's log (c 1:11), the host's, and
// reads a record of it: a device chapter 04 never made.
func mknodKmsg() error {
	node := "/dev/.attack-kmsg"
	if err := unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 11))); err != nil {
		return err
	}
	defer unix.Unlink(node)
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if _, err := unix.Read(fd, make([]byte, 4096)); err != nil && err != unix.EAGAIN {
		return err
	}
	return nil
}

// hostDisk is the block device the container's / lives on, from
// /proc/self/mountinfo; if that is not a disk (tmpfs, overlay: major 0),
// the first disk /sys/class/block lists.
func hostDisk() (uint32, uint32, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		var major, minor uint32
		if len(f) > 4 && f[4] == "/" {
			if _, err := fmt.Sscanf(f[2], "%d:%d", &major, &minor); err == nil && major != 0 {
				return major, minor, nil
			}
		}
	}
	devs, _ := filepath.Glob("/sys/class/block/*/dev")
	for _, dev := range devs {
		name := filepath.Base(filepath.Dir(dev))
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
			continue
		}
		var major, minor uint32
		if b, err := os.ReadFile(dev); err == nil {
			if _, err := fmt.Sscanf(string(b), "%d:%d", &major, &minor); err == nil {
				return major, minor, nil
			}
		}
	}
	return 0, 0, errors.New("no block device found")
}

// mountTmpfs mounts a tmpfs on a fresh directory of /dev, and unmounts it.
func mountTmpfs() error {
	return mountAt("tmpfs", "size=1m")
}

// mountCgroup mounts the cgroup2 file system: outside a cgroup namespace
// that is the host's whole tree, where a process can move itself out of
// its limits. It is unmounted at once.
func mountCgroup() error {
	return mountAt("cgroup2", "")
}

func mountAt(fstype, data string) error {
	dir := "/dev/.attack-" + fstype
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := unix.Mount("none", dir, fstype, 0, data); err != nil {
		return err
	}
	return unix.Unmount(dir, unix.MNT_DETACH)
}

// withProcSysWritable remounts /proc/sys (read-only since chapter 04)
// read-write, runs f, and remounts it as it was.
func withProcSysWritable(f func() error) error {
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/sys", &st); err != nil {
		return err
	}
	flags := uintptr(st.Flags) & (unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME)
	if err := unix.Mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND|flags&^unix.MS_RDONLY, ""); err != nil {
		return err
	}
	ferr := f()
	if err := unix.Mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND|flags, ""); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}

// corePattern writes the host's core_pattern back as it read it. A write
// of "|/path" would have the host's kernel run /path as root at the next
// crash: the classic escape.
func corePattern() error {
	return withProcSysWritable(func() error {
		const path = "/proc/sys/kernel/core_pattern"
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write(b)
		return err
	})
}

// openByHandle asks for a file by a made-up handle, as the "shocker"
// escape did to walk the host's disk: EPERM without CAP_DAC_READ_SEARCH,
// a stale handle (ESTALE) or a bad one past the check.
func openByHandle() error {
	handle := struct {
		bytes uint32
		typ   int32
		f     [8]byte
	}{bytes: 8, typ: 1}
	cwd := unix.AT_FDCWD
	fd, _, errno := unix.Syscall(unix.SYS_OPEN_BY_HANDLE_AT, uintptr(cwd), uintptr(unsafe.Pointer(&handle)), unix.O_RDONLY)
	if errno != 0 {
		return errno
	}
	unix.Close(int(fd))
	return nil
}

// keyctl looks up the session keyring's ID: keyrings are not namespaced.
func keyctl() error {
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	return err
}

// child starts /bin/true in a new user namespace (in it, root has every
// capability again).
func child(attr *syscall.SysProcAttr) error {
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait()
}

// swapoff turns off swap on a file that does not exist: ENOENT past the check.
func swapoff() error {
	p, _ := unix.BytePtrFromString("/nonexistent-attack-swap")
	return rawErr(unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0))
}

func rawErr(_, _ uintptr, errno unix.Errno) error {
	if errno != 0 {
		return errno
	}
	return nil
}
