package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// The OCI runtime command line, as runc has it: what podman (through
// conmon), containerd and the runtime-tools validation suite call.
//
//	scratchcontainer [--root DIR] [--log FILE] [--log-format json|text] create [--bundle DIR] [--pid-file F] <id>
//	scratchcontainer start|state <id>;  kill [--all] <id> [SIGNAL];  delete [--force] <id>
//
// It is a layer over the lifecycle `run` uses, not a second one: create is
// Run stopped before execve (see container.Config.Created), delete is the
// same Release hooks a run's end calls.

// globals are runc's flags before the subcommand.
type globals struct {
	root      string // --root: the state directory
	log       string // --log: errors are also written here (podman reads them there)
	logFormat string // --log-format: text or json
}

// parseGlobals reads the flags before the subcommand, and returns the
// arguments with them taken out.
func parseGlobals(args []string) (globals, []string, error) {
	g := globals{root: container.StateRoot, logFormat: "text"}
	if len(args) < 2 || !strings.HasPrefix(args[1], "-") || isHelp(args[1]) || args[1] == "--version" || args[1] == "-version" {
		return g, args, nil
	}
	fs := flag.NewFlagSet("scratchcontainer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.root, "root", g.root, "state directory")
	fs.StringVar(&g.log, "log", "", "also write errors to `FILE`")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "`text|json`")
	if err := fs.Parse(args[1:]); err != nil {
		return g, args, usageError("%v: the flags before the subcommand are --root, --log and --log-format", err)
	}
	if g.logFormat != "text" && g.logFormat != "json" {
		return g, args, usageError("--log-format %q: use text or json", g.logFormat)
	}
	root, err := filepath.Abs(g.root)
	if err != nil {
		return g, args, err
	}
	g.root = root
	return g, append([]string{args[0]}, fs.Args()...), nil
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// logError writes err to --log, in the format podman and containerd parse:
// one JSON object a line, {"level":"error","msg":...,"time":...}.
func (g globals) logError(err error) {
	if g.log == "" {
		return
	}
	f, ferr := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if ferr != nil {
		return // stderr has it already
	}
	defer f.Close()
	now := time.Now().Format(time.RFC3339Nano)
	if g.logFormat == "json" {
		line, _ := json.Marshal(map[string]string{"level": "error", "msg": err.Error(), "time": now})
		fmt.Fprintf(f, "%s\n", line)
		return
	}
	fmt.Fprintf(f, "time=%q level=error msg=%q\n", now, err.Error())
}

// ociCommands are the subcommands of the OCI runtime command line.
var ociCommands = []string{"create", "start", "state", "kill", "delete"}

// oci runs one of ociCommands.
func oci(g globals, sub string, args []string, course []container.Chapter) error {
	fs := flag.NewFlagSet(sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var bundle, pidFile, consoleSocket string
	var all, force bool
	switch sub {
	case "create":
		fs.StringVar(&bundle, "bundle", ".", "the bundle `DIR`: config.json and the root filesystem")
		fs.StringVar(&bundle, "b", ".", "short for --bundle")
		fs.StringVar(&pidFile, "pid-file", "", "write the container's PID to `FILE`")
		fs.StringVar(&consoleSocket, "console-socket", "", "unix socket `PATH` for the terminal (process.terminal)")
		fs.Bool("no-new-keyring", false, "accepted: no session keyring is made anyway")
	case "kill":
		fs.BoolVar(&all, "all", false, "signal every process of the container")
		fs.BoolVar(&all, "a", false, "short for --all")
	case "delete":
		fs.BoolVar(&force, "force", false, "kill a running container first")
		fs.BoolVar(&force, "f", false, "short for --force")
	}
	if err := fs.Parse(args); err != nil {
		return usageError("%s: %v", sub, err)
	}
	want := 1
	if sub == "kill" {
		want = 2
	}
	if fs.NArg() < 1 || fs.NArg() > want {
		return usageError("%s: give one container ID (got %q)", sub, fs.Args())
	}
	id := fs.Arg(0)
	switch sub {
	case "create":
		return create(g, id, bundle, pidFile, consoleSocket, course)
	case "start":
		return container.Start(g.root, id, course)
	case "state":
		return state(g, id)
	case "kill":
		sig, err := parseSignal(fs.Arg(1))
		if err != nil {
			return err
		}
		return container.Kill(g.root, id, sig, all)
	}
	return container.Delete(g.root, id, course, force)
}

// validID reports whether id may name a container, by runc's rule: 1 to
// 128 letters, digits and _.+-, the first a letter or digit. It names a
// directory and, through it, a cgroup. (A loop, not a regexp: compiling
// `[...]{0,127}` took a millisecond at every start of the runtime, the
// container's child included.)
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_.+-", rune(b))) {
			return false
		}
	}
	return true
}

// create reads the bundle into a Config through the chapter that knows
// config.json, and runs it up to the start gate.
func create(g globals, id, bundle, pidFile, consoleSocket string, course []container.Chapter) error {
	if !validID(id) {
		return usageError("create: container ID %q: use letters, digits and _.+- (at most 128, not starting with a sign)", id)
	}
	if _, err := container.LoadIn(g.root, id); err == nil {
		return usageError("create: container %q exists already in %s: delete it first", id, g.root)
	}
	var read func(string, *container.Config) error
	for _, ch := range course {
		if ch.Bundle != nil {
			read = ch.Bundle
		}
	}
	if read == nil {
		return usageError("create: reading a bundle needs the chapter of the OCI runtime command line, which this runtime lacks")
	}
	dir, err := filepath.Abs(bundle)
	if err != nil {
		return err
	}
	cfg := container.Config{Chapters: len(course), ID: id, Root: g.root, Bundle: dir}
	if err := read(dir, &cfg); err != nil {
		return err
	}
	if pidFile != "" {
		if cfg.PidFile, err = filepath.Abs(pidFile); err != nil {
			return err
		}
	}
	switch {
	case cfg.Terminal && consoleSocket == "":
		return usageError("create: process.terminal is true: give --console-socket, the unix socket to send the terminal to")
	case !cfg.Terminal && consoleSocket != "":
		return usageError("create: --console-socket %s: process.terminal is false, so there is no terminal to send", consoleSocket)
	case consoleSocket != "":
		if cfg.ConsoleSocket, err = filepath.Abs(consoleSocket); err != nil {
			return err
		}
	}
	container.GC(course, false) // as run does: free what dead runtimes left
	status, err := container.Run(cfg, course)
	if err == nil && status != 0 {
		err = container.Errorf(status, "create %s: stopped with status %d", id, status)
	}
	return err
}

// state prints the OCI runtime spec's state of container id.
func state(g globals, id string) error {
	c, err := container.LoadIn(g.root, id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(c.OCIState(c.Status()), "", "  ")
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", b)
	return nil
}

// parseSignal reads a signal as kill(1) does: TERM, SIGTERM or 15;
// empty is SIGTERM.
func parseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return unix.SIGTERM, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, usageError("kill: signal %q: give a name (TERM, SIGKILL) or a number (1-64)", s)
}

// execIn is `exec`: scratchcontainer exec [-trace] <id> <command> [args...],
// or as conmon calls it for `podman exec`:
//
//	exec --process FILE [--detach] [--pid-file F] [--tty --console-socket S] <id>
//
// where FILE is an OCI process.json: args, env, cwd, user, terminal. With
// --tty, the command's stdio is a new terminal whose master goes to the
// unix socket S (chapter 11's JoinConsole), as for create's.
func execIn(g globals, args []string, course []container.Chapter) (int, error) {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	trace := fs.Bool("trace", false, "narrate each step on stderr")
	processFile := fs.String("process", "", "an OCI process.json: what to run")
	var p container.Process
	fs.BoolVar(&p.Detach, "detach", false, "start the command and return: the caller waits for it")
	fs.BoolVar(&p.Detach, "d", false, "short for --detach")
	fs.StringVar(&p.PidFile, "pid-file", "", "write the command's PID to `FILE`")
	tty := fs.Bool("tty", false, "a new terminal for the command, its master sent to --console-socket")
	fs.BoolVar(tty, "t", false, "short for --tty")
	fs.StringVar(&p.ConsoleSocket, "console-socket", "", "the unix socket `PATH` that gets the terminal's master")
	if err := fs.Parse(args); err != nil {
		return 0, usageError("exec: %v", err)
	}
	root := g.root
	if root == container.StateRoot {
		root = container.DefaultRoot() // a user's own, without root
	}
	switch {
	case fs.NArg() == 0:
		return 0, usageError("exec: give a container ID and a command: scratchcontainer exec <id> <command> [args...]")
	case *processFile == "" && fs.NArg() < 2:
		return 0, usageError("exec: give a command after the container ID %s, or --process FILE", fs.Arg(0))
	case *processFile != "" && fs.NArg() > 1:
		return 0, usageError("exec: --process %s gives the command: drop %q", *processFile, fs.Args()[1:])
	case *processFile != "":
		c, err := container.LoadIn(root, fs.Arg(0))
		if err != nil {
			return 0, err
		}
		terminal, err := readProcess(*processFile, c, &p)
		if err != nil {
			return 0, err
		}
		*tty = *tty || terminal
	default:
		p.Args = fs.Args()[1:]
	}
	switch {
	case *tty && p.ConsoleSocket == "":
		return 0, usageError("exec --tty (or terminal true in --process): give --console-socket PATH, a unix socket that takes the terminal's master (as conmon does)")
	case !*tty && p.ConsoleSocket != "":
		return 0, usageError("exec --console-socket %s: only with --tty (or terminal true in --process)", p.ConsoleSocket)
	}
	if p.PidFile != "" {
		abs, err := filepath.Abs(p.PidFile)
		if err != nil {
			return 0, err
		}
		p.PidFile = abs
	}
	return container.Exec(root, fs.Arg(0), p, course, *trace)
}

// readProcess reads an OCI process.json into p. The command joins what the
// container has (chapter 08's capabilities, no_new_privs, seccomp): a
// process.json that asks for other restrictions is refused, not ignored.
// It returns process.json's terminal: a terminal is --console-socket's.
func readProcess(path string, c *container.Container, p *container.Process) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("exec --process %s: %w", path, container.UnwrapPath(err))
	}
	var proc specs.Process
	if err := json.Unmarshal(b, &proc); err != nil {
		return false, fmt.Errorf("exec --process %s: %w", path, err)
	}
	why := ""
	switch {
	case len(proc.Args) == 0:
		why = "args is empty: give the command to run"
	case proc.Cwd != "" && !filepath.IsAbs(proc.Cwd):
		why = fmt.Sprintf("cwd %q: must be absolute", proc.Cwd)
	case proc.User.Username != "":
		why = fmt.Sprintf("user.username %q: give uid and gid as numbers", proc.User.Username)
	case proc.ApparmorProfile != "" || proc.SelinuxLabel != "":
		why = "apparmorProfile, selinuxLabel: not supported"
	case len(proc.Rlimits) > 0 || proc.OOMScoreAdj != nil:
		why = "rlimits, oomScoreAdj: an exec'd command has the container's"
	case proc.NoNewPrivileges == c.Config.NewPrivileges:
		why = fmt.Sprintf("noNewPrivileges %v: an exec'd command has the container's (%v)", proc.NoNewPrivileges, !c.Config.NewPrivileges)
	case proc.Capabilities != nil && !sameCapabilities(proc.Capabilities, c.Config.Capabilities):
		why = "capabilities: an exec'd command has the container's sets (chapter 08's Join), and these differ"
	}
	if why != "" {
		return false, fmt.Errorf("exec --process %s: %s", path, why)
	}
	p.Args, p.Env, p.Dir = proc.Args, proc.Env, proc.Cwd
	if p.Env == nil {
		p.Env = []string{} // process.json's env is the whole environment
	}
	if u := proc.User; u.UID != 0 || u.GID != 0 || len(u.AdditionalGids) > 0 {
		p.User = &container.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids}
	}
	return proc.Terminal, nil
}

// sameCapabilities reports whether a process.json's sets are the
// container's, in any order; an empty set is a set left out.
func sameCapabilities(got *specs.LinuxCapabilities, have *container.CapabilitySets) bool {
	if have == nil {
		have = &container.CapabilitySets{}
	}
	same := func(a, b []string) bool {
		a, b = slices.Clone(a), slices.Clone(b)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(a, b)
	}
	return same(got.Bounding, have.Bounding) && same(got.Effective, have.Effective) && same(got.Permitted, have.Permitted) &&
		same(got.Inheritable, have.Inheritable) && same(got.Ambient, have.Ambient)
}
