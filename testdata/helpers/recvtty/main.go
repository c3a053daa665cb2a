// Command recvtty stands in for conmon at the other end of a container's
// terminal: it listens on a unix socket (--console-socket), takes the
// terminal's master the runtime sends as an SCM_RIGHTS control message
// (unix(7)), prints the name sent with it, types a line into the terminal,
// and copies what the container writes until the container closes its end.
//
//	recvtty SOCKET [LINE]
package main

import (
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: recvtty SOCKET [LINE]"))
	}
	os.Remove(os.Args[1])
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: os.Args[1], Net: "unix"})
	if err != nil {
		fail(err)
	}
	conn, err := l.AcceptUnix()
	if err != nil {
		fail(err)
	}
	name, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		fail(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		fail(fmt.Errorf("no control message with the terminal (%v)", err))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		fail(fmt.Errorf("no fd in the control message (%v)", err))
	}
	master := os.NewFile(uintptr(fds[0]), "master")
	fmt.Printf("terminal %s\n", name[:n])
	if len(os.Args) > 2 {
		fmt.Fprintf(master, "%s\n", os.Args[2])
	}
	// EIO once the last fd of the terminal's other end is closed.
	io.Copy(os.Stdout, master)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "recvtty:", err)
	os.Exit(1)
}
