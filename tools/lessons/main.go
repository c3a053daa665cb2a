// Command lessons checks that the lessons tell the truth, the way Go's
// Example functions check their "// Output:" comment: it runs every console
// block of README.md and chapters/*/README.md as a learner would type it and
// compares what each command prints with what the lesson says it prints.
//
//	sudo go run ./tools/lessons [-timeout 90s] [LESSON.md ...]   (make lessons)
//
// The form of a console block is in README.md, "Writing a lesson". Each
// lesson runs in one bash session of its own, from the repository root, its
// blocks in order: `cd`, variables and background jobs (`&`) carry from one
// command to the next, as in a learner's shell. The session is not a
// terminal: output goes to a pipe (stdout and stderr together, as a
// terminal shows them), and stdin is /dev/null. When the lesson ends,
// whatever it left running in the background gets SIGTERM twice (the
// runtime forwards the first and kills its container on the second, then
// releases everything), and SIGKILL if it is still there.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	timeout := flag.Duration("timeout", 90*time.Second, "time limit of one console block")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "lessons: the lessons' commands run containers, which needs root: sudo make lessons")
		os.Exit(2)
	}
	for _, need := range []string{"scratchcontainer", "build/rootfs/bin/busybox", "build/rootfs/usr/local/bin/memhog"} {
		if _, err := os.Stat(need); err != nil {
			fmt.Fprintf(os.Stderr, "lessons: %s is missing: run from the repository root after make build rootfs (make lessons does both)\n", need)
			os.Exit(2)
		}
	}
	files := flag.Args()
	if len(files) == 0 {
		chapters, _ := filepath.Glob("chapters/*/README.md")
		files = append([]string{"README.md"}, chapters...)
	}
	var passed, failed int
	for _, file := range files {
		r := checkLesson(file, *timeout, os.Stdout)
		passed += r.passed
		failed += r.failed
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// result counts the blocks of one lesson.
type result struct{ run, passed, failed, skipped int }

// checkLesson runs the console blocks of one lesson and reports on out.
func checkLesson(file string, timeout time.Duration, out io.Writer) (r result) {
	start := time.Now()
	defer func() {
		fmt.Fprintf(out, "%-30s %d blocks run, %d passed, %d failed, %d skipped (norun)  %.0fs\n",
			file, r.run, r.passed, r.failed, r.skipped, time.Since(start).Seconds())
	}()
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(out, "FAIL %s: %v\n", file, err)
		r.failed++
		return r
	}
	blocks, err := Parse(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(out, "FAIL %s:%v\n", file, err)
		r.failed++
		return r
	}
	var s *session
	defer func() {
		if s != nil {
			if n := s.close(); n > 0 {
				fmt.Fprintf(out, "%s: stopped %d background processes the lesson left running\n", file, n)
			}
		}
	}()
	hung := 0 // line of a block that hung: the session is gone
	for _, b := range blocks {
		if b.NoRun {
			r.skipped++
			continue
		}
		r.run++
		if hung > 0 {
			fmt.Fprintf(out, "FAIL %s:%d: not run: the block at line %d hung and its session was stopped\n", file, b.Line, hung)
			r.failed++
			continue
		}
		if s == nil {
			if s, err = newSession(); err != nil {
				fmt.Fprintf(out, "FAIL %s: start bash: %v\n", file, err)
				r.failed++
				s = nil
				hung = b.Line
				continue
			}
		}
		ok := true
		deadline := time.Now().Add(timeout)
		for _, c := range b.Commands {
			got, err := s.run(c.Text, deadline)
			if err != nil {
				fmt.Fprintf(out, "FAIL %s:%d: %s%s\n    %v; it printed:\n%s", file, c.Line, prompt, c.Text, err, indent(got))
				ok = false
				hung = b.Line
				break
			}
			if match, diff := Match(c.Want, Lines(got)); !match {
				fmt.Fprintf(out, "FAIL %s:%d: %s%s\n%s", file, c.Line, prompt, c.Text, describe(file, diff))
				ok = false
			}
		}
		if ok {
			r.passed++
		} else {
			r.failed++
		}
	}
	return r
}

// describe says where the output first differs, then shows the whole diff.
func describe(file string, diff []DiffLine) string {
	var b strings.Builder
	for i, d := range diff {
		if d.Op == ' ' {
			continue
		}
		switch {
		case d.Op == '-' && i+1 < len(diff) && diff[i+1].Op == '+':
			fmt.Fprintf(&b, "    %s:%d: want %q, got %q\n", file, d.Line, d.Text, diff[i+1].Text)
		case d.Op == '-':
			fmt.Fprintf(&b, "    %s:%d: want %q, not printed\n", file, d.Line, d.Text)
		default:
			fmt.Fprintf(&b, "    printed %q, which the lesson does not show\n", d.Text)
		}
		break
	}
	b.WriteString("    diff (- lesson, + output):\n")
	for _, d := range diff {
		fmt.Fprintf(&b, "    %c %s\n", d.Op, d.Text)
	}
	return b.String()
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range Lines(s) {
		b.WriteString("    | " + l + "\n")
	}
	return b.String()
}

// A session is one bash, reading commands from fd 3 and evaluating them in
// itself, so that what one command changes (cd, variables, jobs) the next
// one sees. After each command it prints a mark and the status.
type session struct {
	cmd    *exec.Cmd
	orders *os.File      // fd 3 of bash: "next" once the command file is written
	output chan []byte   // stdout and stderr of bash and of all it starts
	buf    bytes.Buffer  // output read, not yet handed out
	dir    string        // holds the command file
	mark   string        // ends a command's output: "\n<mark> <status>\n"
	done   chan struct{} // closed when the output pipe is closed
}

const loop = `while IFS= read -r -u 3 _; do eval "$(<"$LESSON_COMMAND")" </dev/null; printf '\n%s %d\n' "$LESSON_MARK" "$?"; done`

func newSession() (*session, error) {
	dir, err := os.MkdirTemp("", "lessons-")
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	s := &session{dir: dir, mark: "--- lesson mark " + hex.EncodeToString(b), output: make(chan []byte, 64), done: make(chan struct{})}
	orders, sendOrders, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command("bash", "--noprofile", "--norc", "-c", loop)
	s.cmd.Stdout, s.cmd.Stderr = outW, outW
	s.cmd.ExtraFiles = []*os.File{orders}
	s.cmd.Env = environment(dir, s.mark)
	// A process group of its own: what the lesson starts in the background
	// stays in it, and can be found and stopped at the end.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	orders.Close()
	outW.Close()
	s.orders = sendOrders
	go func() {
		defer close(s.output)
		for {
			chunk := make([]byte, 4096)
			n, err := outR.Read(chunk)
			if n > 0 {
				s.output <- chunk[:n]
			}
			if err != nil {
				outR.Close()
				return
			}
		}
	}()
	return s, nil
}

// environment is the caller's, without what make passes its children (a
// `make` typed in a lesson would otherwise say "make[1]: Entering
// directory") and without proxies, and with the C locale, so sort orders
// and messages are the same everywhere.
func environment(dir, mark string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "LANG", "LANGUAGE":
			continue
		}
		// No proxy: a lesson talks only to loopback and container addresses.
		if strings.HasPrefix(k, "LC_") || strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LESSON_COMMAND="+filepath.Join(dir, "command"), "LESSON_MARK="+mark)
}

// run types one command and returns what it printed, or an error when it
// did not finish by the deadline or the session ended.
func (s *session) run(command string, deadline time.Time) (string, error) {
	if err := os.WriteFile(filepath.Join(s.dir, "command"), []byte(command+"\n"), 0o600); err != nil {
		return "", err
	}
	if _, err := io.WriteString(s.orders, "next\n"); err != nil {
		return "", fmt.Errorf("the lesson's shell has exited (an exit in an earlier command?)")
	}
	end := "\n" + s.mark + " "
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		if i := bytes.Index(s.buf.Bytes(), []byte(end)); i >= 0 {
			if j := bytes.IndexByte(s.buf.Bytes()[i+len(end):], '\n'); j >= 0 {
				out := string(s.buf.Next(i))
				s.buf.Next(len(end) + j + 1)
				return out, nil
			}
		}
		select {
		case chunk, ok := <-s.output:
			if !ok {
				return s.buf.String(), errors.New("the lesson's shell has exited (an exit in the command?)")
			}
			s.buf.Write(chunk)
		case <-timer.C:
			return s.buf.String(), fmt.Errorf("still running after the block's time limit")
		}
	}
}

// close ends the session and stops whatever it left running: twice
// SIGTERM, half a second apart (two signals back to back may reach a
// process as one), then SIGKILL after 10 seconds. It returns how many
// processes besides the shell itself it found still running.
func (s *session) close() int {
	s.orders.Close() // bash reads EOF and exits, unless a command still runs
	go func() {      // keep draining: a background job must never block on a full pipe
		for range s.output {
		}
	}()
	defer os.RemoveAll(s.dir)
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(time.Second): // a command that hung: it gets the signals too
	}
	pgid := s.cmd.Process.Pid
	left := 0
	for _, pid := range group(pgid) {
		if pid != pgid {
			left++
		}
	}
	if len(group(pgid)) > 0 {
		syscall.Kill(-pgid, syscall.SIGTERM)
		time.Sleep(500 * time.Millisecond)
		syscall.Kill(-pgid, syscall.SIGTERM)
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && len(group(pgid)) > 0; {
			time.Sleep(50 * time.Millisecond)
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	<-exited
	return left
}

// group lists the processes of process group pgid, from /proc/*/stat.
func group(pgid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold anything, so cut at the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 2 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
			pids = append(pids, pid)
		}
	}
	return pids
}
