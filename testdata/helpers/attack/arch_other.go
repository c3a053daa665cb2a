//go:build !amd64

package main

// archAttacks: iopl and ioperm exist on x86 only.
func archAttacks() []attack { return nil }
