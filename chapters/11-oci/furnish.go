package oci

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Furnish runs on the host once the child exists, before it is released:
// what config.json asks beyond the flags and can be done from outside. A
// resource limit whose hard value is above the child's goes on the child's
// process from here (prlimit(2)): raising a hard limit takes
// CAP_SYS_RESOURCE, which the child may have given up (chapter 08); the
// child sets every limit itself, last before its execve (SetRlimits). The
// OOM score goes on the child's process too (/proc/<pid>/oom_score_adj),
// and execve keeps both. The sysctls are written from a thread of ours that
// joins the child's network and IPC namespaces (setns(2)). The mounts come
// later (Mount).
func Furnish(c *container.Container) error {
	cfg := c.Config
	for _, r := range cfg.Rlimits {
		var now unix.Rlimit
		if err := unix.Prlimit(c.Pid, rlimits[r.Type], nil, &now); err != nil {
			return fmt.Errorf("process.rlimits %s: prlimit: %w", r.Type, err)
		}
		if r.Hard <= now.Max {
			continue // the child lowers it itself (SetRlimits)
		}
		c.Trace("prlimit(%d, %s, {cur: %d, max: %d})", c.Pid, r.Type, r.Soft, r.Hard)
		limit := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(c.Pid, rlimits[r.Type], &limit, nil); err != nil {
			return fmt.Errorf("process.rlimits %s=%d:%d: prlimit: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	if adj := cfg.OOMScoreAdj; adj != nil {
		path := fmt.Sprintf("/proc/%d/oom_score_adj", c.Pid)
		c.Trace("write %s = %d", path, *adj)
		if err := os.WriteFile(path, []byte(fmt.Sprint(*adj)), 0o644); err != nil {
			return fmt.Errorf("process.oomScoreAdj %d: %w", *adj, err)
		}
	}
	if len(cfg.Sysctl) > 0 {
		if err := inNamespaces(c, unix.CLONE_NEWNET|unix.CLONE_NEWIPC, func() error { return setSysctls(c) }); err != nil {
			return err
		}
	}
	return nil
}

// inNamespaces runs do on a thread of its own that joins the namespaces
// nstype of the child (a pidfd, as container.JoinNamespace). The thread is
// never unlocked, so Go retires it after: no other goroutine ever runs in
// the container's namespaces.
func inNamespaces(c *container.Container, nstype int, do func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if nstype&unix.CLONE_NEWNS != 0 {
			// setns(2) refuses a mount namespace to a thread that shares
			// its root and working directory with others: Go's threads do.
			c.Trace("unshare(CLONE_FS)")
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				done <- fmt.Errorf("unshare(CLONE_FS): %w", err)
				return
			}
		}
		if err := container.JoinNamespace(c, nstype); err != nil {
			done <- err
			return
		}
		// The child joins a network namespace given by path only in its
		// Enter (chapter 06): its sysctls go there already.
		if path := c.Config.NetNS; path != "" && nstype&unix.CLONE_NEWNET != 0 {
			if err := setnsPath(c, path, unix.CLONE_NEWNET); err != nil {
				done <- err
				return
			}
		}
		done <- do()
	}()
	return <-done
}

func setnsPath(c *container.Container, path string, nstype int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", path, container.UnwrapPath(err))
	}
	defer f.Close()
	c.Trace("setns(open(%q), %v)", path, container.CloneFlags(nstype))
	if err := unix.Setns(int(f.Fd()), nstype); err != nil {
		return fmt.Errorf("setns into %s: %w", path, err)
	}
	return nil
}

// setSysctls writes each sysctl under the host's /proc/sys: this thread is
// in the child's network and IPC namespaces, and those files show the
// namespaces of whoever opens them.
func setSysctls(c *container.Container) error {
	for key, value := range c.Config.Sysctl {
		path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		c.Trace("write %s = %s", path, value)
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			return fmt.Errorf("linux.sysctl %s=%s: %w", key, value, container.UnwrapPath(err))
		}
	}
	return nil
}

// Mount runs on the host once a created container's child waits at the
// start gate (Parked): it makes config.json's mounts, in their order, in the
// child's mount namespace, from a thread of ours that joins it. By then
// chapter 04 has mounted /proc, /dev and /sys there, so ours come after
// theirs in the mount table, as the config lists them; and the thread,
// joined, has the container's / as its root, so a destination (and any
// link on its way) resolves inside the container, never on the host.
//
// A bind mount's source is a host path, out of sight in there: this
// goroutine, still in the host's mount namespace, clones it as a mount of
// its own, detached (open_tree(2) with OPEN_TREE_CLONE, AT_RECURSIVE for
// rbind), and the thread in there attaches it with move_mount(2). Each is
// cloned when its turn comes: the mount table lists mounts in the order
// they were made, and a clone is made by open_tree.
//
// Last, root.readonly makes the container's / read-only (remountRoot): only
// now, as the mount points above had to be made in it first.
func Mount(c *container.Container) error {
	if len(c.Config.Mounts) == 0 && !c.Config.ReadonlyRoot {
		return nil
	}
	sources := make(chan container.Mount) // from the thread in there: clone this
	clones := make(chan int)              // to it: the clone, or -1 if that failed
	done := make(chan error, 1)
	go func() {
		done <- inNamespaces(c, unix.CLONE_NEWNS, func() error {
			for _, m := range c.Config.Mounts {
				clone := -1
				if isBind(m) {
					sources <- m
					if clone = <-clones; clone < 0 {
						return nil // the error is the host side's
					}
				}
				err := mountOne(c, m, clone)
				if clone >= 0 {
					unix.Close(clone)
				}
				if err != nil {
					return fmt.Errorf("mounts: %s: %w", m.Destination, err)
				}
			}
			if c.Config.ReadonlyRoot {
				return remountRoot(c)
			}
			return nil
		})
		close(sources)
	}()
	var cloneErr error
	for m := range sources {
		fd, err := cloneSource(c, m)
		if err != nil {
			cloneErr = err
		}
		clones <- fd
	}
	if err := <-done; err != nil {
		return err
	}
	return cloneErr
}

// remountRoot makes the container's / read-only, as runc does for
// root.readonly: a bind mount takes MS_RDONLY only in a remount of the bind
// (MS_BIND|MS_REMOUNT), which changes the one mount, not the file system
// (the rootfs stays writable on the host, and in the mounts on top of /).
// This thread's root is the container's /, so "/" is that mount. A remount
// must keep the flags it has that the kernel locked (nosuid, nodev, noexec
// of a mount a user namespace inherited): statfs(2) reads them. Inside,
// only CAP_SYS_ADMIN could remount it rw, and chapter 08 keeps that from
// the container.
func remountRoot(c *container.Container) error {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return fmt.Errorf("root.readonly: statfs /: %w", err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct{ st, ms uintptr }{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC}} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	c.Trace(`mount("", "/", "", %v, "")`, container.MountFlags(flags))
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("root.readonly: remount / read-only: %w", err)
	}
	return nil
}

// cloneSource is open_tree(2) of a bind mount's source: a detached copy of
// the mount, which move_mount(2) attaches wherever the caller then is.
func cloneSource(c *container.Container, m container.Mount) (int, error) {
	flags, how := uint(unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC), "OPEN_TREE_CLONE"
	if slices.Contains(m.Options, "rbind") { // the mounts below it too
		flags, how = flags|unix.AT_RECURSIVE, how+"|AT_RECURSIVE"
	}
	c.Trace("open_tree(AT_FDCWD, %q, %s)", m.Source, how)
	fd, err := unix.OpenTree(unix.AT_FDCWD, m.Source, flags)
	if err != nil {
		return -1, fmt.Errorf("mounts: %s: clone the source %s: %w", m.Destination, m.Source, container.UnwrapPath(err))
	}
	return fd, nil
}

// isBind reports whether m is a bind mount: its type or an option says so.
func isBind(m container.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// mountOne makes m at its destination, in the container's mount namespace
// and root: clone is the detached copy of a bind mount's source, else -1.
func mountOne(c *container.Container, m container.Mount, clone int) error {
	var flags, propagate uintptr
	var data []string
	copyUp := false
	for _, o := range m.Options {
		f, ok := mountOptions[o]
		switch {
		case o == tmpCopyUp:
			copyUp = true
		case propagation[o] != 0:
			propagate = propagation[o]
		case !ok:
			data = append(data, o) // key=value: the file system's own
		default:
			flags |= f
		}
	}
	target := m.Destination
	if err := mountPoint(target, clone); err != nil {
		return err
	}
	under := -1 // tmpcopyup: the directory the tmpfs is about to cover
	if copyUp {
		c.Trace("open(%q, O_DIRECTORY): what the tmpfs covers, to copy up", target)
		fd, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("option %s: open %s: %w", tmpCopyUp, target, err)
		}
		defer unix.Close(fd)
		under = fd
	}
	if err := mountAt(c, m, target, clone, flags&^(unix.MS_BIND|unix.MS_REC), strings.Join(data, ",")); err != nil {
		return err
	}
	if under >= 0 {
		c.Trace("copy the tree under %s into the tmpfs on it", target)
		if err := copyTree(under, target); err != nil {
			return fmt.Errorf("option %s: %w", tmpCopyUp, err)
		}
	}
	if propagate != 0 {
		c.Trace("mount(\"\", %q, \"\", %v, \"\")", target, container.MountFlags(propagate))
		if err := unix.Mount("", target, "", propagate, ""); err != nil {
			return fmt.Errorf("set propagation %v: %w", container.MountFlags(propagate), err)
		}
	}
	return nil
}

// mountAt attaches a bind mount's clone on target, then remounts it for its
// flags (a bind mount takes them only so); or mounts a file system there,
// with its data.
func mountAt(c *container.Container, m container.Mount, target string, clone int, flags uintptr, data string) error {
	if clone >= 0 {
		c.Trace("move_mount(the clone of %q, \"\", AT_FDCWD, %q, MOVE_MOUNT_F_EMPTY_PATH)", m.Source, target)
		if err := unix.MoveMount(clone, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("bind %s: move_mount: %w", m.Source, err)
		}
		if flags != 0 {
			c.Trace("mount(\"\", %q, \"\", %v, \"\")", target, container.MountFlags(flags|unix.MS_BIND|unix.MS_REMOUNT))
			if err := unix.Mount("", target, "", flags|unix.MS_BIND|unix.MS_REMOUNT, ""); err != nil {
				return fmt.Errorf("remount %v: %w", container.MountFlags(flags), err)
			}
		}
		return nil
	}
	c.Trace("mount(%q, %q, %q, %v, %q)", m.Source, target, m.Type, container.MountFlags(flags), data)
	if err := unix.Mount(m.Source, target, m.Type, flags, data); err != nil {
		return fmt.Errorf("mount -t %s %s: %w", m.Type, m.Source, err)
	}
	return nil
}

// mountPoint makes the mount's target: a file for a bind of a file, a
// directory otherwise, as runc does.
func mountPoint(target string, clone int) error {
	var st unix.Stat_t
	if clone >= 0 {
		if err := unix.Fstat(clone, &st); err != nil {
			return fmt.Errorf("stat the source: %w", err)
		}
	}
	if clone < 0 || st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil && !errors.Is(err, unix.EISDIR) {
		return err
	}
	if f != nil {
		f.Close()
	}
	return nil
}

// tmpCopyUp is the mount option (runc's and crun's, not the kernel's) that
// asks for a tmpfs filled with what the directory under it holds: podman
// gives it for --read-only's /tmp, /var/tmp and /run. The directory is
// opened before the mount hides it, and copied from that fd (copyTree).
const tmpCopyUp = "tmpcopyup"

// copyTree copies what directory from (an open fd of it, under the tmpfs
// now) holds into dir: directories, files, symbolic links, with their
// modes and owners. Each name is opened relative to its directory's fd and
// without following a link (openat(2), O_NOFOLLOW), so nothing outside the
// covered directory is read; special files are not copied.
func copyTree(from int, dir string) error {
	fd, err := unix.Dup(from) // the *os.File closes its own
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		var st unix.Stat_t
		if err := unix.Fstatat(from, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %s/%s: %w", dir, e.Name(), err)
		}
		to, mode := filepath.Join(dir, e.Name()), os.FileMode(st.Mode&0o7777)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			sub, err := unix.Openat(from, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err == nil {
				if err = os.Mkdir(to, mode); err == nil {
					err = copyTree(sub, to)
				}
				unix.Close(sub)
			}
			if err != nil {
				return err
			}
		case unix.S_IFREG:
			if err := copyFile(from, e.Name(), to, mode); err != nil {
				return err
			}
		case unix.S_IFLNK:
			buf := make([]byte, unix.PathMax)
			n, err := unix.Readlinkat(from, e.Name(), buf)
			if err == nil {
				err = os.Symlink(string(buf[:n]), to)
			}
			if err != nil {
				return fmt.Errorf("copy the link %s: %w", to, err)
			}
		default:
			continue
		}
		if err := os.Lchown(to, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", to, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			if err := os.Chmod(to, mode); err != nil { // past the umask
				return err
			}
		}
	}
	return nil
}

// copyFile copies file name of directory fd dir to path to.
func copyFile(dir int, name, to string, mode os.FileMode) error {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", to, err)
	}
	src := os.NewFile(uintptr(fd), name)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s: %w", to, err)
	}
	return dst.Close()
}

// mountOptions are the options of mount(8) that are mount(2) flags.
var mountOptions = map[string]uintptr{
	"bind": unix.MS_BIND, "rbind": unix.MS_BIND | unix.MS_REC,
	"ro": unix.MS_RDONLY, "rw": 0, "nosuid": unix.MS_NOSUID, "suid": 0,
	"nodev": unix.MS_NODEV, "dev": 0, "noexec": unix.MS_NOEXEC, "exec": 0,
	"relatime": unix.MS_RELATIME, "noatime": unix.MS_NOATIME, "strictatime": unix.MS_STRICTATIME,
}

// propagation are the options that set a mount's propagation type
// (mount_namespaces(7)), with a mount(2) of their own after the mount.
var propagation = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// rlimits are the resources of getrlimit(2), by name.
var rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// SetRlimits runs in the child, last before its execve: it sets each
// resource limit of config.json (setrlimit(2); lowering one needs no
// privilege, and Furnish raised from the host what needed raising). Not
// earlier, and not from the host: the child is still a Go program until
// its execve, and a limit meant for the command would bind it first (Go
// reserves more address space than a 1 GiB RLIMIT_AS allows). syscall's
// Setrlimit, not a raw prlimit(2): Go raised its own soft RLIMIT_NOFILE at
// start-up and puts the original back at execve, unless a program sets
// that limit through it.
func SetRlimits(c *container.Container) error {
	for _, r := range c.Config.Rlimits {
		c.Trace("setrlimit(%s, {cur: %d, max: %d})", r.Type, r.Soft, r.Hard)
		if err := syscall.Setrlimit(rlimits[r.Type], &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("process.rlimits %s=%d:%d: setrlimit: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}
