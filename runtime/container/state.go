package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// StateRoot holds one directory per container: /run/scratchcontainer/<id>/.
// /run is a tmpfs, so a reboot forgets every container, as it should.
const StateRoot = "/run/scratchcontainer"

// UserStateRoot is where a user other than root keeps the state of their
// containers, who may not write /run: $XDG_RUNTIME_DIR/scratchcontainer,
// a tmpfs of the user's own (/run/user/<uid>, made by systemd-logind at
// login) that goes at logout. A shell without it (su, a sandbox) falls back
// to /run/user/<uid> if it exists, else $TMPDIR/scratchcontainer-<uid>.
func UserStateRoot() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "scratchcontainer")
	}
	uid := os.Geteuid()
	if dir := fmt.Sprintf("/run/user/%d", uid); unix.Access(dir, unix.W_OK) == nil {
		return filepath.Join(dir, "scratchcontainer")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("scratchcontainer-%d", uid))
}

// DefaultRoot is the state directory of this user's containers: StateRoot
// for root, UserStateRoot for anyone else.
func DefaultRoot() string {
	if os.Geteuid() != 0 {
		return UserStateRoot()
	}
	return StateRoot
}

// StateDir is the container's state directory.
func (c *Container) StateDir() string { return filepath.Join(c.root(), c.ID) }

// root is where the container's state directory lives: StateRoot, or
// --root's directory for one made by `create`, or UserStateRoot, which Run
// puts there for a run without root. Not DefaultRoot: in the child, the
// uid it would go by is the user namespace's.
func (c *Container) root() string {
	if c.Config.Root != "" {
		return c.Config.Root
	}
	return StateRoot
}

func (c *Container) stateFile() string { return filepath.Join(c.StateDir(), "state.json") }

// Save writes the state file. The first Save renames a whole directory into
// place, so no reader (ps, gc) sees a state directory without its state
// file. Later ones rewrite the file where it is, under an exclusive
// flock(2) that load takes shared, so no reader sees half a file. (Not a
// new file renamed over the old one: that frees the old file's block, and
// an ext4 mounted with discard tells the disk before rename returns: 0.2 ms
// a write where /run is such a disk, as on the test machine, against 0.02.)
func (c *Container) Save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if f, err := os.OpenFile(c.stateFile(), os.O_WRONLY, 0); err == nil {
		defer f.Close() // and the lock with it
		if err := rewrite(f, b); err != nil {
			return fmt.Errorf("write state of %s: %w", c.ID, err)
		}
		return nil
	}
	if err := os.MkdirAll(c.root(), 0o700); err != nil {
		if c.Rootless {
			return fmt.Errorf("state directory %s: %w (without root, state goes to $XDG_RUNTIME_DIR/scratchcontainer: set XDG_RUNTIME_DIR to a directory of yours)", c.root(), UnwrapPath(err))
		}
		return fmt.Errorf("create %s: %w", c.root(), err)
	}
	tmp, err := os.MkdirTemp(c.root(), ".new-")
	if err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "state.json"), b, 0o600); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("write state of %s: %w", c.ID, err)
	}
	return os.Rename(tmp, c.StateDir())
}

// rewrite replaces the contents of f with b under an exclusive lock. A
// shorter b is padded with spaces, which JSON allows after a value, instead
// of cutting the file: one write, and never a moment when the file holds
// less than a whole state.
func rewrite(f *os.File, b []byte) error {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if pad := int(info.Size()) - len(b); pad > 0 {
		b = append(b, bytes.Repeat([]byte{' '}, pad)...)
	}
	_, err = f.WriteAt(b, 0)
	return err
}

// Record notes a resource a chapter made on the host, and saves the state
// at once: if the runtime dies a moment later, gc still finds it.
func (c *Container) Record(key, value string) error {
	if c.Resources == nil {
		c.Resources = map[string]string{}
	}
	c.Resources[key] = value
	c.Trace("write state %s/state.json: %s %s", c.StateDir(), key, value)
	return c.Save()
}

// Set keeps a value for the chapters after this one and for the child (the
// user namespace's maps, the directory that becomes /), in Resources as
// Record does. Unlike Record it does not write the state file at once: the
// value names nothing on the host that gc would have to release, and the
// next Record or Save takes it along. (The state file is on disk where /run
// is not a tmpfs: each write costs a few tenths of a millisecond.)
func (c *Container) Set(key, value string) {
	if c.Resources == nil {
		c.Resources = map[string]string{}
	}
	c.Resources[key] = value
	c.Trace("%s = %s, for the chapters after this one and the child", key, value)
}

// removeState removes the state directory.
func (c *Container) removeState() error { return os.RemoveAll(c.StateDir()) }

// Load reads the state of container id.
func Load(id string) (*Container, error) { return LoadIn(DefaultRoot(), id) }

// LoadIn reads the state of container id from state directory root.
func LoadIn(root, id string) (*Container, error) {
	c, err := load(root, id)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no container %q in %s (see scratchcontainer ps)", id, root)
	}
	return c, err
}

func load(root, id string) (*Container, error) {
	f, err := os.Open(filepath.Join(root, id, "state.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Shared: Save rewrites the file in place under an exclusive lock.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	var c Container
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	return &c, nil
}

// List returns every container of this user (DefaultRoot) that has a state
// directory, by ID.
func List() ([]*Container, error) { return ListIn(DefaultRoot()) }

// ListIn returns every container whose state directory is in root, by ID.
func ListIn(root string) ([]*Container, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var all []*Container
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := load(root, e.Name())
		if errors.Is(err, os.ErrNotExist) {
			continue // it exited while we listed: not running any more
		}
		if err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

// Orphaned reports whether the runtime that ran c has died: its PID is gone,
// is a zombie, or now belongs to another process (PIDs are reused; the start
// time tells them apart).
func (c *Container) Orphaned() bool {
	if c.RuntimePid == 0 {
		return true
	}
	start, err := startTime(c.RuntimePid)
	return err != nil || start != c.RuntimeStart
}

// startTime is when process pid started, in clock ticks after boot: field 22
// of /proc/<pid>/stat. A zombie counts as gone, unless it is the first
// thread of a process in the middle of an execve(2) from another thread
// (see execing).
func startTime(pid int) (uint64, error) {
	for look := 0; ; look++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// "pid (comm) state ...": comm may hold spaces and parentheses.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 20 {
			return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
		}
		zombie := fields[0] == "Z" || fields[0] == "X"
		if !zombie || execing(pid) {
			return strconv.ParseUint(fields[19], 10, 64) // field 22 counts from pid
		}
		if look == 1 {
			return 0, fmt.Errorf("process %d has exited", pid)
		}
		// Look once more: an execve may have finished since.
	}
}

// execing reports whether process pid has a live thread beside its first,
// which is a zombie: so it is, for an instant, whenever another thread
// calls execve(2). The kernel waits for the first thread to become a
// zombie, then gives the exec'ing thread its PID and start time. A Go
// program may exec from any of its threads, as a created container's PID 1
// (chapter 11) does at `start`: a gc looking just then would take it for
// dead and release a running container.
func execing(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err == nil && len(tasks) > 1
}

// Lock takes an exclusive flock(2) on DefaultRoot()/name, waiting for it, and
// returns the function that lets it go. Chapters use it to serialise what
// two runtimes must not do at once (pick an address, add iptables rules).
// The kernel drops the lock if the process dies, so a crash never leaves a
// host locked.
func Lock(name string) (unlock func(), err error) {
	root := DefaultRoot()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", root, err)
	}
	path := filepath.Join(root, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
