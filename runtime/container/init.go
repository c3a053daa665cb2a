package container

import (
	"os"
	"os/exec"
	"os/signal"

	"golang.org/x/sys/unix"
)

// runInit is the minimal init of -init, as `docker run --init` has it. The
// child stays PID 1 instead of exec'ing the command: it starts the command
// as PID 2, passes on every signal it receives (PID 1 has handlers for all
// of them, so none is dropped), reaps every orphan that is re-parented to
// it, and exits with the command's status. When it exits, the kernel kills
// what is left in the PID namespace.
func runInit(path string, args, env []string) error {
	signals := make(chan os.Signal, 32)
	signal.Notify(signals) // every signal: Go's handlers make none of them dropped
	cmd := &exec.Cmd{Path: path, Args: args, Env: env, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		return explainExec(path, err)
	}
	unix.Close(execFd) // the command runs: tell the host
	for sig := range signals {
		switch sig {
		case unix.SIGCHLD:
			if status, done := reap(cmd.Process.Pid); done {
				os.Exit(status)
			}
		case unix.SIGURG: // the Go runtime's own preemption signal
		default:
			unix.Kill(cmd.Process.Pid, sig.(unix.Signal))
		}
	}
	return nil
}

// reap collects every child that has exited. It reports the command's
// status once the command itself is among them.
func reap(command int) (status int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return status, done
		}
		if pid == command {
			done = true
			status = ws.ExitStatus()
			if ws.Signaled() {
				status = StatusSignalBase + int(ws.Signal())
			}
		}
	}
}
