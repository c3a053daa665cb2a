package main

import "golang.org/x/sys/unix"

// archAttacks are the attacks only x86_64 has: iopl(3) gives the process
// every I/O port of the machine; it is set back to 0 at once.
func archAttacks() []attack {
	return []attack{{"iopl", func() error {
		if err := rawErr(unix.Syscall(unix.SYS_IOPL, 3, 0, 0)); err != nil {
			return err
		}
		return rawErr(unix.Syscall(unix.SYS_IOPL, 0, 0, 0))
	}}}
}
