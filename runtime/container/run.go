package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ChildCommand is the hidden subcommand the runtime re-executes itself
// with to become the container's PID 1 (see Child).
const ChildCommand = "child"

// Run runs a container with the given chapters and returns the command's
// exit status. Whatever happens, everything the chapters made is released
// before it returns.
//
// The host and the child meet through one pipe: the child is cloned into its
// new namespaces, then blocks reading its orders from the pipe while the host
// finishes its side (Attach: cgroup, veth, ...). Only then does the host send
// the Container, and the child enters and execs. No instruction of the
// command runs before the host is done.
func Run(cfg Config, chapters []Chapter) (status int, err error) {
	c := &Container{ID: cfg.ID, Config: cfg, RuntimePid: os.Getpid(), Rootless: os.Geteuid() != 0}
	if c.ID == "" {
		c.ID = NewID()
	}
	if c.Rootless && c.Config.Root == "" {
		// Chosen once, here, and saved: the child, root of its user namespace,
		// would take itself for the host's root (see DefaultRoot).
		c.Config.Root = UserStateRoot()
	}
	chapters = active(cfg, chapters)
	if err := checkRootless(c, chapters); err != nil {
		return 0, err
	}
	if c.RuntimeStart, err = startTime(c.RuntimePid); err != nil {
		return 0, err
	}

	// Ctrl-C and SIGTERM are ours from the start. Until the command runs
	// they stop the run (see stopBeforeExec); from then on they are passed
	// to the command (forwardSignals).
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(signals)
	if cfg.Trace {
		c.trace = newTracer(os.Stderr, "host")
	}

	// The state file comes first: from here on, gc can clean up after us.
	c.traceRuntime("write state %s/state.json", c.StateDir())
	if err := c.Save(); err != nil {
		return 0, err
	}
	c.crashPoint("saved")
	var fromChild []byte // with -trace, the child's times (see Child)
	created := false     // a created container outlives Run (see parkCreated)
	defer func() {
		if created {
			return
		}
		if rerr := release(c, chapters); rerr != nil && err == nil {
			err = rerr
		}
		c.traceFinish(fromChild)
	}()
	if cfg.CIDFile != "" {
		if err := os.WriteFile(cfg.CIDFile, []byte(c.ID+"\n"), 0o644); err != nil {
			return 0, fmt.Errorf("-cidfile %s: %w", cfg.CIDFile, err)
		}
	}

	for i, ch := range chapters {
		if ch.Resolve != nil {
			c.traceChapter(i, ch)
			if err := ch.Resolve(c); err != nil {
				return 0, err
			}
		}
	}
	if len(c.Config.Args) == 0 {
		return 0, Errorf(StatusRuntimeFailed, "run: missing <command> after rootfs %s (only an image brings a command of its own)", c.Config.Rootfs)
	}

	var cloneFlags uintptr
	for i, ch := range chapters {
		cloneFlags |= ch.CloneFlags
		c.traceCloneFlags(i, ch)
		if ch.Prepare != nil {
			c.traceChapter(i, ch)
			if err := ch.Prepare(c); err != nil {
				return 0, err
			}
		}
		if sig, ok := pending(signals); ok {
			return stoppedBy(sig), nil
		}
	}

	for _, line := range c.notes {
		fmt.Fprintln(os.Stderr, "scratchcontainer: "+line)
	}
	c.crashPoint("prepared")

	c.traceRuntime("pipe2() twice: fd 3 brings the child its orders, fd 4 closes at its execve")
	orders, sendOrders, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer sendOrders.Close()
	// The child holds the write end of this pipe open until its execve
	// closes it: reading EOF tells us the command runs (or the child died).
	execed, execWrite, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer execed.Close()
	extra := []*os.File{orders, execWrite} // fds 3 and 4 in the child
	if cfg.Created() {
		gate, err := makeStartGate(c)
		if err != nil {
			return 0, err
		}
		defer gate.Close()
		extra = append(extra, gate) // fd 5
	}
	// Re-execute this very binary as the child. Args[0] stays ours, so a
	// test binary (testscript) still knows which command it is.
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{os.Args[0], ChildCommand},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: extra,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: cloneFlags,
			// If the runtime dies, so does the container. The kernel
			// ties this to the thread that cloned the child, so that
			// thread must not be retired while the child runs.
			Pdeathsig: unix.SIGKILL,
		},
	}
	if cfg.Created() {
		cmd.SysProcAttr.Pdeathsig = 0 // `create` exits; the container stays
	}
	if cloneFlags&unix.CLONE_NEWUSER != 0 {
		// The child execs /proc/self/exe right after clone, before the
		// host writes its uid_map (chapter 09's Attach). A process whose
		// uid is not mapped in its user namespace is not root there, and
		// execve leaves it no capability (capabilities(7)). Ambient
		// capabilities are the ones execve keeps for a non-root process:
		// the child holds them until it takes uid 0 (see Child).
		caps, err := everyCapability()
		if err != nil {
			return 0, err
		}
		cmd.SysProcAttr.AmbientCaps = caps
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if err := clone(c, chapters, cmd, cloneFlags); err != nil {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return 0, err
	}
	orders.Close()
	execWrite.Close()
	c.Pid = cmd.Process.Pid
	c.crashPoint("started")
	stop := stopBeforeExec(cmd.Process, signals)
	// fail ends the run before the command runs: the child is killed and
	// waited for, and a stop by signal wins over the error it caused.
	fail := func(err error) (int, error) {
		cmd.Process.Kill()
		cmd.Wait()
		if sig, ok := stop(); ok {
			return stoppedBy(sig), nil
		}
		return 0, err
	}

	// The guard: no chapter may act on a child that shares the host's
	// namespaces, or its Attach and Enter would change the host itself.
	c.traceRuntime("guard: readlink /proc/self/ns/* and /proc/%d/ns/*: each chapter's namespace must differ", c.Pid)
	if err := checkNamespaces(c.Pid, chapters); err != nil {
		return fail(err)
	}
	for i, ch := range chapters {
		if ch.Attach != nil {
			c.traceChapter(i, ch)
			if err := ch.Attach(c); err != nil {
				return fail(err)
			}
		}
	}

	c.crashPoint("attached")

	// Release the child: it reads the Container, enters, and execs.
	c.traceRuntime("write orders to fd 3 of PID %d, wait for its execve (fd 4 closes)", c.Pid)
	if err := json.NewEncoder(sendOrders).Encode(c); err != nil {
		return fail(fmt.Errorf("release the child: %w", err))
	}
	sendOrders.Close()
	fromChild, _ = io.ReadAll(execed) // EOF: the command runs, or the child died
	if cfg.Created() {
		if err := parkCreated(c, cmd, chapters); err != nil {
			return fail(err)
		}
		created = true
		return 0, nil
	}
	if sig, ok := stop(); ok {
		cmd.Process.Kill()
		cmd.Wait()
		return stoppedBy(sig), nil
	}
	c.Running = true
	c.traceRuntime("write state %s/state.json: running", c.StateDir())
	if err := c.Save(); err != nil {
		return fail(err)
	}

	done := make(chan struct{})
	defer close(done)
	go forwardSignals(c.Pid, true, signals, done)

	c.traceRuntime("wait4(%d): the command runs", c.Pid)
	status = exitStatus(cmd.Wait())
	for i, ch := range chapters {
		if ch.Exited != nil {
			c.traceChapter(i, ch)
			status = ch.Exited(c, status)
		}
	}
	return status, nil
}

// checkRootless refuses, before anything is made, a run without root that
// would have no user namespace of its own: an ordinary user may create the
// other namespaces only inside one (user_namespaces(7)), so clone(2) would
// fail with EPERM, which says nothing of why.
func checkRootless(c *Container, chapters []Chapter) error {
	var flags uintptr
	for _, ch := range chapters {
		flags |= ch.CloneFlags
	}
	if !c.Rootless || flags&unix.CLONE_NEWUSER != 0 {
		return nil
	}
	why := "no chapter of this run adds CLONE_NEWUSER (chapter 09-userns does: no -chapter below 9, and its CloneFlags written)"
	switch {
	case c.Config.UserNS == "host":
		why = "-userns host turns it off"
	case c.Config.Privileged:
		why = "-privileged turns it off"
	}
	return Errorf(StatusRuntimeFailed, "run without root: the container needs a user namespace of its own, and %s; or run as root (sudo)", why)
}

// clone starts the child on this locked thread. The chapters' Clone hooks
// run first, in course order; once the child exists, or the clone failed,
// what they did to the thread is undone in reverse order, and the thread
// must be back where it began (see checkThreadBack). After an error the
// child may exist: cmd.Process says so.
func clone(c *Container, chapters []Chapter, cmd *exec.Cmd, cloneFlags uintptr) (err error) {
	c.traceRuntime("read /proc/thread-self/cgroup: where the cloning thread begins")
	home, err := threadCgroups()
	if err != nil {
		return err
	}
	type undo struct {
		chapter int
		after   func() error
	}
	var undos []undo // in course order
	defer func() {
		for j := len(undos) - 1; j >= 0; j-- {
			i := undos[j].chapter
			c.traceChapter(i, chapters[i])
			if aerr := undos[j].after(); aerr != nil && err == nil {
				err = fmt.Errorf("chapter %02d-%s, after the clone: %w", i+1, chapters[i].Name, aerr)
			}
		}
		if err == nil {
			c.traceRuntime("read /proc/thread-self/cgroup: is the cloning thread back where it began?")
			err = checkThreadBack(home, chapters)
		}
	}()
	for i, ch := range chapters {
		if ch.Clone == nil {
			continue
		}
		c.traceChapter(i, ch)
		after, err := ch.Clone(c, cmd.SysProcAttr)
		if after != nil {
			undos = append(undos, undo{i, after})
		}
		if err != nil {
			return err
		}
	}

	// Go clones with clone(2), or with clone3(2) when the child is to be
	// born in a cgroup (UseCgroupFD).
	call, flags := "clone", CloneFlags(cloneFlags)
	if cmd.SysProcAttr.UseCgroupFD {
		call, flags = "clone3", flags|unix.CLONE_INTO_CGROUP
	}
	c.traceRuntime("%s(%v) /proc/self/exe child: the child, blocked on fd 3", call, flags)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the container's first process: %w", err)
	}
	return nil
}

// everyCapability lists capabilities 0 to the last this kernel knows
// (/proc/sys/kernel/cap_last_cap): raising one it does not know fails.
func everyCapability() ([]uintptr, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return nil, fmt.Errorf("read the last capability: %w", err)
	}
	var last int
	if _, err := fmt.Sscan(string(b), &last); err != nil {
		return nil, fmt.Errorf("/proc/sys/kernel/cap_last_cap: %q: %w", b, err)
	}
	caps := make([]uintptr, last+1)
	for i := range caps {
		caps[i] = uintptr(i)
	}
	return caps, nil
}

// stopBeforeExec watches for Ctrl-C and SIGTERM until the command runs. A
// signal in that time (a half-written exercise stuck in Enter, say) kills
// the child at once: Run then releases everything and exits 128+N. A second
// one, should Run itself be stuck (in an Attach), exits on the spot and
// leaves the rest to gc.
//
// The returned stop ends the watch, and reports the signal that stopped
// the run, if one did.
func stopBeforeExec(child *os.Process, signals <-chan os.Signal) (stop func() (unix.Signal, bool)) {
	quit, stopped := make(chan struct{}), make(chan unix.Signal, 1)
	go func() {
		defer close(stopped)
		select {
		case <-quit:
			return
		case s := <-signals:
			sig := s.(unix.Signal)
			stopped <- sig
			child.Kill()
			fmt.Fprintf(os.Stderr, "scratchcontainer: %s before the command started: stopping the container\n", unix.SignalName(sig))
		}
		select {
		case <-quit:
		case s := <-signals:
			fmt.Fprintf(os.Stderr, "scratchcontainer: %s again: exiting now; `scratchcontainer gc` releases what is left\n", unix.SignalName(s.(unix.Signal)))
			os.Exit(stoppedBy(s.(unix.Signal)))
		}
	}()
	var once sync.Once
	var sig unix.Signal
	var ok bool
	return func() (unix.Signal, bool) {
		once.Do(func() {
			close(quit)
			sig, ok = <-stopped
		})
		return sig, ok
	}
}

// pending returns a signal that has arrived, without waiting for one.
func pending(signals <-chan os.Signal) (unix.Signal, bool) {
	select {
	case s := <-signals:
		return s.(unix.Signal), true
	default:
		return 0, false
	}
}

// stoppedBy is the exit status of a run stopped by sig before the command
// ran: 128+N, as if the command had died of it (130 for Ctrl-C).
func stoppedBy(sig unix.Signal) int { return StatusSignalBase + int(sig) }

// CrashPointEnv names a stage of Run ("saved", "prepared", "started",
// "attached") at which the runtime stops itself with SIGSTOP, so that a test
// can kill it there with SIGKILL and check that gc releases everything; or
// "entering", where the child stops before the chapters' Enter, as a
// half-written exercise stuck there would. Either first writes the stage into
// the file CrashedAt of the state directory, for the test to find.
const CrashPointEnv = "SCRATCHCONTAINER_CRASH_AT"

// CrashedAt is the file in the state directory naming the crash point reached.
const CrashedAt = "crashed-at"

func (c *Container) crashPoint(stage string) {
	if os.Getenv(CrashPointEnv) != stage {
		return
	}
	os.WriteFile(filepath.Join(c.StateDir(), CrashedAt), []byte(stage), 0o600)
	if stage == "entering" {
		// The child is PID 1 of its namespace, and the kernel drops the
		// SIGSTOP it sends itself: wait here for ever instead.
		for {
			unix.Pause()
		}
	}
	unix.Kill(os.Getpid(), unix.SIGSTOP)
}

// exitStatus turns how the child ended into a shell-style exit status.
func exitStatus(err error) int {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return StatusRuntimeFailed
	}
	if exitErr == nil {
		return 0
	}
	ws := exitErr.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return StatusSignalBase + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// forwardSignals sends SIGINT and SIGTERM on to process pid, the container's
// PID 1 when pid1 is set; a second one kills it.
//
// The kernel drops a signal sent to the PID 1 of a PID namespace unless PID 1
// installed a handler for it: only SIGKILL and SIGSTOP from an ancestor
// namespace are forced. A learner pressing Ctrl-C at `sleep` would see
// nothing happen, so we say so.
func forwardSignals(pid int, pid1 bool, signals <-chan os.Signal, done <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-done:
			return
		case s := <-signals:
			sig := s.(syscall.Signal)
			if n > 0 {
				fmt.Fprintf(os.Stderr, "scratchcontainer: %s again: killing the container\n", unix.SignalName(sig))
				unix.Kill(pid, unix.SIGKILL)
				continue
			}
			// PID 1 may install its handler at any moment (a Go
			// program does so as it starts): only when it had none
			// both before and after the kill was the signal dropped.
			before := catches(pid, sig)
			unix.Kill(pid, sig)
			if pid1 && !before && !catches(pid, sig) {
				fmt.Fprintf(os.Stderr, "scratchcontainer: %s forwarded to PID 1, which has no handler for it, so the kernel drops it; send it again to kill the container\n", unix.SignalName(sig))
			}
		}
	}
}

// catches reports whether process pid has a handler for sig, from the
// SigCgt mask in /proc/<pid>/status.
func catches(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	var mask uint64
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(line, "SigCgt:\t%x", &mask); err == nil {
			return mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// release runs every chapter's Release in reverse order, then removes the
// state directory. It keeps going past errors, so one stuck resource does
// not leave the others behind, and it keeps the state if anything failed,
// so gc can try again.
func release(c *Container, chapters []Chapter) error {
	var errs []error
	for i := len(chapters) - 1; i >= 0; i-- {
		if r := chapters[i].Release; r != nil {
			c.traceChapter(i, chapters[i])
			if err := r(c); err != nil {
				errs = append(errs, fmt.Errorf("release %s: %w", chapters[i].Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.traceRuntime("rm -r %s", c.StateDir())
	if err := c.removeState(); err != nil {
		return err
	}
	for i, ch := range chapters {
		if ch.Deleted != nil {
			c.traceChapter(i, ch)
			if err := ch.Deleted(c); err != nil {
				fmt.Fprintf(os.Stderr, "scratchcontainer: warning: %v\n", err)
			}
		}
	}
	return nil
}

// GC releases everything left by containers whose runtime died. It returns
// the IDs it released, and those it left for a runtime with more chapters.
// With trace, it narrates each release on stderr.
func GC(chapters []Chapter, trace bool) (released, skipped []string, err error) {
	var t *tracer
	if trace {
		t = newTracer(os.Stderr, "host")
		defer t.finish(nil)
		t.step("read %s/*/state.json: whose runtime died?", []any{DefaultRoot()})
	}
	all, err := List()
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, c := range all {
		if !c.Orphaned() || c.parked() {
			continue
		}
		c.trace = t
		n := c.Config.Chapters
		if n > len(chapters) {
			// Made by a runtime with more chapters than this one (a
			// chapter's test binary): we cannot release what we do not know.
			skipped = append(skipped, c.ID)
			continue
		}
		if err := release(c, active(c.Config, chapters[:n])); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.ID, err))
			continue
		}
		released = append(released, c.ID)
	}
	return released, skipped, errors.Join(errs...)
}
