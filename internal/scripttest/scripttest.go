// Package scripttest is the test harness every chapter shares. It runs the
// testscript suites under testdata/ with the command `scratchcontainer`
// bound to chapters 1..N, gives each script a fresh busybox rootfs in
// $ROOTFS, and adds the commands the scripts need to look at a container
// from the host.
//
// A chapter's test is two functions:
//
//	func TestMain(m *testing.M) { scripttest.Main(m, chapters.Upto(1)) }
//	func TestScripts(t *testing.T) { scripttest.Run(t, "01-uts") }
package scripttest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	cgroups "scratchcontainer/chapters/05-cgroups"
	veth "scratchcontainer/chapters/06-veth"
	publish "scratchcontainer/chapters/07-publish"
	images "scratchcontainer/chapters/10-images"
	"scratchcontainer/internal/rootfs"
	"scratchcontainer/internal/testregistry"
	"scratchcontainer/runtime/cli"
	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// patience is how long a script command waits for a container or a port:
// long, as a start can take seconds on a busy host; in the test VM (make
// vm-test), under software emulation, where twenty containers at once queue
// for iptables whose every call takes the better part of a second, longer
// still. A passing script never waits that long, and a failing one stops
// waiting as soon as nothing is left that could start it (see starting).
func patience() time.Duration {
	if os.Getenv("SCRATCH_VM") != "" {
		return 3 * time.Minute
	}
	return 30 * time.Second
}

// Main makes the test binary double as `scratchcontainer` running the
// chapters of course. The runtime re-executes itself for the child with
// Args[0] kept, so the child lands here too, not in the test runner.
func Main(m *testing.M, course []container.Chapter) {
	// A test binary started in the background by a shell (the test VM runs
	// them so) inherits SIGINT ignored, and so would every program a script
	// starts; but testscript stops a script's background commands with
	// SIGINT, and would wait for them. Handling SIGINT here, and dropping
	// it as the ignore did, gives them the default back: execve resets
	// every handled signal.
	if signal.Ignored(os.Interrupt) {
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	}
	testscript.Main(m, map[string]func(){
		"scratchcontainer": func() { os.Exit(cli.Main(os.Args, withoutCloneFlags(course))) },
		"incgroup":         inCgroup,
		"withtun":          withTun,
	})
}

// WithoutCloneFlagsEnv names a chapter ("uts") whose CloneFlags the test
// binary's runtime drops: the state of a workshop exercise whose hooks are
// written but whose flags are not. Scripts use it to prove the skeleton's
// guard stops such a run before it changes the host.
const WithoutCloneFlagsEnv = "SCRATCH_WITHOUT_CLONEFLAGS"

func withoutCloneFlags(course []container.Chapter) []container.Chapter {
	name := os.Getenv(WithoutCloneFlagsEnv)
	if name == "" {
		return course
	}
	changed := append([]container.Chapter(nil), course...)
	for i := range changed {
		if changed[i].Name == name {
			changed[i].CloneFlags = 0
		}
	}
	return changed
}

// Run runs the scripts of each suite, testdata/<suite>/*.txtar, as a subtest.
func Run(t *testing.T, suites ...string) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// One rootfs template per test binary; each script gets a copy.
	template := filepath.Join(t.TempDir(), "rootfs")
	if err := rootfs.BuildBusybox(template); err != nil {
		t.Fatal(err)
	}
	if err := helpers(root, template); err != nil {
		t.Fatal(err)
	}
	for _, suite := range suites {
		t.Run(suite, func(t *testing.T) {
			t.Cleanup(func() { // after the scripts, which run in parallel
				lesson := filepath.Join("chapters", suite, "README.md")
				if _, err := os.Stat(filepath.Join(root, lesson)); err == nil && t.Failed() {
					t.Logf("stuck? read %s: the sections Exercise, Hints and What the tests check", lesson)
				}
			})
			testscript.Run(t, testscript.Params{
				Dir:                 filepath.Join(root, "testdata", suite),
				Setup:               setup(template),
				Condition:           condition,
				Cmds:                Commands(),
				RequireExplicitExec: true,
				RequireUniqueNames:  true,
			})
		})
	}
}

// helpers puts the static helper programs of testdata/helpers into the
// rootfs template's /usr/local/bin. They are compiled with go here, unless
// $SCRATCH_HELPERS names a directory of prebuilt ones: the test VM of
// `make vm-test` has no Go toolchain, so vagrant/vm-test.sh builds them on
// the host and ships them in.
func helpers(root, template string) error {
	if prebuilt := os.Getenv("SCRATCH_HELPERS"); prebuilt != "" {
		return rootfs.Copy(prebuilt, filepath.Join(template, "usr", "local", "bin"))
	}
	return rootfs.BuildHelpers(filepath.Join(root, "testdata", "helpers"), template)
}

// setup gives each script its own rootfs in $ROOTFS and a name no other
// script uses in $NAME, for -hostname, so `container $NAME` finds it.
func setup(template string) func(*testscript.Env) error {
	return func(env *testscript.Env) error {
		dir := filepath.Join(env.WorkDir, "rootfs")
		if err := rootfs.Copy(template, dir); err != nil {
			return err
		}
		// The container's root in a user namespace (chapter 09) is an
		// ordinary user on the host: it must be able to search the
		// directories above its rootfs, which go test makes 0700.
		for d := env.WorkDir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
					return err
				}
			}
		}
		b := make([]byte, 4)
		rand.Read(b)
		name := "t" + hex.EncodeToString(b)
		env.Setenv("ROOTFS", dir)
		env.Setenv("NAME", name)
		// A container made by `create` (chapter 11) outlives its
		// runtime by design: a script that fails before its `delete`
		// would leave it parked or running. Its ID is $NAME: delete it,
		// whatever the script did (testscript's Defer runs either way).
		env.Defer(func() {
			if _, err := os.Stat(filepath.Join(container.StateRoot, name)); err != nil {
				return
			}
			cmd := exec.Command("sh", "-c", `scratchcontainer delete --force "$0"`, name)
			cmd.Env = env.Vars
			cmd.Run()
		})
		return nil
	}
}

// condition answers [root], [vm], [cgroup1], [cgroup2], [blockdev],
// [pagecache] (scripts' files live on a disk, whose page cache the kernel
// can reclaim: not on the test VM's in-memory root) and [exists:PATH] (PATH
// exists on the host: a check of what the host has is skipped where it
// lacks it, as /proc/acpi on arm64).
func condition(cond string) (bool, error) {
	if path, ok := strings.CutPrefix(cond, "exists:"); ok {
		_, err := os.Stat(path)
		return err == nil, nil
	}
	switch cond {
	case "blockdev": // root on this host may open its root disk (some sandboxes forbid it)
		return canOpenRootDisk(), nil
	case "root":
		return os.Geteuid() == 0, nil
	case "pagecache":
		var st unix.Statfs_t
		if err := unix.Statfs(os.TempDir(), &st); err != nil {
			return false, err
		}
		return st.Type != unix.TMPFS_MAGIC && st.Type != unix.RAMFS_MAGIC, nil
	case "vm": // the test VM of make vm-test (vagrant/vm-init.sh sets it)
		return os.Getenv("SCRATCH_VM") != "", nil
	case "cgroup2": // unified only
		return host.DetectCgroupMode() == host.CgroupV2, nil
	case "cgroup1": // v1 or hybrid: controllers have hierarchies of their own
		mode := host.DetectCgroupMode()
		return mode == host.CgroupV1 || mode == host.CgroupHybrid, nil
	}
	return false, fmt.Errorf("unknown condition %q: use root, vm, cgroup1, cgroup2, blockdev, pagecache or exists:PATH", cond)
}

// canOpenRootDisk makes a node for the block device / lives on and opens
// it for reading, as chapter 08's attack helper does in a container.
func canOpenRootDisk() bool {
	var st unix.Stat_t
	if os.Geteuid() != 0 || unix.Stat("/", &st) != nil || unix.Major(st.Dev) == 0 {
		return false
	}
	node := filepath.Join(os.TempDir(), "scratchcontainer-blockdev-probe")
	os.Remove(node)
	if unix.Mknod(node, unix.S_IFBLK|0o600, int(st.Dev)) != nil {
		return false
	}
	defer os.Remove(node)
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// Commands are the script commands that look at containers from the host.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exits":        cmdExits,
		"container":    cmdContainer,
		"stopped":      cmdStopped,
		"samens":       cmdSamens,
		"children":     cmdChildren,
		"waitport":     cmdWaitport,
		"httpget":      cmdHTTPGet,
		"nothingleft":  cmdNothingLeft,
		"outside":      cmdOutside,
		"freeport":     cmdFreeport,
		"registry":     cmdRegistry,
		"gone":         cmdGone,
		"waitchild":    cmdWaitchild,
		"unprivileged": cmdUnprivileged,
		"delegate":     cmdDelegate,
		"mkcgroup":     cmdMkcgroup,
	}
}

// mkcgroup DIR: make the cgroup directory DIR, as a caller of the runtime
// would before it (a parent for a container's cgroup), and remove it when
// the script ends, failed or not: a cgroup the test made must not outlive
// it on the host.
func cmdMkcgroup(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || !strings.HasPrefix(args[0], cgroups.Root+"/") {
		ts.Fatalf("usage: mkcgroup %s/...", cgroups.Root)
	}
	ts.Check(os.Mkdir(args[0], 0o755))
	ts.Defer(func() { removeTree(args[0]) })
}

// exits STATUS COMMAND [ARGS...]: run the command (as exec does) and fail
// unless it exits with STATUS. Its stdout and stderr are kept for the
// stdout and stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS COMMAND [ARGS...]")
	}
	var want int
	if _, err := fmt.Sscan(args[0], &want); err != nil {
		ts.Fatalf("exits: status %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exitErr.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// unprivileged [subuid]: make this script an ordinary user to run
// containers as: a uid that /etc/passwd does not name (no user is added),
// in $USERID and $GROUPID; a runtime directory and a home of its own,
// $XDG_RUNTIME_DIR and $HOME, under $WORK; and $ROOTFS made its own, as a
// rootfs the user built would be. The script runs the runtime as that user
// with setpriv(1): setpriv --reuid=$USERID --regid=$GROUPID --clear-groups.
//
// With subuid, the user is a real one, as newuidmap(1) wants (it looks the
// caller up in /etc/passwd): useradd adds it, and a range of 65536 for it
// to /etc/subuid and /etc/subgid, in $SUBID; when the script ends, userdel
// removes it and the two lines go.
func cmdUnprivileged(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 || len(args) == 1 && args[0] != "subuid" {
		ts.Fatalf("usage: unprivileged [subuid]")
	}
	uid := FirstUnnamedUID()
	gid := uid
	if len(args) == 1 {
		uid, gid = addUser(ts)
	}
	dir := ts.MkAbs("user")
	for _, d := range []string{dir, filepath.Join(dir, "run"), filepath.Join(dir, "home")} {
		ts.Check(os.MkdirAll(d, 0o700))
		ts.Check(os.Chown(d, uid, gid))
	}
	ts.Check(filepath.Walk(ts.Getenv("ROOTFS"), func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	}))
	// The user runs the test binary as the runtime: testscript copied it
	// into a directory of its own, 0700, like go test's.
	bin, err := exec.LookPath("scratchcontainer")
	ts.Check(err)
	for d := filepath.Dir(bin); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			ts.Check(os.Chmod(d, fi.Mode().Perm()|0o011))
		}
	}
	ts.Setenv("USERID", fmt.Sprint(uid))
	ts.Setenv("GROUPID", fmt.Sprint(gid))
	ts.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	ts.Setenv("HOME", filepath.Join(dir, "home"))
}

// addUser adds the user sc-$NAME (useradd --system: no home, no login)
// and its subordinate range, 65536 IDs from $SUBID, and removes them all
// when the script ends.
func addUser(ts *testscript.TestScript) (uid, gid int) {
	name := "sc-" + ts.Getenv("NAME")
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		ts.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	ts.Defer(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	ts.Check(err)
	fmt.Sscan(u.Uid, &uid)
	fmt.Sscan(u.Gid, &gid)
	first := 1_000_000 + 65536*(uid%1000) // far above useradd's own ranges
	line := fmt.Sprintf("%s:%d:65536\n", name, first)
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		_, err := os.Stat(file)
		existed := err == nil
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		ts.Check(err)
		_, err = f.WriteString(line)
		f.Close()
		ts.Check(err)
		ts.Defer(func() {
			b, err := os.ReadFile(file)
			if err != nil {
				return
			}
			rest := strings.Replace(string(b), line, "", 1)
			if rest == "" && !existed {
				os.Remove(file)
				return
			}
			os.WriteFile(file, []byte(rest), 0o644)
		})
	}
	ts.Setenv("SUBID", fmt.Sprint(first))
	return uid, gid
}

// delegate: give the script's ordinary user (unprivileged) a cgroup v2
// subtree of its own, as systemd delegates user@UID.service: $DELEGATED, a
// directory under the cgroup root that the user owns with its
// cgroup.procs, cgroup.subtree_control and cgroup.threads, the controllers
// cpu, memory and pids enabled down to it; and in it the leaf
// $USERCGROUP, the user's own, where its processes live (`incgroup
// $USERCGROUP COMMAND` starts one there). When the script ends, whatever
// is left in the subtree is killed and its directories removed.
func cmdDelegate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: delegate")
	}
	var uid, gid int
	if _, err := fmt.Sscan(ts.Getenv("USERID")+" "+ts.Getenv("GROUPID"), &uid, &gid); err != nil {
		ts.Fatalf("delegate: no $USERID: run unprivileged first")
	}
	if host.DetectCgroupMode() != host.CgroupV2 {
		ts.Fatalf("delegate: cgroup v1 delegates nothing: use [cgroup2]")
	}
	top := filepath.Join(cgroups.Root, "sc-"+ts.Getenv("NAME")+".delegated")
	leaf := filepath.Join(top, "user")
	ts.Check(os.WriteFile(filepath.Join(cgroups.Root, "cgroup.subtree_control"), []byte("+cpu +memory +pids"), 0o644))
	ts.Check(os.Mkdir(top, 0o755))
	ts.Defer(func() { removeTree(top) })
	ts.Check(os.Mkdir(leaf, 0o755))
	for _, dir := range []string{top, leaf} {
		for _, file := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			ts.Check(os.Chown(filepath.Join(dir, file), uid, gid))
		}
	}
	ts.Setenv("DELEGATED", top)
	ts.Setenv("USERCGROUP", leaf)
}

// removeTree kills the processes of every cgroup under dir and removes the
// directories, deepest first.
func removeTree(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeTree(filepath.Join(dir, e.Name()))
		}
	}
	for try := 0; try < 100; try++ {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			var pid int
			fmt.Sscan(f, &pid)
			unix.Kill(pid, unix.SIGKILL)
		}
		if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inCgroup is the program `incgroup DIR COMMAND [ARGS...]`: it moves itself
// into the cgroup v2 directory DIR and executes COMMAND there, so that
// COMMAND, and all it starts, lives in DIR, as a user's shell lives in its
// session's cgroup.
func inCgroup() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: incgroup DIR COMMAND [ARGS...]")
		os.Exit(2)
	}
	procs := filepath.Join(os.Args[1], "cgroup.procs")
	if err := os.WriteFile(procs, []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "incgroup: %v\n", err)
		os.Exit(1)
	}
	path, err := exec.LookPath(os.Args[2])
	if err == nil {
		err = unix.Exec(path, os.Args[2:], os.Environ())
	}
	fmt.Fprintf(os.Stderr, "incgroup: %s: %v\n", os.Args[2], err)
	os.Exit(127)
}

// withTun is the program `withtun COMMAND [ARGS...]`: it executes COMMAND
// where an ordinary user may open /dev/net/tun, as on a Debian host, whose
// udev makes it 0666 (pasta, -net pasta, needs it). A host that keeps it
// root's (0600; some sandboxes do) is not changed: COMMAND runs in a mount
// namespace of its own, with a 0666 node of the same device mounted over
// the host's, and the namespace goes when COMMAND and its children exit.
func withTun() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: withtun COMMAND [ARGS...]")
		os.Exit(2)
	}
	const tun = "/dev/net/tun"
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "withtun: %v\n", err)
		os.Exit(1)
	}
	var st unix.Stat_t
	if err := unix.Stat(tun, &st); err != nil {
		fail(err)
	}
	if st.Mode&0o666 != 0o666 {
		runtime.LockOSThread() // the mount namespace is this thread's, which execs
		node := filepath.Join(os.TempDir(), fmt.Sprintf("scratchcontainer-tun-%d", os.Getpid()))
		steps := []func() error{
			func() error { return unix.Unshare(unix.CLONE_NEWNS) },
			func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") },
			func() error { return unix.Mknod(node, unix.S_IFCHR|0o666, int(st.Rdev)) },
			func() error { return unix.Chmod(node, 0o666) }, // past the umask
			func() error { return unix.Mount(node, tun, "", unix.MS_BIND, "") },
			func() error { return unix.Unlink(node) }, // the mount holds it
		}
		for _, step := range steps {
			if err := step(); err != nil {
				unix.Unlink(node)
				fail(err)
			}
		}
	}
	path, err := exec.LookPath(os.Args[1])
	if err == nil {
		err = unix.Exec(path, os.Args[1:], os.Environ())
	}
	fail(fmt.Errorf("%s: %w", os.Args[1], err))
}

// FirstUnnamedUID is the first uid from 4242 on that /etc/passwd (or any
// name service) does not name: an ordinary user that owns nothing on the
// host.
func FirstUnnamedUID() int {
	uid := 4242
	for ; ; uid++ {
		if _, err := user.LookupId(fmt.Sprint(uid)); err != nil {
			return uid
		}
	}
}

// stateRoots are where the script's containers keep their state: the
// host's root's, and, once the script is an ordinary user (unprivileged),
// that user's.
func stateRoots(ts *testscript.TestScript) []string {
	roots := []string{container.StateRoot}
	if dir := ts.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		roots = append(roots, filepath.Join(dir, "scratchcontainer"))
	}
	return roots
}

// listAll lists the containers of every state root of the script.
func listAll(ts *testscript.TestScript) []*container.Container {
	var all []*container.Container
	for _, root := range stateRoots(ts) {
		some, err := container.ListIn(root)
		ts.Check(err)
		all = append(all, some...)
	}
	return all
}

// container NAME: wait until a container with hostname NAME runs, then set
// $ID to its ID, $PID to the host PID of its PID 1, $RUNTIME_PID to the
// host PID of its runtime, $ADDRESS to its IP address (if it has one) and
// $VETH to the name of the host's end of its veth pair.
func cmdContainer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: container NAME")
	}
	for deadline := time.Now().Add(patience()); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		all := listAll(ts)
		if !starting(ts, args[0]) {
			ts.Fatalf("no container with hostname %s: the background command that starts it has exited (its output is below)", args[0])
		}
		for _, c := range all {
			if c.Running && c.Hostname() == args[0] {
				ts.Setenv("ID", c.ID)
				ts.Setenv("PID", fmt.Sprint(c.Pid))
				ts.Setenv("RUNTIME_PID", fmt.Sprint(c.RuntimePid))
				ts.Setenv("ADDRESS", strings.Split(c.Resources["address"], "/")[0])
				ts.Setenv("VETH", veth.HostLink(c.ID))
				return
			}
		}
	}
	ts.Fatalf("no container with hostname %s started within %v", args[0], patience())
}

// stopped NAME: wait until the container with hostname NAME has reached its
// crash point (SCRATCHCONTAINER_CRASH_AT), then set $ID, $RUNTIME_PID, and
// $PID to the runtime's child, if it has one yet.
func cmdStopped(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stopped NAME")
	}
	for deadline := time.Now().Add(patience()); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		all, err := container.List()
		ts.Check(err)
		if !starting(ts, args[0]) {
			ts.Fatalf("no runtime of a container with hostname %s stopped: the background command that starts it has exited (its output is below)", args[0])
		}
		for _, c := range all {
			if _, err := os.Stat(filepath.Join(c.StateDir(), container.CrashedAt)); c.Hostname() != args[0] || err != nil {
				continue
			}
			ts.Setenv("ID", c.ID)
			ts.Setenv("RUNTIME_PID", fmt.Sprint(c.RuntimePid))
			ts.Setenv("PID", "")
			if kids := children(ts, fmt.Sprint(c.RuntimePid)); len(kids) > 0 {
				ts.Setenv("PID", strings.Fields(kids[0])[0])
			}
			return
		}
	}
	ts.Fatalf("no container with hostname %s reached its crash point within %v", args[0], patience())
}

// starting reports whether a background command of the script that could
// still start what it waits for runs: one whose command line names name,
// else any. The kernel answers without reaping (waitid with WNOWAIT: the
// zombie is testscript's to wait for). With no background command at all,
// something else may start it: the caller waits its patience out.
func starting(ts *testscript.TestScript, name string) bool {
	cmds := ts.BackgroundCmds()
	if len(cmds) == 0 {
		return true
	}
	var named []*exec.Cmd
	for _, cmd := range cmds {
		for _, arg := range cmd.Args {
			if name != "" && slices.Contains(strings.Fields(arg), name) {
				named = append(named, cmd)
				break
			}
		}
	}
	if len(named) > 0 {
		cmds = named
	}
	for _, cmd := range cmds {
		var info unix.Siginfo // Signo stays 0 while the process runs
		err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == nil && info.Signo == 0 {
			return true
		}
		// ECHILD: exited, and already reaped by testscript.
	}
	return false
}

// samens KIND PID: process PID is in the host's (this test's) KIND
// namespace. With !, it is in another one.
func cmdSamens(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: [!] samens uts|pid|mnt|net|ipc|cgroup PID")
	}
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%s/ns/%s", args[1], args[0]))
	ts.Check(err)
	ours, err := os.Readlink("/proc/self/ns/" + args[0])
	ts.Check(err)
	ts.Logf("host %s, PID %s %s", ours, args[1], theirs)
	if same := theirs == ours; same == neg {
		ts.Fatalf("PID %s in %s, host in %s", args[1], theirs, ours)
	}
}

// children PID: print a line "PID STATE NAME" for each child of process PID,
// as the host sees them (state Z: a zombie nobody reaped).
func cmdChildren(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: children PID")
	}
	for _, child := range children(ts, args[0]) {
		fmt.Fprintln(ts.Stdout(), child)
	}
}

// children lists the children of process pid as "PID STATE NAME".
func children(ts *testscript.TestScript, pid string) []string {
	// Each thread has its own list: a Go parent forks from any of its threads.
	lists, err := filepath.Glob(fmt.Sprintf("/proc/%s/task/*/children", pid))
	ts.Check(err)
	var all, out []string
	for _, list := range lists {
		b, err := os.ReadFile(list)
		if err != nil {
			continue // the thread or the process exited meanwhile
		}
		all = append(all, strings.Fields(string(b))...)
	}
	for _, child := range all {
		stat, err := os.ReadFile("/proc/" + child + "/stat")
		if err != nil {
			continue // exited and reaped meanwhile
		}
		// "pid (comm) state ...": comm may hold spaces, so cut at the last ')'.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		out = append(out, fmt.Sprintf("%s %s %s", child, strings.Fields(s[end+1:])[0], s[open+1:end]))
	}
	return out
}

// gone PID: process PID is gone (or a zombie: dead, not yet reaped) within
// a second. A container must die with its runtime, at once, without gc.
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gone PID")
	}
	state := ""
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if state = procState(args[0]); state == "" || state == "Z" {
			return
		}
	}
	ts.Fatalf("process %s still runs (state %s) a second later", args[0], state)
}

// waitchild PID NAME STATE: wait until process PID has a child called NAME
// in STATE (S, R, Z, ...), or, with STATE "gone", until it has none.
func cmdWaitchild(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitchild PID NAME STATE|gone")
	}
	pid, name, want := args[0], args[1], args[2]
	var seen []string
	for deadline := time.Now().Add(patience()); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		seen = children(ts, pid)
		found := false
		for _, child := range seen {
			f := strings.Fields(child) // PID STATE NAME
			if f[2] == name {
				found = true
				if f[1] == want {
					return
				}
			}
		}
		if want == "gone" && !found {
			return
		}
	}
	ts.Fatalf("no child %s of %s in state %s within %v; children: %q", name, pid, want, patience(), seen)
}

// procState is the state letter of process pid (R, S, Z, ...), or "" if
// there is no such process.
func procState(pid string) string {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return ""
	}
	s := string(stat)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// waitport ADDR:PORT: wait until a TCP server answers there (10s at most).
func cmdWaitport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport ADDR:PORT")
	}
	var err error
	for deadline := time.Now().Add(patience()); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !starting(ts, "") {
			ts.Fatalf("nothing answers on %s, and every background command has exited (their output is below)", args[0])
		}
		var conn net.Conn
		if conn, err = net.DialTimeout("tcp", args[0], time.Second); err == nil {
			conn.Close()
			return
		}
	}
	ts.Fatalf("nothing answers on %s: %v", args[0], err)
}

// httpget URL: print the body of a GET. With !, the GET must fail.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] httpget URL")
	}
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(args[0])
	if err == nil {
		defer resp.Body.Close()
		_, err = io.Copy(ts.Stdout(), resp.Body)
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("GET %s answered, and should not", args[0])
	case !neg && err != nil:
		ts.Fatalf("GET %s: %v", args[0], err)
	}
}

// nothingleft ID | @FILE: nothing on the host names container ID any more
// (or any of the IDs listed in FILE): no state directory, cgroup, veth,
// iptables rule, mount or process.
func cmdNothingLeft(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nothingleft ID|@FILE")
	}
	ids := []string{args[0]}
	if file, ok := strings.CutPrefix(args[0], "@"); ok {
		ids = strings.Fields(ts.ReadFile(file))
		if len(ids) == 0 {
			ts.Fatalf("nothingleft: no IDs in %s", file)
		}
	}
	for _, id := range ids {
		if len(id) < 8 || strings.ContainsAny(id, "/ \t") { // an OCI caller's ID may be any name
			ts.Fatalf("nothingleft: %q is not a container ID (12 hex characters, or the ID given to create)", id)
		}
		nothingLeft(ts, id)
	}
}

func nothingLeft(ts *testscript.TestScript, id string) {
	var left []string
	for _, root := range stateRoots(ts) {
		if _, err := os.Stat(filepath.Join(root, id)); err == nil {
			left = append(left, "state directory "+filepath.Join(root, id))
		}
	}
	// The names come from the chapters that make them: one place each.
	d, err := cgroups.Detect()
	if err != nil {
		ts.Fatalf("nothingleft: cannot look for cgroups: %v", err)
	}
	path := cgroups.Path(&container.Container{ID: id}) // scratchcontainer/<id>: a script checks a cgroupsPath of its own itself
	dirs := d.Dirs(path)
	if delegated := ts.Getenv("DELEGATED"); delegated != "" { // the user's subtree (delegate)
		dirs = append(dirs, cgroups.V2{Root: delegated}.Dirs(path)...)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err == nil {
			left = append(left, dir)
		}
	}
	// The kernel removes a veth pair with the container's network
	// namespace, a few milliseconds after the runtime returns.
	link := veth.HostLink(id)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := net.InterfaceByName(link); err != nil {
			link = ""
			break
		}
	}
	if link != "" {
		left = append(left, "link "+link+" (5s after exit)")
	}
	// Not being able to look is a failure, not a pass.
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		ts.Fatalf("nothingleft: cannot list the iptables rules: iptables-save: %v (make deps installs iptables)", err)
	}
	if strings.Contains(string(out), publish.Comment(id)) {
		left = append(left, "iptables rules with comment "+publish.Comment(id))
	}
	// A container's writable layer, in the default store (a script with
	// -store of its own checks that one itself).
	stores := []string{images.DefaultStore}
	if ts.Getenv("XDG_RUNTIME_DIR") != "" { // an unprivileged user's: ~/.local/share/scratchcontainer
		stores = append(stores, filepath.Join(ts.Getenv("HOME"), ".local", "share", "scratchcontainer"))
	}
	for _, store := range stores {
		if _, err := os.Stat(images.LayerDir(store, id)); err == nil {
			left = append(left, "writable layer "+images.LayerDir(store, id))
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), id) {
		left = append(left, "a mount naming "+id)
	}
	// A helper the runtime started (pasta, -net pasta) names the
	// container's state directory on its command line.
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, file := range cmdlines {
		if b, err := os.ReadFile(file); err == nil && strings.Contains(string(b), id) {
			left = append(left, "process "+filepath.Base(filepath.Dir(file))+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if len(left) > 0 {
		ts.Fatalf("container %s left: %s", id, strings.Join(left, ", "))
	}
}

// registry VAR: serve chapter 10's test images (internal/testregistry),
// built from $ROOTFS, on 127.0.0.1 until the script ends, and set VAR to the
// address (127.0.0.1:PORT). test/evil:1 aims at $WORK/outside, made empty
// here, for the script to check it stays so.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: registry VAR")
	}
	outside := ts.MkAbs("outside")
	ts.Check(os.MkdirAll(outside, 0o755))
	addr, stop, err := testregistry.Serve("127.0.0.1:0", ts.Getenv("ROOTFS"), outside)
	if err != nil {
		ts.Fatalf("registry: %v", err)
	}
	ts.Defer(stop)
	ts.Setenv(args[0], addr)
}

// moduleRoot is the directory holding go.mod, found upwards from here.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
