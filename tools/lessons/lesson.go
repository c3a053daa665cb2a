package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// A Block is one fenced ```console block of a lesson.
type Block struct {
	Line     int // line of the opening fence, 1-based
	NoRun    bool
	Commands []Command
}

// A Command is one `# ` line of a block (with its continuation lines) and
// the output the lesson says it prints.
type Command struct {
	Line int    // line of the `# `, 1-based
	Text string // what is typed, without the prompt
	Want []Want // expected output, one entry a line
}

// A Want is one line of expected output and where the lesson has it.
type Want struct {
	Line int
	Text string
}

// prompt starts a command line: a root shell's prompt.
const prompt = "# "

// Parse returns the console blocks of a Markdown lesson: fenced blocks whose
// info string is `console` (run) or `console norun` (shown, not run). Other
// fenced blocks are prose to the checker.
func Parse(r io.Reader) ([]Block, error) {
	var (
		blocks []Block
		cur    *Block
		fence  string // the opening fence of the block we are in, if any
		inCode bool
		cont   bool // the last command line ended in a backslash
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if !inCode {
			if f := fenceOf(trimmed); f != "" {
				inCode, fence = true, f
				info := strings.Fields(strings.TrimLeft(trimmed, f[:1]))
				if len(info) > 0 && info[0] == "console" {
					b := Block{Line: n}
					for _, word := range info[1:] {
						if word != "norun" {
							return nil, fmt.Errorf("line %d: unknown word %q after console: only norun is known", n, word)
						}
						b.NoRun = true
					}
					blocks = append(blocks, b)
					cur = &blocks[len(blocks)-1]
				}
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
			if cur != nil && len(cur.Commands) == 0 {
				return nil, fmt.Errorf("line %d: console block has no command (a line starting with %q)", cur.Line, prompt)
			}
			inCode, cur, cont = false, nil, false
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case cont:
			c := &cur.Commands[len(cur.Commands)-1]
			c.Text += "\n" + line
			cont = strings.HasSuffix(line, `\`)
		case strings.HasPrefix(line, prompt):
			cur.Commands = append(cur.Commands, Command{Line: n, Text: line[len(prompt):]})
			cont = strings.HasSuffix(line, `\`)
		case len(cur.Commands) == 0:
			return nil, fmt.Errorf("line %d: output before the first command of the console block: commands start with %q", n, prompt)
		default:
			c := &cur.Commands[len(cur.Commands)-1]
			c.Want = append(c.Want, Want{Line: n, Text: line})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if inCode {
		return nil, fmt.Errorf("a code block is never closed (%s)", fence)
	}
	return blocks, nil
}

// fenceOf returns the fence a line opens (``` or ~~~, three or more), or "".
func fenceOf(line string) string {
	for _, c := range []string{"`", "~"} {
		n := len(line) - len(strings.TrimLeft(line, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// Wildcards of expected output: `...` alone on a line matches any number of
// lines; inside a line, any text. The others match one token each.
var wildcards = map[string]string{
	"...":   `.*`,
	"[ID]":  `[0-9a-f]{12}`,
	"[PID]": `[0-9]+`,
	"[IP]":  `[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}`,
	"[MS]":  `[0-9]+(\.[0-9]+)?`,
}

var wildcardRE = regexp.MustCompile(`\.\.\.|\[ID\]|\[PID\]|\[IP\]|\[MS\]|[ \t]+`)

// anyLines is the expected line that matches any number of lines.
const anyLines = "..."

// pattern compiles one expected line. Blanks at either end do not count,
// and a run of blanks matches a run of any length, so columns may be as
// wide as the output makes them.
func pattern(want string) *regexp.Regexp {
	want = strings.TrimSpace(want)
	var b strings.Builder
	b.WriteString(`^[ \t]*`)
	last := 0
	for _, loc := range wildcardRE.FindAllStringIndex(want, -1) {
		b.WriteString(regexp.QuoteMeta(want[last:loc[0]]))
		tok := want[loc[0]:loc[1]]
		if re, ok := wildcards[tok]; ok {
			b.WriteString(re)
		} else {
			b.WriteString(`[ \t]+`)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(want[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// Lines splits output into lines without trailing blanks, dropping
// trailing empty lines: a lesson cannot show them.
func Lines(out string) []string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	lines := strings.Split(out, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// A DiffLine is one line of the comparison: ' ' matched, '-' expected but
// not printed (Line is the lesson's line), '+' printed but not expected.
type DiffLine struct {
	Op   byte
	Line int
	Text string
}

// Match compares output with what the lesson expects. It returns whether
// they match and, when they do not, the smallest diff: the fewest expected
// lines missing plus output lines extra.
func Match(want []Want, got []string) (bool, []DiffLine) {
	for len(want) > 0 && strings.TrimSpace(want[len(want)-1].Text) == "" {
		want = want[:len(want)-1]
	}
	pats := make([]*regexp.Regexp, len(want))
	for i, w := range want {
		if strings.TrimSpace(w.Text) != anyLines {
			pats[i] = pattern(w.Text)
		}
	}
	// cost[i][j]: fewest edits to match want[i:] against got[j:].
	n, m := len(want), len(got)
	cost := make([][]int, n+1)
	for i := range cost {
		cost[i] = make([]int, m+1)
	}
	for i := n; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			switch {
			case i == n:
				cost[i][j] = m - j
			case pats[i] == nil: // `...`: skip it, or let it take got[j]
				cost[i][j] = cost[i+1][j]
				if j < m {
					cost[i][j] = min(cost[i][j], cost[i][j+1])
				}
			default:
				cost[i][j] = 1 + cost[i+1][j]
				if j < m {
					cost[i][j] = min(cost[i][j], 1+cost[i][j+1])
					if pats[i].MatchString(got[j]) {
						cost[i][j] = min(cost[i][j], cost[i+1][j+1])
					}
				}
			}
		}
	}
	if cost[0][0] == 0 {
		return true, nil
	}
	var diff []DiffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && pats[i] == nil && cost[i][j] == cost[i+1][j]:
			i++
		case i < n && pats[i] == nil:
			diff = append(diff, DiffLine{' ', 0, got[j]})
			j++
		case i < n && j < m && pats[i].MatchString(got[j]) && cost[i][j] == cost[i+1][j+1]:
			diff = append(diff, DiffLine{' ', want[i].Line, got[j]})
			i, j = i+1, j+1
		case i < n && cost[i][j] == 1+cost[i+1][j]:
			diff = append(diff, DiffLine{'-', want[i].Line, want[i].Text})
			i++
		default:
			diff = append(diff, DiffLine{'+', 0, got[j]})
			j++
		}
	}
	return false, diff
}
