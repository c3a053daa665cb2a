// Package cli is the command line of scratchcontainer: it reads flags into a
// container.Config, runs the subcommand, and turns every error into one line
// on stderr and the exit status the contract gives.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"scratchcontainer/runtime/container"
)

const usage = `usage:
  scratchcontainer run [flags] <rootfs-dir | image-ref> [command [args...]]
  scratchcontainer ps [-format json]       running containers (json: their saved records)
  scratchcontainer inspect [--format json] <id>   a running container as the host sees it, chapter by chapter
  scratchcontainer exec [-trace] <id> <command>   run a command inside a running container
  scratchcontainer exec --process FILE [--detach] [--pid-file F] <id>   the same, from an OCI process.json (podman)
  scratchcontainer gc [-trace]             release what containers whose runtime died left behind
  scratchcontainer chapters                the course: each chapter and what it adds
  scratchcontainer check                   is this host ready? root, namespaces, cgroups, iptables
  scratchcontainer pull [-store DIR] REF           fetch an image from a registry into the store
  scratchcontainer import [-store DIR] FILE.tar [NAME]   load an OCI layout or docker save archive
  scratchcontainer images [-store DIR]             the images in the store
  scratchcontainer rmi [-store DIR] REF            remove an image from the store
  scratchcontainer [--root DIR] [--log FILE] [--log-format json|text] create [--bundle DIR] [--pid-file F] [--console-socket S] <id>
  scratchcontainer start|state <id> | kill [--all] <id> [SIGNAL] | delete [--force] <id>   (OCI, as runc)
(scratchcontainer run -h lists run's flags)
`

// Main runs the command line args with the chapters of course, and returns
// the process's exit status.
func Main(args []string, course []container.Chapter) int {
	g, args, err := parseGlobals(args)
	status := 0
	if err == nil {
		status, err = run(g, args, course)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "scratchcontainer: %v\n", err)
		g.logError(err)
		return container.StatusOf(err)
	}
	return status
}

func run(g globals, args []string, course []container.Chapter) (int, error) {
	if len(args) < 2 {
		return 0, usageError("missing subcommand: run, exec, ps, inspect, gc, check or chapters")
	}
	sub, rest := args[1], args[2:]
	switch sub {
	case container.ChildCommand:
		return 0, container.Child(course)
	case "chapters":
		for i, ch := range course {
			fmt.Printf("%02d-%-8s %s\n", i+1, ch.Name, ch.Capability)
		}
		return 0, nil
	case "check":
		return 0, check(os.Stdout)
	case "--version", "-version", "version":
		fmt.Printf("scratchcontainer version %d chapters\nspec: %s\n", len(course), specs.Version)
		return 0, nil
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return 0, nil
	}
	if os.Geteuid() != 0 && !rootlessCommand(sub) {
		return 0, fmt.Errorf("%s needs root (namespaces, cgroups and iptables do): try sudo %s", sub, strings.Join(args, " "))
	}
	if slices.Contains(ociCommands, sub) {
		return 0, oci(g, sub, rest, course)
	}
	switch sub {
	case "run":
		cfg, err := parseRun(rest, course)
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil // -h: the usage is printed
		}
		if err != nil {
			return 0, err
		}
		// Release what crashed runtimes left first: their addresses and
		// ports are ours to reuse. It costs a read of each state file.
		container.GC(course, false) // what it cannot release, `scratchcontainer gc` reports
		return container.Run(cfg, course[:cfg.Chapters])
	case "exec":
		return execIn(g, rest, course)
	case "ps":
		format, err := parsePs(rest)
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if format == "json" {
			return 0, psJSON(os.Stdout)
		}
		return 0, ps(os.Stdout)
	case "inspect":
		return 0, inspect(os.Stdout, rest, course)
	case "gc":
		trace := len(rest) == 1 && isTrace(rest[0])
		if len(rest) > 0 && !trace {
			return 0, usageError("gc: unexpected %q: gc takes only -trace", rest[0])
		}
		released, skipped, err := container.GC(course, trace)
		for _, id := range released {
			fmt.Println("released", id)
		}
		for _, id := range skipped {
			fmt.Fprintf(os.Stderr, "skipped %s: made with more chapters than this runtime has (%d); the full scratchcontainer gc releases it\n", id, len(course))
		}
		return 0, err
	}
	// Subcommands a chapter adds (chapter 10: pull, import, images, rmi).
	for _, ch := range course {
		if cmd, ok := ch.Commands[sub]; ok {
			return cmd(rest)
		}
	}
	return 0, usageError("unknown subcommand %q: use run, exec, ps, inspect, gc, check or chapters", sub)
}

// rootlessCommand reports whether an ordinary user may run subcommand sub:
// a container in a user namespace of its own (chapter 09), and the
// commands that look at this user's containers, whose state is their own
// (container.DefaultRoot).
func rootlessCommand(sub string) bool {
	switch sub {
	case "run", "exec", "ps", "inspect", "gc":
		return true
	}
	return false
}

// isTrace reports whether arg is the flag -trace (or --trace).
func isTrace(arg string) bool { return arg == "-trace" || arg == "--trace" }

func usageError(format string, args ...any) error {
	return container.Errorf(container.StatusRuntimeFailed, format+" (see scratchcontainer -h)", args...)
}

// strings is a repeatable flag: -e A=1 -e B=2.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseRun reads `run`'s flags and arguments. Values only a chapter
// understands (-cpus, -memory, -publish, ...) are checked by that chapter's
// Prepare; here we check what the skeleton itself uses, and that no flag
// belongs to a chapter -chapter turns off.
func parseRun(args []string, course []container.Chapter) (container.Config, error) {
	chapters := len(course)
	cfg := container.Config{Chapters: chapters}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var env, publish, dns, capAdd, capDrop, volumes stringList
	fs.StringVar(&cfg.Hostname, "hostname", "", "hostname `NAME` (default: the container ID)")
	fs.StringVar(&cfg.CPUs, "cpus", "", "`N` CPUs, decimal (default: 20% of the host's CPUs)")
	fs.StringVar(&cfg.Memory, "memory", "", "memory limit `SIZE`, bytes or with k/m/g suffix (default 2g)")
	fs.StringVar(&cfg.Pids, "pids", "", "most `N` processes in the container (default 1024)")
	fs.StringVar(&cfg.Net, "net", "veth", "network: `veth|pasta|none`")
	fs.Var(&publish, "publish", "publish `[hostIP:]hostPort:containerPort[/tcp|/udp]`, repeatable")
	fs.Var(&publish, "p", "short for -publish")
	fs.Var(&dns, "dns", "nameserver `IP` for the container's /etc/resolv.conf, repeatable (default: the host's)")
	fs.Var(&env, "e", "set `KEY=VALUE` in the command's environment, repeatable")
	fs.StringVar(&cfg.Dir, "w", "", "working `DIR` inside the container (absolute)")
	fs.StringVar(&cfg.CIDFile, "cidfile", "", "write the container ID to `FILE` once it exists (as docker run --cidfile)")
	fs.BoolVar(&cfg.Init, "init", false, "run a minimal init as PID 1 in front of the command")
	fs.Var(&capAdd, "cap-add", "give the container capability `CAP` (NET_ADMIN, ..., or ALL), repeatable")
	fs.Var(&capDrop, "cap-drop", "take capability `CAP` away (or ALL), repeatable")
	fs.BoolVar(&cfg.Privileged, "privileged", false, "every capability, no seccomp filter, no device rules: root on the host")
	fs.StringVar(&cfg.UserNS, "userns", "", "`host`: no user namespace, root inside is root on the host (default: a user namespace of its own)")
	fs.Var(&volumes, "v", "bind-mount host directory `HOST:CONTAINER[:ro]` into the container, repeatable")
	fs.StringVar(&cfg.Store, "store", "", "the image store `DIR` (default /var/lib/scratchcontainer)")
	fs.IntVar(&cfg.Chapters, "chapter", chapters, fmt.Sprintf("run chapters 1..`N` only (1-%d)", chapters))
	fs.BoolVar(&cfg.Trace, "trace", false, "narrate every step on stderr: its chapter, the call, its time")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stderr, usage, "run flags (before <rootfs>):\n")
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return cfg, err
		}
		return cfg, usageError("run: %v", err)
	}
	cfg.Env, cfg.Publish, cfg.DNS, cfg.CapAdd, cfg.CapDrop, cfg.Volumes = env, publish, dns, capAdd, capDrop, volumes

	switch {
	case fs.NArg() < 1:
		return cfg, usageError("run: missing <rootfs> and <command>")
	case cfg.Chapters < 1 || cfg.Chapters > chapters:
		return cfg, usageError("run: -chapter %d: there are chapters 1 to %d", cfg.Chapters, chapters)
	case cfg.Dir != "" && !filepath.IsAbs(cfg.Dir):
		return cfg, usageError("run: -w %s: the working directory must be absolute, e.g. /%s", cfg.Dir, cfg.Dir)
	case cfg.Net != "veth" && cfg.Net != "none" && cfg.Net != "pasta":
		return cfg, usageError("run: -net %s: use veth, pasta or none", cfg.Net)
	case cfg.UserNS != "" && cfg.UserNS != "host":
		return cfg, usageError("run: -userns %s: the only value is host (no user namespace); leave it out for one of the container's own", cfg.UserNS)
	}
	if err := flagsOff(fs, course, cfg.Chapters); err != nil {
		return cfg, err
	}
	if os.Geteuid() != 0 && !given(fs, "net") {
		cfg.Net = "" // without root the default is not veth: chapter 06 picks it
	}
	for _, kv := range cfg.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, usageError("run: -e %s: write KEY=VALUE", kv)
		}
	}
	rootfs, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return cfg, err
	}
	cfg.Rootfs, cfg.Args = rootfs, fs.Args()[1:]
	// Not a path, and nothing of that name here: it may name an image
	// (busybox, 127.0.0.1:5000/test/busybox:1), for a chapter that knows
	// images to resolve (see container.Chapter.Resolve).
	if _, err := os.Lstat(fs.Arg(0)); err != nil && !strings.HasPrefix(fs.Arg(0), "/") && !strings.HasPrefix(fs.Arg(0), ".") {
		cfg.Image = fs.Arg(0)
	}
	return cfg, nil
}

// given reports whether flag name was on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// flagsOff refuses a flag that was set although its chapter is off: it
// would be silently ignored (-chapter 6 -p 8080:80 would publish nothing).
func flagsOff(fs *flag.FlagSet, course []container.Chapter, on int) error {
	var err error
	fs.Visit(func(f *flag.Flag) { // only the flags given
		for i := on; i < len(course) && err == nil; i++ {
			if slices.Contains(course[i].Flags, f.Name) {
				err = container.Errorf(container.StatusRuntimeFailed,
					"run: -%s needs chapter %02d-%s, but -chapter %d turns it off", f.Name, i+1, course[i].Name, on)
			}
		}
	})
	return err
}

// parsePs reads `ps`'s one flag: -format table (the default) or json.
func parsePs(args []string) (format string, err error) {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&format, "format", "table", "`FORMAT`: table, or json (the saved records of the running containers, for scripts)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return "", err
		}
		return "", usageError("ps: %v", err)
	}
	switch {
	case fs.NArg() > 0:
		return "", usageError("ps takes no arguments, got %q", fs.Arg(0))
	case format != "table" && format != "json":
		return "", usageError("ps -format %q: use table or json", format)
	}
	return format, nil
}

// running lists the containers whose runtime is alive and whose command
// runs.
func running() ([]*container.Container, error) {
	all, err := container.List()
	if err != nil {
		return nil, err
	}
	var live []*container.Container
	for _, c := range all {
		if c.Running && !c.Orphaned() {
			live = append(live, c)
		}
	}
	return live, nil
}

// ps prints one line per running container.
func ps(out io.Writer) error {
	live, err := running()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPID\tADDRESS\tPORTS\tAGE\tCOMMAND")
	for _, c := range live {
		age := "-"
		if fi, err := os.Stat(c.StateDir()); err == nil {
			age = time.Since(fi.ModTime()).Round(time.Second).String()
		}
		addr := c.Resources["address"]
		if addr == "" {
			addr = "-"
		}
		ports := strings.Join(c.Config.Publish, ",")
		if ports == "" {
			ports = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, strconv.Itoa(c.Pid), addr, ports, age, strings.Join(c.Config.Args, " "))
	}
	return w.Flush()
}

// psJSON prints the saved records of the running containers as a JSON
// array, one record a line, so that scripts ask the runtime for the names
// of what it made (Resources: "cgroup", "address", ...) instead of
// rebuilding them, with jq or with grep alone.
func psJSON(out io.Writer) error {
	live, err := running()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("[")
	for i, c := range live {
		record, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n")
		b.Write(record)
	}
	b.WriteString("\n]\n")
	_, err = io.WriteString(out, b.String())
	return err
}
