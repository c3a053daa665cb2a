package container

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process is what `exec` runs in a container: the command line's, or an
// OCI process.json's (`exec --process FILE`, as podman's conmon calls it).
type Process struct {
	Args    []string
	Env     []string // the whole environment; nil: the container's
	Dir     string   // working directory; empty: /
	User    *User    // nil: root
	Detach  bool     // start it and return 0: the caller (conmon, a subreaper) waits for it
	PidFile string   // write its host PID there once it runs
	// ConsoleSocket (exec --tty --console-socket): the command gets a new
	// terminal of the container's as its stdio and controlling terminal,
	// and the caller listening there gets its master (chapter 11's Join).
	ConsoleSocket string
}

// Exec runs a command inside running container id (in state directory
// root), as `docker exec` does: it runs each chapter's Join, so the command
// starts in everything the chapters made (namespaces, cgroup,
// restrictions), with the container's root, its environment and / as the
// working directory unless p says otherwise. It returns the command's exit
// status, or 0 at once for p.Detach.
//
// setns(2), capabilities and no_new_privs belong to one thread, not to the
// process: so this goroutine is locked to its thread, every Join runs on
// it, and the command is forked from it, inheriting what the Joins did.
// The thread is never unlocked: Go retires it when Exec's goroutine ends.
//
// The hooks run in chapter order. None of them may depend on seeing the
// host's files after an earlier one entered the container's mount
// namespace (chapter 03): namespaces are joined through a pidfd, not
// /proc/<pid>/ns, and the cgroup is joined from another thread (see
// chapter 05's JoinExec). Privileges are given up last (chapter 08), as
// setns(2) and writing cgroup files need them.
//
// With trace, it narrates each step on stderr.
func Exec(root, id string, p Process, course []Chapter, trace bool) (int, error) {
	c, err := LoadIn(root, id)
	if err != nil {
		return 0, err
	}
	if trace {
		c.trace = newTracer(os.Stderr, "host")
		defer c.traceFinish(nil)
	}
	if !c.Running || c.Orphaned() {
		return 0, fmt.Errorf("container %s is not running (see scratchcontainer ps)", id)
	}
	if c.Rootless {
		// Every namespace of the container is owned by its user
		// namespace, and only a member of it may join them without root;
		// the kernel lets only a single-threaded process in (setns(2)),
		// and a Go program never is one.
		return 0, Errorf(StatusRuntimeFailed, "exec into %s: without root, this runtime cannot enter the container's user namespace (setns(2) refuses a process with threads, as every Go program is): nsenter -t %d -U -u -i -n -m -p -C -r -w --preserve-credentials CMD can, with every capability of the container's root, none of chapter 08's limits", id, c.Pid)
	}
	if c.Config.Chapters > len(course) {
		return 0, fmt.Errorf("container %s runs chapters 1..%d, this runtime knows %d: exec with the runtime that started it", id, c.Config.Chapters, len(course))
	}

	var pids *pidFile
	if p.PidFile != "" { // opened while this thread still sees the host's files
		if pids, err = openPidFile(p.PidFile); err != nil {
			return 0, err
		}
	}
	if p.ConsoleSocket != "" { // connected while this thread still sees the host's files
		if c.Console, err = ConnectConsole(p.ConsoleSocket); err != nil {
			return 0, err
		}
		defer c.Console.Close()
	}
	runtime.LockOSThread() // never unlocked: see above
	for i, ch := range active(c.Config, course[:c.Config.Chapters]) {
		if ch.Join != nil {
			c.traceChapter(i, ch)
			if err := ch.Join(c); err != nil {
				return 0, fmt.Errorf("exec into %s: %s: %w", id, ch.Name, err)
			}
		}
	}
	if c.Console != nil && c.Tty == nil {
		return 0, Errorf(StatusRuntimeFailed, "exec --tty into %s: a terminal is chapter 11's, and the container runs chapters 1..%d: exec without --tty", id, c.Config.Chapters)
	}
	// From here this thread sees the container's files: look the command up there.
	env := p.Env
	if env == nil {
		env = Environ(c.Config.Env)
	}
	path, err := LookPath(p.Args[0], getenv(env, "PATH"))
	if err != nil {
		return 0, err
	}
	dir := p.Dir
	if dir == "" {
		dir = "/"
	}
	cmd := &exec.Cmd{Path: path, Args: p.Args, Env: env, Dir: dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, SysProcAttr: &syscall.SysProcAttr{}}
	if c.Tty != nil {
		// The child calls setsid(2), then ioctl(0, TIOCSCTTY): a session
		// of its own, whose controlling terminal is the slave (Ctty is the
		// child's fd number). Our copy of the slave goes once it started.
		defer c.Tty.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Tty, c.Tty, c.Tty
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	}
	if u := p.User; u != nil {
		// The forked child takes them before execve: this thread keeps its own.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.AdditionalGids}
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(signals)
	c.traceRuntime("fork, execve(%q, %q)", path, p.Args)
	if err := cmd.Start(); err != nil {
		return 0, explainExec(path, err)
	}
	if pids != nil {
		if err := pids.write(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
	}
	if p.Detach {
		// We exit; the command is reparented to the nearest subreaper
		// (conmon: prctl(PR_SET_CHILD_SUBREAPER)), which reaps it.
		return 0, cmd.Process.Release()
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(cmd.Process.Pid, false, signals, done)
	c.traceRuntime("wait4(%d): the command runs", cmd.Process.Pid)
	return exitStatus(cmd.Wait()), nil
}

// pidFile is a --pid-file whose directory is open: written through it, the
// file lands on the host even from a thread in the container's mount
// namespace (Exec's).
type pidFile struct {
	path string
	dir  *os.File
}

func openPidFile(path string) (*pidFile, error) {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("--pid-file %s: %w", path, UnwrapPath(err))
	}
	return &pidFile{path: path, dir: dir}, nil
}

// write writes pid whole, then renames it into place (openat(2),
// renameat(2)): conmon reads it as soon as it appears. It closes f.
func (f *pidFile) write(pid int) error {
	defer f.dir.Close()
	dirfd, name := int(f.dir.Fd()), filepath.Base(f.path)
	fd, err := unix.Openat(dirfd, name+".tmp", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err == nil {
		_, err = unix.Write(fd, []byte(strconv.Itoa(pid)))
		unix.Close(fd)
	}
	if err == nil {
		err = unix.Renameat(dirfd, name+".tmp", dirfd, name)
	}
	if err != nil {
		return fmt.Errorf("--pid-file %s: %w", f.path, err)
	}
	return nil
}

// init keeps the main goroutine on the process's main thread, the thread
// group leader, for the life of the process. The chapters that enter a
// container's namespace from the host (JoinNamespace) lock a goroutine to
// its thread and let the thread end with the goroutine. Go can end any
// thread but the main one: that one it parks for good, still in the
// container's namespaces, and /proc/self, which is the main thread's, would
// from then on describe the container (its mount table, its namespaces)
// instead of the host. Locked here, the main thread never runs another
// goroutine, so it stays in the host's namespaces.
func init() { runtime.LockOSThread() }

// JoinNamespace moves the calling thread into one namespace of container
// c's PID 1: nstype is the namespace's clone(2) flag, which the chapter that
// made it names. It goes through a pidfd (pidfd_open(2), then setns(2) with the
// pidfd, Linux 5.8), not through /proc/<pid>/ns/*: once this thread is in
// the container's mount namespace, /proc is the container's, where the
// host's PID means nothing.
func JoinNamespace(c *Container, nstype int) error {
	pid := c.Pid
	c.Trace("setns(pidfd_open(%d), %v)", pid, CloneFlags(nstype))
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w (has the container exited?)", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, nstype); err != nil {
		return fmt.Errorf("setns(pidfd of PID %d, %#x): %w", pid, nstype, err)
	}
	return nil
}

// ConnectConsole connects to a --console-socket, the unix socket (unix(7))
// the caller (conmon) listens on for a terminal's master: socket(2),
// connect(2). It is done while the caller still sees the host's files, as
// the socket's path is one of them. execve closes it (SOCK_CLOEXEC).
func ConnectConsole(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--console-socket %s: socket: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--console-socket %s: connect: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
