package oci

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Console runs in the child, after chapter 04 mounted the container's own
// devpts, for process.terminal (podman run -t): the command's stdin, stdout
// and stderr become a new terminal, and the caller gets the other end.
//
// A pseudo-terminal is a pair (pty(7)): opening /dev/ptmx makes one, and
// gives its master; the terminal end, the slave, appears as /dev/pts/N.
// What the command writes to the slave, the master reads; what is written
// to the master, the command reads, through the line discipline (echo,
// Ctrl-C as SIGINT to the terminal's foreground process group).
//
// The master goes to the caller over --console-socket, as an SCM_RIGHTS
// control message (unix(7)), as runc does: conmon then copies between it
// and the user's terminal. The child keeps the slave: setsid(2) makes it a
// session leader without a terminal, ioctl(TIOCSCTTY) makes the slave that
// session's controlling terminal, and dup2 puts it on fds 0, 1 and 2.
func Console(c *container.Container) error {
	if c.Console == nil {
		return nil
	}
	defer c.Console.Close()
	slave, err := newTerminal(c, "process.terminal")
	if err != nil {
		return err
	}
	defer slave.Close()
	fd := int(slave.Fd())
	c.Trace("setsid(), ioctl(%s, TIOCSCTTY), dup2 to 0, 1, 2", slave.Name())
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("process.terminal: setsid: %w", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: make %s the controlling terminal: %w", slave.Name(), err)
	}
	for i := 0; i <= 2; i++ {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return fmt.Errorf("process.terminal: dup %s to fd %d: %w", slave.Name(), i, err)
		}
	}
	return nil
}

// JoinConsole is the chapter's Join, for `exec --tty --console-socket`
// (podman exec -t): the same terminal as Console's, made by exec's locked
// thread once it joined the container's mount namespace (chapter 03's
// Join), so the pty is the container's devpts', as the container's own
// is. Exec gives the command the slave, c.Tty, as its stdio, and fork
// makes it the command's controlling terminal: setsid(2) and
// ioctl(TIOCSCTTY) in the forked child (SysProcAttr Setsid, Setctty),
// not on this thread, which is no session's.
func JoinConsole(c *container.Container) error {
	if c.Console == nil {
		return nil
	}
	slave, err := newTerminal(c, "exec --tty")
	if err != nil {
		return err
	}
	c.Tty = slave
	return nil
}

// newTerminal opens a new pty in the devpts the caller sees, sends its
// master over c.Console, and returns its slave; what names the request in
// errors.
func newTerminal(c *container.Container, what string) (*os.File, error) {
	c.Trace(`open("/dev/ptmx", O_RDWR|O_NOCTTY)`)
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: open /dev/ptmx: %w", what, container.UnwrapPath(err))
	}
	defer ptmx.Close()
	// unlockpt(3) and ptsname(3), as ioctls: a new pty is locked until
	// its opener unlocks it.
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return nil, fmt.Errorf("%s: unlock the pty: %w", what, err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		return nil, fmt.Errorf("%s: ptsname: %w", what, err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	c.Trace("open(%q, O_RDWR|O_NOCTTY)", name)
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", what, name, err)
	}
	slave := os.NewFile(uintptr(fd), name)

	c.Trace("sendmsg(--console-socket, %q, SCM_RIGHTS: the master)", name)
	rights := unix.UnixRights(int(ptmx.Fd()))
	if err := unix.Sendmsg(int(c.Console.Fd()), []byte(name), rights, nil, 0); err != nil {
		slave.Close()
		return nil, fmt.Errorf("%s: send the terminal to --console-socket %s: %w", what, c.Console.Name(), err)
	}
	return slave, nil
}
