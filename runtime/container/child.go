package container

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The child's end of the two pipes from the host (Run's ExtraFiles).
const (
	ordersFd = 3 // the host writes the Container here once Attach is done
	execFd   = 4 // closed when the command runs
)

// DefaultPath is the container's PATH unless -e sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Child is the container's side of Run. It runs in the new namespaces as
// their first process, re-executed from the runtime with ChildCommand. It
// waits for its orders on fd 3, runs each chapter's Enter, and replaces
// itself with the command, which so becomes PID 1.
//
// It only returns on failure, with the error to exit with.
func Child(course []Chapter) error {
	orders := os.NewFile(ordersFd, "orders")
	var c Container
	// Blocks until the host has finished Attach.
	if err := json.NewDecoder(orders).Decode(&c); err != nil {
		return fmt.Errorf("read orders from the host: %w", err)
	}
	orders.Close()
	if c.Config.Trace {
		c.trace = newTracer(os.Stderr, "child")
		defer c.trace.mark() // a step that fails still gets its line
	}
	// execve closes this one: that tells the host the command runs.
	unix.CloseOnExec(execFd)
	// A network namespace given by path (config.json's) is a host path,
	// gone after pivot_root: open it now; chapter 06 joins it through
	// /proc/self/fd. execve closes it.
	if path := c.Config.NetNS; path != "" {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("network namespace %s: %w", path, err)
		}
		c.Config.NetNS = fmt.Sprintf("/proc/self/fd/%d", fd)
	}

	// So is --console-socket's: connect now; chapter 11 sends the
	// terminal's master through it. execve closes it.
	if path := c.Config.ConsoleSocket; path != "" {
		console, err := ConnectConsole(path)
		if err != nil {
			return err
		}
		c.Console = console
	}

	if err := c.cloneHostFiles(); err != nil {
		return err
	}
	defer c.closeHostFiles()

	c.crashPoint("entering")
	// The container's processes are root of their user namespace: uid 0
	// and gid 0, no supplementary groups. Without a user namespace of its
	// own the child is root already, and this changes nothing; in one
	// (chapter 09), uid 0 exists only now that the host wrote the maps
	// (Attach), and files the chapters create from here on are root's
	// inside. Credentials belong to a thread: these calls change only the
	// one the child's main goroutine is locked to (see init in exec.go),
	// which runs every Enter and the execve, and execve keeps only it.
	c.traceRuntime("setresgid(0, 0, 0), setgroups([]), setresuid(0, 0, 0): root of the container's user namespace")
	if err := becomeRoot(); err != nil {
		return err
	}
	chapters := active(c.Config, course[:c.Config.Chapters])
	if c.Rootless {
		for i, ch := range chapters {
			if ch.AttachInside != nil {
				c.traceChapter(i, ch)
				if err := ch.AttachInside(&c); err != nil {
					return err
				}
			}
		}
	}
	for i, ch := range chapters {
		if ch.Enter != nil {
			c.traceChapter(i, ch)
			if err := ch.Enter(&c); err != nil {
				return err
			}
		}
	}
	c.closeHostFiles()
	if c.Config.Dir != "" {
		c.traceRuntime("chdir(%q)", c.Config.Dir)
		if err := os.Chdir(c.Config.Dir); err != nil {
			return fmt.Errorf("working directory -w %s: %w", c.Config.Dir, err)
		}
	}
	c.traceExec(execFd)
	execve, err := prepareCommand(c.Config.Args, Environ(c.Config.Env), c.Config.Init, !c.Config.Created())
	if err != nil {
		return err
	}
	if c.Config.Created() {
		gate, err := waitStart()
		if err != nil {
			return err
		}
		for i, ch := range chapters {
			if ch.Starting != nil {
				c.traceChapter(i, ch)
				if err := ch.Starting(&c); err != nil {
					fmt.Fprint(gate, err) // for `start` to fail with
					return err
				}
			}
		}
	}
	return execve()
}

// becomeRoot takes uid 0 and gid 0 of the caller's user namespace.
func becomeRoot() error {
	// The raw system calls: syscall.Setresuid and unix.Setresuid change
	// every thread of the Go runtime, signalling each one in turn (0.2 ms
	// a call on the test machine), for threads that run no Enter and end
	// at execve.
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0); errno != 0 {
		return fmt.Errorf("setresgid(0, 0, 0): %w (is gid 0 in /proc/self/gid_map?)", errno)
	}
	// A user namespace whose maps an ordinary user wrote denies
	// setgroups(2) for good (user_namespaces(7)): the groups stay as they
	// came, unmapped ones shown as nobody.
	if b, _ := os.ReadFile("/proc/self/setgroups"); strings.TrimSpace(string(b)) != "deny" {
		if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); errno != 0 {
			return fmt.Errorf("setgroups([]): %w", errno)
		}
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); errno != 0 {
		return fmt.Errorf("setresuid(0, 0, 0): %w (is uid 0 in /proc/self/uid_map?)", errno)
	}
	return nil
}

// Environ is the command's environment: a default PATH and HOME, the host's
// TERM (so an interactive shell draws properly), then the user's -e values.
func Environ(user []string) []string {
	env := []string{"PATH=" + DefaultPath, "HOME=/"}
	if term, ok := os.LookupEnv("TERM"); ok {
		env = append(env, "TERM="+term)
	}
	return append(env, user...)
}

// prepareCommand looks the command up on the container's PATH, in
// whatever root the chapters gave us, and returns what replaces this
// process with it; with -init, what runs it under a minimal init instead.
// A created container (chapter 11) waits for `start` in between, so a
// missing command fails `create` (as with runc), and nothing but the execve
// follows the last Starting hook: chapter 11's resource limits, set there,
// would bind this Go program too (a small RLIMIT_AS leaves it no memory).
func prepareCommand(args []string, env []string, init, pdeathsig bool) (execve func() error, err error) {
	path, err := LookPath(args[0], getenv(env, "PATH"))
	if err != nil {
		return nil, err
	}
	if init {
		return func() error { return runInit(path, args, env) }, nil
	}
	// A signal the runtime inherited as ignored (SIGINT, for a job started
	// with & by a shell) would stay ignored in the command. Go installs a
	// handler for a signal it notifies, and execve resets every handled
	// signal to its default.
	for sig := unix.Signal(1); sig < 32; sig++ {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
	// The kernel keeps the parent-death signal (Pdeathsig, set in Run) per
	// thread, on the thread it cloned; Go may exec from another one, and
	// the command would lose it. Set it again on the thread that execs.
	// A created container outlives the `create` that made it: none then.
	runtime.LockOSThread()
	if pdeathsig {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
			return nil, fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", err)
		}
	}
	// execve(2) itself, with its arguments turned into C strings now: Go's
	// syscall.Exec allocates them at the call, and after chapter 11's
	// resource limits (a small RLIMIT_AS) this Go program may find no
	// memory left to allocate. (syscall.Exec would also put back the soft
	// RLIMIT_NOFILE that Go raised at start-up; the command keeps the
	// raised one, as soft as hard, as Docker gives its containers.)
	argv0, err := unix.BytePtrFromString(path)
	if err != nil {
		return nil, err
	}
	argv, err := cStrings(args)
	if err != nil {
		return nil, err
	}
	envv, err := cStrings(env)
	if err != nil {
		return nil, err
	}
	return func() error {
		_, _, errno := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)),
			uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
		return explainExec(path, errno)
	}, nil
}

// cStrings is what execve(2) takes for argv and envp: pointers to
// NUL-terminated strings, the last pointer nil.
func cStrings(ss []string) ([]*byte, error) {
	ptrs := make([]*byte, len(ss)+1)
	for i, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, err
		}
		ptrs[i] = p
	}
	return ptrs, nil
}

// LookPath finds the command on PATH, as a shell would, and fails with 127
// (not found) or 126 (found but not executable).
func LookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, executable(name)
	}
	for _, dir := range filepath.SplitList(path) {
		candidate := filepath.Join(dir, name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, executable(candidate)
		}
	}
	return "", Errorf(StatusNotFound, "%s: command not found in the container (PATH=%s)", name, path)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return Errorf(StatusNotFound, "%s: no such file in the container", path)
	case fi.IsDir():
		return Errorf(StatusCannotExecute, "%s: is a directory, not a command", path)
	case unix.Access(path, unix.X_OK) != nil:
		return Errorf(StatusCannotExecute, "%s: permission denied: not executable (chmod +x it)", path)
	}
	return nil
}

// explainExec turns a failed execve into a message a learner can act on.
// The classic: a dynamically linked program copied into a rootfs without its
// loader fails with ENOENT although the file is right there.
func explainExec(path string, err error) error {
	if !errors.Is(err, unix.ENOENT) {
		return Errorf(StatusCannotExecute, "exec %s: %v", path, err)
	}
	if interp := interpreter(path); interp != "" {
		if _, serr := os.Stat(interp); serr != nil {
			return Errorf(StatusNotFound, "%s needs the loader %s, which the rootfs lacks: use `make rootfs`, or copy the libraries `ldd %s` lists (make rootfs-host BINARIES=%s)",
				path, interp, filepath.Base(path), filepath.Base(path))
		}
	}
	return Errorf(StatusNotFound, "exec %s: %v", path, err)
}

// interpreter is the program the kernel runs to start path: an ELF file's
// PT_INTERP, or a script's #! line. Empty if none.
func interpreter(path string) string {
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b := make([]byte, p.Filesz)
				p.ReadAt(b, 0)
				return strings.TrimRight(string(b), "\x00")
			}
		}
		return ""
	}
	b, err := os.ReadFile(path)
	if err == nil && strings.HasPrefix(string(b), "#!") {
		line, _, _ := strings.Cut(string(b[2:]), "\n")
		if fields := strings.Fields(line); len(fields) > 0 {
			return fields[0]
		}
	}
	return ""
}

func getenv(env []string, key string) string {
	value := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			value = v // the last one wins, as in execve's users
		}
	}
	return value
}
