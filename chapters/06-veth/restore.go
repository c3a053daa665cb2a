package veth

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	"scratchcontainer/runtime/container"
)

// committed is the comment Restore sends after the last COMMIT: with
// --verbose, iptables-restore echoes comments as it reads them, so the echo
// means every block before it is committed.
const committed = "# committed"

// An op is one line of iptables-restore input: -C, -A or -D, and a rule.
type op struct {
	cmd  string
	rule Rule
}

func ops(cmd string, rules []Rule) []op {
	var out []op
	for _, r := range rules {
		out = append(out, op{cmd, r})
	}
	return out
}

// RestoreInput is the iptables-restore input for lines: one block per
// table, in the order the tables first appear, each ending in COMMIT.
func RestoreInput(lines []op) string {
	var tables []string
	byTable := map[string][]string{}
	for _, l := range lines {
		if _, ok := byTable[l.rule.Table]; !ok {
			tables = append(tables, l.rule.Table)
		}
		byTable[l.rule.Table] = append(byTable[l.rule.Table], l.cmd+" "+l.rule.Chain+" "+strings.Join(l.rule.Spec, " "))
	}
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "*%s\n%s\nCOMMIT\n", t, strings.Join(byTable[t], "\n"))
	}
	return b.String()
}

// Restore hands lines to one `iptables-restore --noflush`: one process,
// and one kernel transaction per table, where go-iptables would run one
// iptables per rule. go-iptables has no restore, so this is the runtime's
// one exec of an iptables program of its own; it runs the iptables-restore
// on PATH, which Debian's alternatives switch with iptables between the
// nft and legacy backends, so both write to the same tables.
//
// It returns as soon as iptables-restore has echoed the comment after the
// last COMMIT, without waiting for it to exit: under the nft backend, an
// iptables process that deleted a rule waits at exit, as it closes its
// netlink socket, for an RCU grace period (the kernel frees the rule only
// when no packet can still be looking at it). The rule is gone from the
// tables by then, and nobody needs to wait for its memory.
func Restore(c *container.Container, lines []op) error {
	if len(lines) == 0 {
		return nil
	}
	input := RestoreInput(lines)
	c.Trace("iptables-restore --noflush: %s", strings.ReplaceAll(strings.TrimSpace(input), "\n", "; "))
	path, err := exec.LookPath("iptables-restore")
	if err != nil {
		return fmt.Errorf("iptables-restore: %w (install the iptables package)", err)
	}
	cmd := exec.Command(path, "--noflush", "--verbose", "--wait")
	cmd.Stdin = strings.NewReader(input + committed + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("iptables-restore: %w", err)
	}
	out := bufio.NewScanner(stdout)
	for out.Scan() {
		if out.Text() == committed {
			go cmd.Wait() // reaped when it is done; we need not wait
			return nil
		}
	}
	err = cmd.Wait()
	return fmt.Errorf("iptables-restore --noflush: %v: %s", err, strings.TrimSpace(stderr.String()))
}
