package container

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// execFromThreadEnv makes the test binary, run as a child, exec sleep from
// a thread other than its first, as a created container's PID 1 may.
const execFromThreadEnv = "SCRATCH_TEST_EXEC_FROM_THREAD"

func TestMain(m *testing.M) {
	if os.Getenv(execFromThreadEnv) != "" {
		done := make(chan error)
		go func() {
			runtime.LockOSThread() // a new thread: the first one is main's, blocked below
			done <- syscall.Exec("/bin/sleep", []string{"sleep", "10"}, nil)
		}()
		panic(<-done)
	}
	os.Exit(m.Run())
}

// While another thread execs, the first thread is a zombie for an instant:
// startTime must not take the process for gone (gc would release a
// container whose PID 1 has just been started).
func TestStartTimeThroughExecFromAThread(t *testing.T) {
	for round := 0; round < 50; round++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), execFromThreadEnv+"=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		// It ends only when killed: until then it must never look gone.
		var err error
		for deadline := time.Now().Add(50 * time.Millisecond); err == nil && time.Now().Before(deadline); {
			_, err = startTime(pid)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil {
			t.Fatalf("round %d: process %d taken for gone while it execs: %v", round, pid, err)
		}
	}
}
