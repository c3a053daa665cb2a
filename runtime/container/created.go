package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The OCI runtime command line splits a run in two: `create` makes the
// container (namespaces, cgroup, mounts, network) and parks its first
// process just before execve; `start` lets it go. Between the two, podman
// or containerd set up what they need around the container (a network
// namespace's ports, a log reader) knowing its PID.
//
// Run does the first half as always, up to the child's last step before
// execve. There, instead of exec'ing, the child opens a FIFO in the state
// directory for writing: open(2) of a FIFO blocks until someone opens it
// for reading, and that someone is `start` (runc's exec.fifo does the
// same). `create` then exits; the child is left to the caller (conmon
// reaps it, as a subreaper), and the state directory is the only memory
// of the container: `state` reads it, `delete` releases it.

// startGateFile is the FIFO in the state directory the parked child opens.
const startGateFile = "exec.fifo"

// startGateFd is the child's fd of the FIFO (Run's ExtraFiles: fd 5).
const startGateFd = 5

// Statuses of the OCI runtime spec's state.
const (
	StatusCreating = "creating" // create has not finished
	StatusCreated  = "created"  // the child is parked at the start gate
	StatusRunning  = "running"  // the command runs
	StatusStopped  = "stopped"  // the command (or the parked child) has exited
)

// makeStartGate makes the FIFO and opens it with O_PATH: a handle the child
// inherits across its pivot_root, reopened for writing (through
// /proc/self/fd) once everything but the execve is done.
func makeStartGate(c *Container) (*os.File, error) {
	path := filepath.Join(c.StateDir(), startGateFile)
	c.traceRuntime("mkfifo %s: the child waits on it for `start`", path)
	// 0622: the child may have become another user by then (process.user).
	if err := unix.Mkfifo(path, 0o622); err != nil {
		return nil, fmt.Errorf("mkfifo %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o622); err != nil { // past the umask
		return nil, err
	}
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// waitStart runs in the child, last before execve: it closes the pipe that
// tells `create` the child got here, then blocks until `start` opens the
// FIFO and reads the byte it writes. It returns the FIFO still open: execve
// closes it (O_CLOEXEC), and `start`, reading on to EOF, so knows the
// command runs; what the child writes before, `start` takes for why it
// did not (a Starting hook failed).
func waitStart() (*os.File, error) {
	unix.Close(execFd) // `create` reads EOF: parked
	gate, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", startGateFd), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the start gate %s: %w", startGateFile, err)
	}
	unix.Close(startGateFd)
	if _, err = gate.Write([]byte{0}); err != nil {
		gate.Close()
		return nil, fmt.Errorf("write the start gate: %w", err)
	}
	return gate, nil
}

// parkCreated ends `create`: the child has reached the start gate (or
// died on the way, with its reason on stderr), and the chapters' Parked
// hooks finish it from the host. From here the container's
// own PID 1 stands for the runtime in the state file (see parked), and the
// caller gets its PID in --pid-file.
func parkCreated(c *Container, cmd *exec.Cmd, chapters []Chapter) error {
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(c.Pid, &ws, unix.WNOHANG, nil); pid == c.Pid {
		return Errorf(StatusRuntimeFailed, "create %s: the container's first process exited (status %d) before it was ready to start", c.ID, exitStatusOf(ws))
	}
	for i, ch := range chapters {
		if ch.Parked != nil {
			c.traceChapter(i, ch)
			if err := ch.Parked(c); err != nil {
				return err
			}
		}
	}
	start, err := startTime(c.Pid)
	if err != nil {
		return fmt.Errorf("create %s: %w", c.ID, err)
	}
	c.RuntimePid, c.RuntimeStart = c.Pid, start
	c.traceRuntime("write state %s: created, PID %d", c.StateDir(), c.Pid)
	if err := c.Save(); err != nil {
		return err
	}
	if path := c.Config.PidFile; path != "" {
		f, err := openPidFile(path)
		if err != nil {
			return err
		}
		if err := f.write(c.Pid); err != nil {
			return err
		}
	}
	return cmd.Process.Release()
}

func exitStatusOf(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return StatusSignalBase + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// parked reports whether c was made by `create` and `create` finished: only
// `delete` releases it, as the OCI runtime spec wants, never gc.
func (c *Container) parked() bool {
	return c.Config.Created() && c.Pid != 0 && c.RuntimePid == c.Pid
}

// Status is the container's status in the OCI runtime spec's words.
func (c *Container) Status() string {
	switch {
	case c.Pid == 0 || !c.parked():
		if c.Config.Created() {
			return StatusCreating
		}
		if c.Running && !c.Orphaned() {
			return StatusRunning
		}
		return StatusStopped
	case c.Orphaned(): // PID 1 has exited (a zombie counts)
		return StatusStopped
	case c.Started:
		return StatusRunning
	}
	return StatusCreated
}

// Start releases a created container's child: `start` opens the FIFO for
// reading, which lets the child's open for writing return, and reads its
// byte. The child then execs the command, and the chapters' Started hooks
// run here.
func Start(root, id string, course []Chapter) error {
	c, err := LoadIn(root, id)
	if err != nil {
		return err
	}
	if n := c.Config.Chapters; n > len(course) {
		return fmt.Errorf("start %s: made with chapters 1..%d, this runtime knows %d", id, n, len(course))
	}
	if s := c.Status(); s != StatusCreated {
		return fmt.Errorf("start %s: the container is %s, not created", id, s)
	}
	path := filepath.Join(c.StateDir(), startGateFile)
	// Non-blocking, so a child killed while parked does not hang us.
	gate, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("start %s: open %s: %w", id, path, err)
	}
	defer gate.Close()
	buf := make([]byte, 1)
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, _ := unix.Read(int(gate.Fd()), buf)
		if n == 1 {
			break
		}
		if c.Orphaned() {
			return fmt.Errorf("start %s: the container's first process has exited", id)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start %s: the child did not open the start gate %s within 10s", id, path)
		}
		time.Sleep(time.Millisecond)
	}
	os.Remove(path)
	c.Started, c.Running = true, true
	if err := c.Save(); err != nil {
		return err
	}
	// Read on to EOF: the child's execve closes its end (Starting hooks
	// done), or the child wrote why it will not run the command, and died.
	var why []byte
	for {
		n, err := unix.Read(int(gate.Fd()), buf)
		if n == 0 && err == nil {
			break
		}
		if n == 1 {
			why = append(why, buf[0])
			continue
		}
		time.Sleep(time.Millisecond)
	}
	if len(why) > 0 {
		return fmt.Errorf("start %s: %s", id, why)
	}
	for _, ch := range active(c.Config, course[:c.Config.Chapters]) {
		if ch.Started != nil {
			if err := ch.Started(c); err != nil {
				fmt.Fprintf(os.Stderr, "scratchcontainer: warning: %v\n", err)
			}
		}
	}
	return nil
}

// OCIState is the container's state as the OCI runtime spec has it, with
// status, for `state` and on a hook's stdin. The PID is left out once the
// container has stopped: it may be another process's by then.
func (c *Container) OCIState(status string) specs.State {
	s := specs.State{Version: specs.Version, ID: c.ID, Status: specs.ContainerState(status),
		Bundle: c.Config.Bundle, Annotations: c.Config.Annotations}
	if status != StatusStopped {
		s.Pid = c.Pid
	}
	return s
}

// Kill sends sig to a created or running container's PID 1; with all, to
// every process in its cgroup.
func Kill(root, id string, sig unix.Signal, all bool) error {
	c, err := LoadIn(root, id)
	if err != nil {
		return err
	}
	if s := c.Status(); s != StatusCreated && s != StatusRunning {
		return fmt.Errorf("kill %s: the container is %s: nothing to signal", id, s)
	}
	pids := []int{c.Pid}
	if all {
		pids = cgroupProcs(c)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill(%d, %s): %w", pid, unix.SignalName(sig), err)
		}
	}
	return nil
}

// cgroupProcs lists the processes in the container's cgroup (the
// directories chapter 05 recorded; under v1, one per controller), PID 1
// first.
func cgroupProcs(c *Container) []int {
	pids := []int{c.Pid}
	seen := map[int]bool{c.Pid: true}
	for _, dir := range strings.Fields(c.Resources["cgroup"]) {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// Delete releases everything a created container made, through the same
// Release hooks as a run's end, and removes its state. A container not yet
// stopped (created or running) is refused unless force, which kills it
// first, as the OCI runtime spec says.
func Delete(root, id string, course []Chapter, force bool) error {
	if _, err := os.Stat(filepath.Join(root, id)); errors.Is(err, os.ErrNotExist) && force {
		return nil // as runc: podman cleans up with --force after a failed create
	}
	c, err := LoadIn(root, id)
	if err != nil {
		return err
	}
	if n := c.Config.Chapters; n > len(course) {
		return fmt.Errorf("delete %s: made with chapters 1..%d, this runtime knows %d", id, n, len(course))
	}
	switch s := c.Status(); {
	case (s == StatusRunning || s == StatusCreated) && !force:
		return fmt.Errorf("delete %s: the container is %s: kill it first, or delete --force", id, s)
	case s == StatusCreated || s == StatusRunning:
		unix.Kill(c.Pid, unix.SIGKILL)
		for deadline := time.Now().Add(10 * time.Second); !c.Orphaned(); {
			if time.Now().After(deadline) {
				return fmt.Errorf("delete %s: PID %d did not die of SIGKILL within 10s", id, c.Pid)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return release(c, course[:c.Config.Chapters])
}
