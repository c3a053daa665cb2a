package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const lesson = "# A lesson\n" +
	"\n" +
	"```console\n" +
	"# ./scratchcontainer run -hostname box1 build/rootfs hostname\n" +
	"box1\n" +
	"# hostname\n" +
	"# echo one \\\n" +
	"two\n" +
	"one two\n" +
	"```\n" +
	"\n" +
	"```sh\n" +
	"# not a command: a shell comment in an sh block\n" +
	"```\n" +
	"\n" +
	"````console norun\n" +
	"# vagrant up\n" +
	"...\n" +
	"````\n"

func TestParse(t *testing.T) {
	blocks, err := Parse(strings.NewReader(lesson))
	require.NoError(t, err)
	require.Len(t, blocks, 2)

	b := blocks[0]
	assert.Equal(t, 3, b.Line)
	assert.False(t, b.NoRun)
	require.Len(t, b.Commands, 3)
	assert.Equal(t, Command{Line: 4, Text: "./scratchcontainer run -hostname box1 build/rootfs hostname", Want: []Want{{5, "box1"}}}, b.Commands[0])
	assert.Equal(t, "hostname", b.Commands[1].Text)
	assert.Empty(t, b.Commands[1].Want)
	assert.Equal(t, "echo one \\\ntwo", b.Commands[2].Text, "a trailing backslash continues the command")
	assert.Equal(t, []Want{{9, "one two"}}, b.Commands[2].Want)

	assert.True(t, blocks[1].NoRun)
	assert.Equal(t, 16, blocks[1].Line)
	assert.Equal(t, "vagrant up", blocks[1].Commands[0].Text)
}

func TestParseErrors(t *testing.T) {
	for name, md := range map[string]string{
		"output first": "```console\nbox1\n# hostname\n```\n",
		"no command":   "```console\n```\n",
		"unknown word": "```console later\n# true\n```\n",
		"never closed": "```console\n# true\n",
	} {
		_, err := Parse(strings.NewReader(md))
		assert.Error(t, err, name)
	}
}

func wants(lines ...string) []Want {
	w := make([]Want, len(lines))
	for i, l := range lines {
		w[i] = Want{Line: 10 + i, Text: l}
	}
	return w
}

func TestMatchWildcards(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"box1", "box1", true},
		{"box1", "box2", false},
		{"[ID]", "3f2a9c01b7de", true},
		{"[ID]", "3f2a9c01b7d", false},  // 11 characters
		{"[ID]", "3F2A9C01B7DE", false}, // upper case
		{"[ID]", "3f2a9c01b7dex", false},
		{"PID 1: [PID]", "PID 1: 4215", true},
		{"PID 1: [PID]", "PID 1: x", false},
		{"eth0 [IP]/24", "eth0 172.22.3.2/24", true},
		{"eth0 [IP]/24", "eth0 172.22.3/24", false},
		{"real [MS]s", "real 0.04s", true},
		{"real [MS]s", "real 3s", true},
		{"a ... z", "a b c d z", true},
		{"a...", "a", true},
		{"a.b", "axb", false}, // no regexp leaks through
		{"ID PID ADDRESS", "ID            PID     ADDRESS", true},
		{"  indented", "indented   ", true},
		{"no space", "nospace", false},
	} {
		ok, _ := Match(wants(c.want), Lines(c.got))
		assert.Equal(t, c.ok, ok, "want %q, got %q", c.want, c.got)
	}
}

func TestMatchLines(t *testing.T) {
	ok, _ := Match(wants("first", "...", "last"), Lines("first\nx\ny\nlast\n"))
	assert.True(t, ok, "... takes any number of lines")
	ok, _ = Match(wants("first", "...", "last"), Lines("first\nlast\n"))
	assert.True(t, ok, "... takes no line too")
	ok, _ = Match(wants("..."), nil)
	assert.True(t, ok)
	ok, _ = Match(nil, Lines("\n\n"))
	assert.True(t, ok, "trailing empty lines do not count")
	ok, _ = Match(nil, Lines("surprise\n"))
	assert.False(t, ok, "no expected output means none")
	ok, _ = Match(wants("first", "last"), Lines("first\nx\nlast\n"))
	assert.False(t, ok)
}

func TestMatchDiff(t *testing.T) {
	ok, diff := Match(wants("box1", "same"), Lines("box2\nsame\n"))
	require.False(t, ok)
	assert.Equal(t, []DiffLine{{'-', 10, "box1"}, {'+', 0, "box2"}, {' ', 11, "same"}}, diff)
	assert.Contains(t, describe("chapters/01-uts/README.md", diff),
		`chapters/01-uts/README.md:10: want "box1", got "box2"`)

	ok, diff = Match(wants("a", "b"), Lines("a\n"))
	require.False(t, ok)
	assert.Equal(t, []DiffLine{{' ', 10, "a"}, {'-', 11, "b"}}, diff)
}

// TestCheckLesson runs a lesson with bash, one expected line of it wrong:
// the report names the lesson, the line and the difference. The session
// keeps cd and variables from one command to the next.
func TestCheckLesson(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "README.md")
	md := "```console\n" +
		"# cd /; greeting=hello\n" +
		"# pwd; echo $greeting\n" +
		"/\n" +
		"hello\n" +
		"```\n" +
		"```console\n" +
		"# echo box2; echo same\n" +
		"box1\n" +
		"same\n" +
		"```\n" +
		"```console norun\n" +
		"# vagrant up\n" +
		"```\n"
	require.NoError(t, os.WriteFile(file, []byte(md), 0o644))
	var out bytes.Buffer
	r := checkLesson(file, 10*time.Second, &out)
	assert.Equal(t, result{run: 2, passed: 1, failed: 1, skipped: 1}, r)
	assert.Contains(t, out.String(), "FAIL "+file+":8: # echo box2; echo same")
	assert.Contains(t, out.String(), file+`:9: want "box1", got "box2"`)
}

// TestCheckLessonTimeLimit: a block that hangs fails at its time limit, the
// rest of the lesson is not run, and its background job is stopped.
func TestCheckLessonTimeLimit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "README.md")
	md := "```console\n# sleep 60 &\n# sleep 60\n```\n```console\n# echo after\nafter\n```\n"
	require.NoError(t, os.WriteFile(file, []byte(md), 0o644))
	var out bytes.Buffer
	start := time.Now()
	r := checkLesson(file, time.Second, &out)
	assert.Less(t, time.Since(start), 15*time.Second)
	assert.Equal(t, result{run: 2, failed: 2}, r)
	assert.Contains(t, out.String(), "still running after the block's time limit")
	assert.Contains(t, out.String(), "not run: the block at line 1 hung")
	assert.Contains(t, out.String(), "stopped 2 background processes")
}
