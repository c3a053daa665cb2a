package container

import (
	"bytes"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestAppendf(t *testing.T) {
	_, ipnet, _ := net.ParseCIDR("172.22.3.0/24")
	for _, tc := range []struct {
		format string
		args   []any
		want   string
	}{
		{"pivot_root(%q, %q)", []any{"/r", "/r/.old"}, `pivot_root("/r", "/r/.old")`},
		{"write %s = %d", []any{"/sys/fs/cgroup/x/pids.max", 1024}, "write /sys/fs/cgroup/x/pids.max = 1024"},
		{"iptables -t nat -A X %s", []any{[]string{"-p", "tcp", "--dport", "80"}}, "iptables -t nat -A X -p tcp --dport 80"},
		{"execve(%q)", []any{[]string{"/bin/sh", "-c", "echo hi"}}, `execve(["/bin/sh", "-c", "echo hi"])`},
		{"mknod c %d %d", []any{uint32(1), uint32(3)}, "mknod c 1 3"},
		{"%v", []any{MountFlags(unix.MS_BIND | unix.MS_REC)}, "MS_BIND|MS_REC"},
		{"%v", []any{MountFlags(unix.MS_NOSUID | 1<<30)}, "MS_NOSUID|0x40000000"},
		{"%v", []any{MountFlags(0)}, "0"},
		{"clone(%v)", []any{CloneFlags(unix.CLONE_NEWUTS | unix.CLONE_NEWNET)}, "clone(CLONE_NEWUTS|CLONE_NEWNET)"},
		{"%v on %s", []any{ipnet, "sc-1"}, "172.22.3.0/24 on sc-1"},
		{"via %v", []any{net.IPv4(172, 22, 3, 1)}, "via 172.22.3.1"},
		{"%x %d%%", []any{255, int64(7)}, "0xff 7%"},
		{"%s and %s", []any{"one"}, "one and %!s(missing)"},
		{"%v", []any{3.5}, "%!(unknown type)"},
		{"trailing %", nil, "trailing %"},
	} {
		assert.Equal(t, tc.want, string(appendf(nil, tc.format, tc.args)), tc.format)
	}
}

// A step's line comes when the next step begins, tagged with the chapter
// that ran it and timed; the summary adds up each chapter on each side.
func TestTracerLines(t *testing.T) {
	var out bytes.Buffer
	c := &Container{ID: "abc", trace: newTracer(&out, "host")}
	c.traceRuntime("write state %s", "/run/x")
	c.traceCloneFlags(1, Chapter{Name: "pid", CloneFlags: unix.CLONE_NEWPID})
	c.traceChapter(2, Chapter{Name: "mount"})
	c.Trace("stat(%q)", "/rootfs")
	time.Sleep(2 * time.Millisecond)
	c.traceChapter(4, Chapter{Name: "cgroups"}) // a hook without steps: time, no line
	c.traceRuntime("rm -r %s", "/run/x")
	c.traceFinish([]byte(`[{"Chapter":3,"Name":"mount","Time":1500000}]`))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 10, out.String())
	assert.Regexp(t, `^\[runtime host\] +write state /run/x  \d+\.\d\d ms$`, lines[0])
	assert.Equal(t, "[02-pid host]         clone flags += CLONE_NEWPID", lines[1])
	assert.Regexp(t, `^\[03-mount host\] +stat\("/rootfs"\)  ([2-9]|\d\d+)\.\d\d ms$`, lines[2])
	assert.Regexp(t, `^\[runtime host\] +rm -r /run/x  \d+\.\d\d ms$`, lines[3])
	assert.Regexp(t, `^\[summary\] ms +host +child$`, lines[4])
	assert.Regexp(t, `^  runtime +\d+\.\d\d +-$`, lines[5])
	assert.Regexp(t, `^  02-pid +\d+\.\d\d +-$`, lines[6])
	assert.Regexp(t, `^  03-mount +([2-9]|\d\d+)\.\d\d +1\.50$`, lines[7])
	assert.Regexp(t, `^  05-cgroups +\d+\.\d\d +-$`, lines[8])
	assert.Regexp(t, `^  total +([2-9]|\d\d+)\.\d\d +1\.50$`, lines[9])
	assert.NotContains(t, out.String(), "01-uts", "a chapter that did nothing says nothing")
}

func TestSummaryTotal(t *testing.T) {
	s := Summary(
		[]ChapterTime{{0, "runtime", 2 * time.Millisecond}, {5, "cgroups", time.Millisecond}},
		[]ChapterTime{{3, "mount", 500 * time.Microsecond}})
	assert.Regexp(t, regexp.MustCompile(`(?m)^  total +3\.00 +0\.50$`), s)
	assert.Less(t, strings.Index(s, "03-mount"), strings.Index(s, "05-cgroups"), "course order")
}

// The child hands its times to the host on the exec pipe, then the command's
// line is the last it prints.
func TestHandOff(t *testing.T) {
	var out bytes.Buffer
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	c := &Container{Config: Config{Args: []string{"/bin/true"}}, trace: newTracer(&out, "child")}
	c.traceChapter(0, Chapter{Name: "uts"})
	c.Trace("sethostname(%q)", "box")
	c.traceExec(int(w.Fd()))
	w.Close()
	sent, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Contains(t, string(sent), `"Name":"uts"`)
	assert.Regexp(t, `(?m)^\[01-uts child\] +sethostname\("box"\)  \d+\.\d\d ms\n\[runtime child\] +execve\(\["/bin/true"\]\)`, out.String())
}

// Tracing off costs nothing: no allocation, whatever the arguments.
func TestTraceOffAllocatesNothing(t *testing.T) {
	c := &Container{ID: "3f2a1b9c0d4e"}
	dir, flags, pid := strings.Repeat("/x", 20), uintptr(unix.MS_BIND), 4242
	spec := []string{"-p", "tcp"}
	allocs := testing.AllocsPerRun(1000, func() {
		c.Trace("mount(%q, %q, %v) pid %d %s", dir, c.ID, MountFlags(flags), pid, spec)
	})
	assert.Zero(t, allocs)
}

func BenchmarkTraceOff(b *testing.B) {
	c := &Container{ID: "3f2a1b9c0d4e"}
	dir, flags := strings.Repeat("/x", 20), uintptr(unix.MS_BIND)
	b.ReportAllocs()
	for b.Loop() {
		c.Trace("mount(%q, %q, \"\", %v, \"\")", dir, c.ID, MountFlags(flags))
	}
}

func BenchmarkTraceOn(b *testing.B) {
	c := &Container{ID: "3f2a1b9c0d4e", trace: newTracer(discard{}, "host")}
	dir, flags := strings.Repeat("/x", 20), uintptr(unix.MS_BIND)
	b.ReportAllocs()
	for b.Loop() {
		c.Trace("mount(%q, %q, \"\", %v, \"\")", dir, c.ID, MountFlags(flags))
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
