// Command pty opens a new pseudo-terminal, as a terminal emulator or sshd
// does, and prints the path of its terminal end.
//
// Opening /dev/ptmx makes a new pty in the devpts mounted on /dev/pts; the
// terminal end appears there as /dev/pts/N. In a devpts of its own
// (newinstance), the container's first pty is /dev/pts/0, whatever the
// host has open.
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		fail(err)
	}
	defer ptmx.Close()
	fd := int(ptmx.Fd())
	// unlockpt(3): a new pty is locked until its opener unlocks it.
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		fail(fmt.Errorf("unlock pty: %w", err))
	}
	// ptsname(3): the number of the terminal end.
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		fail(fmt.Errorf("ptsname: %w", err))
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	tty, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		fail(err)
	}
	tty.Close()
	fmt.Println("pty", name)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pty:", err)
	os.Exit(1)
}
