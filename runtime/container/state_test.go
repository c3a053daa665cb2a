package container

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// Save rewrites the state file in place: a state that shrinks is padded,
// never cut, and a reader running beside the writer (ps, gc) always reads a
// whole state, the old one or the new one.
func TestSaveInPlace(t *testing.T) {
	root := t.TempDir()
	c := &Container{ID: "0123456789ab", Config: Config{Root: root}}
	long := strings.Repeat("x", 3000)
	if err := c.Record("long", long); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				readErr <- nil
				return
			default:
			}
			got, err := LoadIn(root, c.ID)
			if err != nil {
				readErr <- err
				return
			}
			if v := got.Resources["long"]; v != long && v != "" {
				readErr <- fmt.Errorf("read a state whose long value has %d bytes", len(v))
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		delete(c.Resources, "long")
		if i%2 == 0 {
			c.Resources["long"] = long
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	require.NoError(t, <-readErr)
	got, err := LoadIn(root, c.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Resources["long"], "the last Save removed it")
	entries, err := os.ReadDir(c.StateDir())
	require.NoError(t, err)
	require.Len(t, entries, 1, "only state.json: no temporary file")
}
