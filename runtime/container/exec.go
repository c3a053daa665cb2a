package container

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Exec runs a command inside running container id, as `docker exec` does:
// in its cgroups and all its namespaces, with its root, its environment and
// / as the working directory. It returns the command's exit status.
//
// The command must be forked from a thread that is already inside: setns(2)
// moves only the calling thread. So we lock this goroutine to its thread,
// join the namespaces from it, and fork from it. The mount namespace is the
// fussy one: the kernel refuses it to a thread that shares its root and
// working directory with other threads (every Go thread does), so the thread
// first takes a private copy of them with unshare(CLONE_FS). With trace,
// it narrates each step on stderr.
func Exec(id string, args []string, trace bool) (int, error) {
	c, err := Load(id)
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
	// Cgroups first: /sys/fs/cgroup is the host's, and gone once we are in
	// the container's mount namespace. The children we fork inherit them.
	c.traceRuntime("write our PID into the cgroup.procs of PID %d's cgroups", c.Pid)
	if err := joinCgroups(c.Pid); err != nil {
		return 0, err
	}

	runtime.LockOSThread() // never unlocked: Go retires the thread after us
	c.traceRuntime("unshare(CLONE_FS)")
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return 0, fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	for _, ns := range []string{"ipc", "uts", "net", "pid", "cgroup", "mnt"} {
		c.traceRuntime("setns(open(/proc/%d/ns/%s))", c.Pid, ns)
		if err := joinNamespace(c.Pid, ns); err != nil {
			return 0, err
		}
	}
	// From here this thread sees the container's files: look the command up there.
	env := Environ(c.Config.Env)
	path, err := LookPath(args[0], getenv(env, "PATH"))
	if err != nil {
		return 0, err
	}
	cmd := &exec.Cmd{Path: path, Args: args, Env: env, Dir: "/",
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(signals)
	c.traceRuntime("fork, execve(%q, %q)", path, args)
	if err := cmd.Start(); err != nil {
		return 0, explainExec(path, err)
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(cmd.Process.Pid, false, signals, done)
	c.traceRuntime("wait4(%d): the command runs", cmd.Process.Pid)
	return exitStatus(cmd.Wait()), nil
}

// joinNamespace moves this thread into the ns namespace of process pid,
// unless it is in it already.
func joinNamespace(pid int, ns string) error {
	theirs := fmt.Sprintf("/proc/%d/ns/%s", pid, ns)
	a, errA := os.Readlink(theirs)
	b, errB := os.Readlink("/proc/thread-self/ns/" + ns)
	if errA == nil && errB == nil && a == b {
		return nil
	}
	fd, err := unix.Open(theirs, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", theirs, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, 0); err != nil {
		return fmt.Errorf("setns %s: %w", theirs, err)
	}
	return nil
}

// joinCgroups moves this process into the cgroups of process pid that the
// runtime made (those under scratchcontainer/), read from /proc/<pid>/cgroup:
// "ID:controllers:path" per hierarchy; empty controllers is cgroup v2.
func joinCgroups(pid int) error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return err
	}
	defer f.Close()
	self := []byte(strconv.Itoa(os.Getpid()))
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		parts := strings.SplitN(scanner.Text(), ":", 3)
		if len(parts) != 3 || !strings.Contains(parts[2], "/scratchcontainer/") {
			continue
		}
		mount := filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(parts[1], "name="))
		if parts[1] == "" { // v2: the root itself, or /unified on a hybrid host
			mount = "/sys/fs/cgroup"
			if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.procs"); err == nil {
				mount = "/sys/fs/cgroup/unified"
			}
		}
		procs := filepath.Join(mount, parts[2], "cgroup.procs")
		if err := os.WriteFile(procs, self, 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", procs, err)
		}
	}
	return scanner.Err()
}
