// Package container is the skeleton every chapter plugs into: what a
// container is (Config, Container), how a chapter adds a capability to it
// (Chapter), and the lifecycle that runs the chapters in order (Run, Child).
//
// The skeleton knows nothing about namespaces, mounts, cgroups or networks:
// each of those is a chapter under chapters/, and this package never
// imports one.
package container

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Config is what the user asked for on the command line.
type Config struct {
	Rootfs   string   // directory that becomes the container's /
	Image    string   // the <rootfs> argument as given, when it may name an image rather than a directory
	Args     []string // the command and its arguments
	Hostname string   // empty: the container ID
	Env      []string // KEY=VALUE, added to the defaults
	Dir      string   // working directory inside the container; empty: /
	CPUs     string   // -cpus as given; empty: the default
	Memory   string   // -memory as given; empty: the default
	Pids     string   // -pids as given; empty: the default
	Net      string   // "veth", "pasta" or "none"
	Publish  []string // -publish specs as given: [hostIP:]hostPort:containerPort[/proto]
	DNS      []string // -dns nameservers as given; empty: the host's
	Init     bool     // run a minimal init as PID 1 in front of the command
	Chapters int      // run chapters 1..Chapters only
	CIDFile  string   // -cidfile: write the container ID there once it exists
	Trace    bool     // narrate each step on stderr (see Trace)

	CapAdd     []string // -cap-add names as given (NET_ADMIN, CAP_NET_ADMIN, ALL)
	CapDrop    []string // -cap-drop names as given
	Privileged bool     // every capability, no seccomp filter, no device rules

	UserNS string // -userns: "" for a user namespace of its own, "host" for none

	Volumes []string // -v HOST:CONTAINER[:ro] as given
	Store   string   // -store: the image store's directory; empty: the default
	// What `create` read from an OCI bundle's config.json (chapter 11)
	// beyond the fields above. A Config with a Bundle is created, not run:
	// Run parks the child before its command, returns, and leaves the rest
	// to `start`, `kill` and `delete` (see Created).
	ID            string            // the caller's container ID; empty: a new one
	Root          string            // --root: the state directory; empty: StateRoot
	Bundle        string            // the bundle directory (absolute)
	PidFile       string            // --pid-file: the container's PID is written there
	Annotations   map[string]string // config.json's annotations, for `state`
	Mounts        []Mount           // config.json's mounts the chapters do not make themselves
	ReadonlyRoot  bool              // root.readonly: the container's / read-only once every mount is made
	Hooks         map[string][]Hook // config.json's hooks, by the moment they run at ("prestart", "poststop", ...)
	Terminal      bool              // process.terminal: the command's stdio is a new terminal, sent to ConsoleSocket
	ConsoleSocket string            // --console-socket: a unix socket the caller (conmon) listens on
	NetNS         string            // a network namespace to join by path, instead of a new one
	MaskedPaths   []string          // masked by chapter 04 beside its own list
	ReadonlyPaths []string          // made read-only by chapter 04 beside its own list
	Sysctl        map[string]string // net.* and IPC sysctls, set in the container's namespaces
	Rlimits       []Rlimit          // setrlimit(2) values for the command
	OOMScoreAdj   *int              // /proc/<pid>/oom_score_adj
	User          *User             // the command's uid and gids; nil: root
	Capabilities  *CapabilitySets   // process.capabilities; nil: the run flags' sets (chapter 08)
	NewPrivileges bool              // process.noNewPrivileges false: no_new_privs stays unset (run always sets it)
	UIDMap        string            // linux.uidMappings as one uid_map line, "0 HOST COUNT"; empty: chapter 09 reads /etc/subuid
	GIDMap        string            // linux.gidMappings, the same for gid_map and /etc/subgid
	CgroupsPath   string            // linux.cgroupsPath: the cgroup below the cgroup root (chapter 05's Path); empty: scratchcontainer/<id>
}

// Mount is one mount(2) into the rootfs, made before pivot_root.
type Mount struct {
	Source, Destination, Type string
	Options                   []string
}

// Hook is a program config.json asks the runtime to run at a moment of the
// container's life, with the container's state as JSON on its stdin.
type Hook struct {
	Path    string   // absolute
	Args    []string // argv, with argv[0]; empty: Path alone
	Env     []string // its whole environment
	Timeout int      // seconds; 0: no limit
}

// Rlimit is one resource limit, by its name in getrlimit(2): RLIMIT_NOFILE.
type Rlimit struct {
	Type       string
	Hard, Soft uint64
}

// CapabilitySets are config.json's five capability sets of the command, by
// name (CAP_CHOWN), as capabilities(7) describes them.
type CapabilitySets struct {
	Bounding, Effective, Permitted, Inheritable, Ambient []string
}

// User is who the command runs as, in numbers: no passwd file is read.
type User struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Umask          *uint32 // umask(2) for the command; nil: the runtime's
}

// Created reports whether the container is made by `create`, the OCI
// runtime command line's first step, rather than by `run`.
func (cfg *Config) Created() bool { return cfg.Bundle != "" }

// Container is one running container: the user's Config plus what the
// runtime made for it. It is saved as JSON in the state directory, so that
// `gc` can release what a dead runtime left behind, and it is the message
// the host sends the child to release it.
type Container struct {
	ID         string
	Config     Config
	RuntimePid int // the `scratchcontainer run` process on the host
	// RuntimeStart is when RuntimePid started (clock ticks after boot,
	// /proc/<pid>/stat field 22): a PID is reused, a start time is not.
	RuntimeStart uint64
	Pid          int // host PID of the container's PID 1; 0 until it exists
	Running      bool
	// Rootless is set when an ordinary user, not root, runs the container:
	// the runtime may then do only what a user may (see Chapter.AttachInside).
	Rootless bool `json:",omitempty"`
	// Started is set by `start`, for a created container (see Config.Created).
	Started bool `json:",omitempty"`
	// Resources records what chapters made on the host, as they make it
	// (e.g. "cgroup", "address"), so a crash loses nothing (see Record);
	// and values the chapters pass on, such as "uid_map" (see Set).
	Resources map[string]string

	// HostFiles are files a chapter wrote into the state directory for
	// the child to mount (see WriteHostFile).
	HostFiles []string `json:",omitempty"`

	// Console is, in the child, its connection to Config.ConsoleSocket,
	// made before pivot_root hides the socket's path (see Child); in
	// `exec --tty`, the connection to exec's --console-socket, made before
	// the Joins enter the container's mount namespace (see Exec).
	Console *os.File `json:"-"`
	// Tty is, in `exec --tty`, the terminal's slave chapter 11's Join made
	// in the container's devpts: the command's stdio and controlling
	// terminal.
	Tty *os.File `json:"-"`

	trace     *tracer
	hostFiles map[string]int // in the child: HostFiles, cloned as mounts
	notes     []string       // see Note
}

// Note keeps one line for stderr that tells the user what this run does
// differently (without root: no limits, no network), said once every
// chapter's Prepare has succeeded: a run refused later says only why.
func (c *Container) Note(line string) { c.notes = append(c.notes, line) }

// A Chapter adds one capability to a container. Each hook is optional and
// runs at one moment of the lifecycle:
//
//	host:  Prepare ─ Clone ─ clone(CloneFlags) ─ after ─ Attach ─ release child ─ wait ─ Exited ─ Release
//	child:                                        (AttachInside) ─ Enter ─ exec(command)
//	exec:  Join ─ fork+exec(command)        (scratchcontainer exec, into a running one)
//	create: Prepare ─ clone ─ Attach ─ release child ─ (child: Enter ─ wait at the gate) ─ Parked
//	start:  open the gate ─ (child: Starting ─ exec(command)) ─ Started
//	delete: Release ─ Deleted
type Chapter struct {
	Name       string  // the package's name: "uts", "pid", ...
	Capability string  // one line for the course map
	CloneFlags uintptr // namespaces the child is cloned into
	// Namespaces names the namespaces CloneFlags must give the child, as
	// /proc/<pid>/ns/ names them ("uts", "mnt", ...). The skeleton checks
	// them before any chapter acts on the child (see checkNamespaces), so
	// an exercise whose CloneFlags are not written yet cannot change the
	// host.
	Namespaces []string
	// Flags are the run flags only this chapter reads ("publish", "p"):
	// under a -chapter that turns the chapter off they would do nothing,
	// so the command line refuses them.
	Flags []string
	// Off reports whether this run's flags switch the chapter off (as
	// -userns host does chapter 09): then it adds no clone flag, no
	// namespace to the guard, and none of its hooks runs.
	Off func(cfg Config) bool

	// Resolve runs on the host before every chapter's Prepare: it may
	// put another directory in Config.Rootfs (an image from a store, for
	// an argument that is not a directory) and fill in what the command
	// line left out (the command, its environment and directory).
	Resolve func(c *Container) error
	// Prepare runs on the host before the child exists: check the
	// config, reserve what the chapter needs, make what the child must be
	// born with (its cgroups). What the child needs only at its Enter is
	// Attach's: made while the child's Go runtime starts, on the other CPU.
	Prepare func(c *Container) error
	// Clone runs on the host just before clone(2), on the one locked
	// thread that clones the child: it says where the child is born. It
	// may set how the child is cloned (attr: clone3's CLONE_INTO_CGROUP),
	// or move that thread itself, since a child starts where the thread
	// that cloned it is. It returns what to undo on that thread once the
	// child exists (or nil), which runs even when the clone failed; the
	// skeleton checks that the thread ends where it began (see
	// checkThreadBack).
	Clone func(c *Container, attr *syscall.SysProcAttr) (after func() error, err error)
	// Attach runs on the host once the child exists but before it may
	// run the command: act on it from outside (cgroup, veth, rules).
	Attach func(c *Container) error
	// AttachInside runs in the child, before any Enter, when the runtime
	// runs without root (Container.Rootless): it does from inside what
	// Attach, which still runs on the host, cannot do from outside. An
	// ordinary user may not setns(2) into the mount namespace of a user
	// namespace it made (that needs CAP_SYS_ADMIN in its own), but the
	// child, root of that user namespace, may mount there itself.
	AttachInside func(c *Container) error
	// Enter runs inside the child, in its new namespaces, before exec.
	Enter func(c *Container) error
	// Parked runs on the host for a container `create` made, once its
	// child waits at the start gate with every Enter done: what must come
	// after the chapters' own work in the child (chapter 11 mounts
	// config.json's mounts there, after chapter 04's, in their order).
	Parked func(c *Container) error
	// Starting runs in the child of a created container once `start`
	// opened the gate, last before execve: in the container, with every
	// Enter done (chapter 11 runs config.json's startContainer hooks).
	Starting func(c *Container) error
	// Started runs on the host as `start` ends, the command running
	// (chapter 11: the poststart hooks). An error is a warning: the
	// container runs on.
	Started func(c *Container) error
	// Deleted runs on the host after every Release, the state gone: at
	// the end of `delete`, of a failed `create`, of a run (chapter 11: the
	// poststop hooks). An error is a warning: nothing is left to undo.
	Deleted func(c *Container) error
	// Join runs in `scratchcontainer exec`, on the one locked thread that
	// then forks the command: it says how to enter what the chapter made
	// (setns(2) into its namespace, a write into its cgroup, the same
	// restrictions Enter applied). Hooks run in chapter order, so a later
	// chapter may give up a privilege an earlier one still needed.
	Join func(c *Container) error
	// Exited runs on the host after the command exited; it may explain
	// the exit (out of memory) and return a different status.
	Exited func(c *Container, status int) int
	// Release runs on the host after exit, in reverse chapter order. It
	// must be idempotent: gc calls it again for a container whose
	// runtime died, with only the saved state to go on.
	Release func(c *Container) error
	// Inspect runs on the host, for `scratchcontainer inspect`, while the
	// container runs: what the chapter made, read back from the kernel.
	Inspect func(c *Container) []Fact
	// Commands are subcommands the chapter adds to the command line
	// ("pull", "images", ...): each gets the arguments after its name
	// and returns the exit status.
	Commands map[string]func(args []string) (int, error)
	// Bundle reads an OCI bundle (a directory with config.json and a
	// root filesystem) into cfg, for `create`: the chapter that speaks
	// the OCI runtime command line has it.
	Bundle func(dir string, cfg *Config) error
}

// active is the course as this run has it: a chapter its flags switch off
// (Off) keeps its place and name, and loses everything else.
func active(cfg Config, chapters []Chapter) []Chapter {
	out := append([]Chapter(nil), chapters...)
	for i, ch := range out {
		if ch.Off != nil && ch.Off(cfg) {
			out[i] = Chapter{Name: ch.Name, Capability: ch.Capability}
		}
	}
	return out
}

// Exit statuses, as `docker run` has them.
const (
	StatusRuntimeFailed = 125 // the runtime itself failed
	StatusCannotExecute = 126 // the command exists but cannot be run
	StatusNotFound      = 127 // the command is not in the container
	StatusSignalBase    = 128 // 128+N: the command died of signal N
)

// Error is an error with the exit status it should produce.
type Error struct {
	Status int
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error that makes the runtime exit with status.
func Errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Err: fmt.Errorf(format, args...)}
}

// StatusOf is the exit status err asks for: 125 unless it says otherwise.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return StatusRuntimeFailed
}

// UnwrapPath drops the operation and path from an *os.PathError, for a
// message that names them already: "rootfs /x: no such file or
// directory", not "rootfs /x: stat /x: no such file or directory".
func UnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NewID returns a container ID: 12 random lower-case hex characters.
func NewID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RootDir is the directory that becomes the container's /: the rootfs,
// unless a chapter set another in its place as "rootfs" (chapter 10
// mounts an overlay over the rootfs and sets where).
func (c *Container) RootDir() string {
	if dir := c.Resources["rootfs"]; dir != "" {
		return dir
	}
	return c.Config.Rootfs
}

// ShortID is the 8-character form of id for host names that must be short
// (the veth's): its first 8 characters when it is lower-case hex of at
// least 8 (ours, podman's 64), else the first 8 hex digits of its SHA-256.
// The same ID gives the same short form every time.
func ShortID(id string) string {
	if len(id) >= 8 && strings.Trim(id, "0123456789abcdef") == "" {
		return id[:8]
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4])
}

// Hostname is the container's hostname: -hostname, else its ID.
func (c *Container) Hostname() string {
	if c.Config.Hostname != "" {
		return c.Config.Hostname
	}
	return c.ID
}
