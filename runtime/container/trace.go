package container

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// -trace narrates a container's life on stderr, one line per step, in the
// chapters' own words:
//
//	[03-mount child]    pivot_root("/x/rootfs", "/x/rootfs/.oldroot-3f2a1b9c0d4e")  0.04 ms
//
// The lines come from the code itself: a chapter calls c.Trace beside each
// real call, and the skeleton says which chapter's hook is running, so the
// story cannot drift from what the runtime does, and a chapter that is off
// says nothing. A step lasts until the next one begins, or its hook ends: so
// every microsecond is some chapter's, and the closing summary per chapter
// doubles as the start-up profile.

// Trace names the step the caller is about to take, for -trace: the real
// call and its arguments, written as in strace (mount(...), write FILE =
// VALUE, iptables ...). The format knows %s, %q, %d, %v and %x, for strings,
// string slices, integers, flags and IP addresses.
//
// When tracing is off it costs a comparison: no formatting, no allocation.
// That is also why it does not use fmt: fmt keeps its arguments, which makes
// Go put every argument on the heap before the call, tracing or not.
func (c *Container) Trace(format string, args ...any) {
	if c.trace != nil {
		c.trace.step(format, args)
	}
}

// traceChapter tells the tracer that chapter i of the course (counted from
// 0) runs from now on: its steps carry its tag, its time is its own.
func (c *Container) traceChapter(i int, ch Chapter) {
	if c.trace != nil {
		c.trace.enter(i+1, ch.Name)
	}
}

// traceRuntime is Trace for the skeleton's own steps, tagged "runtime".
func (c *Container) traceRuntime(format string, args ...any) {
	if c.trace != nil {
		c.trace.enter(0, "runtime")
		c.trace.step(format, args)
	}
}

// traceCloneFlags says which namespaces chapter i asks clone(2) for: the
// only trace of a chapter that has no hook (02-pid).
func (c *Container) traceCloneFlags(i int, ch Chapter) {
	if c.trace != nil && ch.CloneFlags != 0 {
		c.trace.enter(i+1, ch.Name)
		c.trace.note("clone flags += %v", []any{CloneFlags(ch.CloneFlags)})
	}
}

// traceFinish ends the host's trace with the summary (see tracer.finish).
func (c *Container) traceFinish(fromChild []byte) {
	if c.trace != nil {
		c.trace.finish(fromChild)
	}
}

// traceExec ends the child's trace as it is about to exec the command
// (see tracer.handOff).
func (c *Container) traceExec(fd int) {
	if c.trace != nil {
		c.trace.handOff(fd, c.Config.Args)
	}
}

// CloneFlags prints clone(2) flags by name in a trace.
type CloneFlags uintptr

// MountFlags prints mount(2) flags by name in a trace.
type MountFlags uintptr

// A tracer writes the lines of one side (the host's process, or the
// child's) and adds up the time of each chapter.
type tracer struct {
	out     io.Writer
	side    string    // "host" or "child"
	chapter int       // the chapter whose hook runs now; 0: the runtime
	name    string    // its name
	open    bool      // a step is under way
	text    []byte    // its text
	since   time.Time // when the step under way (or the chapter) began
	totals  []ChapterTime
	line    []byte // reused for each line
}

// ChapterTime is the time spent in one chapter's hooks on one side.
type ChapterTime struct {
	Chapter int    // 0: the runtime's own steps
	Name    string // "runtime", "uts", ...
	Time    time.Duration
}

// newTracer starts the clock of one side.
func newTracer(out io.Writer, side string) *tracer {
	return &tracer{out: out, side: side, name: "runtime", since: time.Now()}
}

// mark closes the step under way, printing its line, and charges the time
// since the last mark to the running chapter.
func (t *tracer) mark() {
	now := time.Now()
	d := now.Sub(t.since)
	t.since = now
	t.add(t.chapter, t.name, d)
	if t.open {
		t.print(t.text, d, true)
		t.open = false
	}
}

func (t *tracer) add(chapter int, name string, d time.Duration) {
	for i := range t.totals {
		if t.totals[i].Chapter == chapter {
			t.totals[i].Time += d
			return
		}
	}
	t.totals = append(t.totals, ChapterTime{Chapter: chapter, Name: name, Time: d})
}

func (t *tracer) enter(chapter int, name string) {
	if chapter == t.chapter && name == t.name {
		return
	}
	t.mark()
	t.chapter, t.name = chapter, name
}

func (t *tracer) step(format string, args []any) {
	t.mark()
	t.text = appendf(t.text[:0], format, args)
	t.open = true
}

// note prints a line at once, without a duration: something decided, not done.
func (t *tracer) note(format string, args []any) {
	t.print(appendf(nil, format, args), 0, false)
}

func (t *tracer) print(text []byte, d time.Duration, timed bool) {
	t.line = append(t.line[:0], '[')
	t.line = appendTag(t.line, t.chapter, t.name)
	t.line = append(t.line, ' ')
	t.line = append(t.line, t.side...)
	t.line = append(t.line, ']')
	for n := len(t.line); n < tagWidth; n++ {
		t.line = append(t.line, ' ')
	}
	t.line = append(t.line, "  "...)
	t.line = append(t.line, text...)
	if timed {
		t.line = append(t.line, "  "...)
		t.line = appendMS(t.line, d)
		t.line = append(t.line, " ms"...)
	}
	t.line = append(t.line, '\n')
	t.out.Write(t.line)
}

// tagWidth lines the steps up: "[07-publish child]" and a little more.
const tagWidth = 20

// appendTag is "03-mount", or "runtime" for the skeleton's own steps.
func appendTag(b []byte, chapter int, name string) []byte {
	if chapter > 0 {
		if chapter < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, int64(chapter), 10)
		b = append(b, '-')
	}
	return append(b, name...)
}

func appendMS(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// handOff ends the child's side just before it execs the command: the last
// line, then the child's times, written to fd for the host's summary.
func (t *tracer) handOff(fd int, args []string) {
	t.enter(0, "runtime")
	t.mark()
	t.note("execve(%q): the command replaces the runtime, and fd %d closes", []any{args, fd})
	b, _ := json.Marshal(t.totals)
	unix.Write(fd, b)
}

// finish closes the last step and prints the summary: each chapter's time
// on the host and, from what the child sent (see handOff), in the child.
func (t *tracer) finish(fromChild []byte) {
	t.enter(0, "runtime")
	t.mark()
	var child []ChapterTime
	json.Unmarshal(fromChild, &child)
	fmt.Fprint(t.out, Summary(t.totals, child))
}

// Summary is the table that ends a trace: milliseconds per chapter, on the
// host and in the child, in course order. The child's time is part of the
// host's: the host waits for the child's execve.
func Summary(host, child []ChapterTime) string {
	byChapter := map[int][2]time.Duration{}
	names := map[int]string{}
	seen := map[int]bool{}
	order := []int{}
	for side, times := range [][]ChapterTime{host, child} {
		for _, ct := range times {
			d := byChapter[ct.Chapter]
			d[side] += ct.Time
			byChapter[ct.Chapter] = d
			names[ct.Chapter] = ct.Name
			if !seen[ct.Chapter] {
				seen[ct.Chapter] = true
				order = append(order, ct.Chapter)
			}
		}
	}
	slices.Sort(order)
	ms := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return string(appendMS(nil, d))
	}
	var b []byte
	b = fmt.Appendf(b, "%-*s  %9s  %9s\n", tagWidth, "[summary] ms", "host", "child")
	var total [2]time.Duration
	for _, n := range order {
		d := byChapter[n]
		total[0] += d[0]
		total[1] += d[1]
		b = fmt.Appendf(b, "  %-*s  %9s  %9s\n", tagWidth-2, appendTag(nil, n, names[n]), ms(d[0]), ms(d[1]))
	}
	b = fmt.Appendf(b, "  %-*s  %9s  %9s\n", tagWidth-2, "total", ms(total[0]), ms(total[1]))
	return string(b)
}

// appendf is a small Printf for trace lines that never keeps its
// arguments (see Trace). Verbs: %s and %v (as is; slices joined by
// spaces), %q (quoted; slices as ["a", "b"]), %d, %x (0x...), %%.
func appendf(b []byte, format string, args []any) []byte {
	next := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b = append(b, format[i])
			continue
		}
		i++
		verb := format[i]
		if verb == '%' {
			b = append(b, '%')
			continue
		}
		if next >= len(args) {
			b = append(b, "%!"...)
			b = append(b, verb)
			b = append(b, "(missing)"...)
			continue
		}
		b = appendArg(b, verb, args[next])
		next++
	}
	return b
}

func appendArg(b []byte, verb byte, arg any) []byte {
	switch v := arg.(type) {
	case string:
		return appendString(b, verb, v)
	case []string:
		if verb == 'q' {
			b = append(b, '[')
		}
		for i, s := range v {
			if i > 0 && verb == 'q' {
				b = append(b, ',')
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendString(b, verb, s)
		}
		if verb == 'q' {
			b = append(b, ']')
		}
		return b
	case int:
		return appendInt(b, verb, int64(v))
	case int64:
		return appendInt(b, verb, v)
	case uint32:
		return appendInt(b, verb, int64(v))
	case uint64:
		return appendInt(b, verb, int64(v))
	case uintptr:
		return appendInt(b, verb, int64(v))
	case bool:
		return strconv.AppendBool(b, v)
	case CloneFlags:
		return appendFlags(b, uintptr(v), cloneFlagNames)
	case MountFlags:
		return appendFlags(b, uintptr(v), mountFlagNames)
	case net.IP:
		return append(b, v.String()...)
	case *net.IPNet:
		return append(b, v.String()...)
	}
	return append(b, "%!(unknown type)"...)
}

func appendString(b []byte, verb byte, s string) []byte {
	if verb == 'q' {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func appendInt(b []byte, verb byte, n int64) []byte {
	if verb == 'x' {
		return strconv.AppendInt(append(b, "0x"...), n, 16)
	}
	return strconv.AppendInt(b, n, 10)
}

// A flagName is one bit of a flags argument, named as in the man page.
type flagName struct {
	bit  uintptr
	name string
}

func cloneFlagNames() []flagName {
	return []flagName{
		{unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, {unix.CLONE_NEWPID, "CLONE_NEWPID"},
		{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_NEWNET, "CLONE_NEWNET"},
		{unix.CLONE_NEWIPC, "CLONE_NEWIPC"}, {unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
		{unix.CLONE_NEWUSER, "CLONE_NEWUSER"}, {unix.CLONE_NEWTIME, "CLONE_NEWTIME"},
		{unix.CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP"},
	}
}

func mountFlagNames() []flagName {
	return []flagName{
		{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"},
		{unix.MS_NODEV, "MS_NODEV"}, {unix.MS_NOEXEC, "MS_NOEXEC"},
		{unix.MS_REMOUNT, "MS_REMOUNT"}, {unix.MS_BIND, "MS_BIND"},
		{unix.MS_REC, "MS_REC"}, {unix.MS_PRIVATE, "MS_PRIVATE"},
		{unix.MS_SLAVE, "MS_SLAVE"}, {unix.MS_SHARED, "MS_SHARED"},
	}
}

// appendFlags writes flags as A|B|C, and what no name covers in hex.
func appendFlags(b []byte, flags uintptr, names func() []flagName) []byte {
	if flags == 0 {
		return append(b, '0')
	}
	start := len(b)
	for _, f := range names() {
		if flags&f.bit != 0 {
			if len(b) > start {
				b = append(b, '|')
			}
			b = append(b, f.name...)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		if len(b) > start {
			b = append(b, '|')
		}
		b = appendInt(b, 'x', int64(flags))
	}
	return b
}
