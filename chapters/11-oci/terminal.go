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
	c.Trace(`open("/dev/ptmx", O_RDWR|O_NOCTTY)`)
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev/ptmx: %w", container.UnwrapPath(err))
	}
	defer ptmx.Close()
	// unlockpt(3) and ptsname(3), as ioctls: a new pty is locked until
	// its opener unlocks it.
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("process.terminal: unlock the pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("process.terminal: ptsname: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	c.Trace("open(%q, O_RDWR|O_NOCTTY)", name)
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open %s: %w", name, err)
	}
	defer unix.Close(slave)

	c.Trace("sendmsg(--console-socket, %q, SCM_RIGHTS: the master)", name)
	rights := unix.UnixRights(int(ptmx.Fd()))
	if err := unix.Sendmsg(int(c.Console.Fd()), []byte(name), rights, nil, 0); err != nil {
		return fmt.Errorf("process.terminal: send the terminal to --console-socket %s: %w", c.Config.ConsoleSocket, err)
	}

	c.Trace("setsid(), ioctl(%s, TIOCSCTTY), dup2 to 0, 1, 2", name)
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("process.terminal: setsid: %w", err)
	}
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: make %s the controlling terminal: %w", name, err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: dup %s to fd %d: %w", name, fd, err)
		}
	}
	return nil
}
