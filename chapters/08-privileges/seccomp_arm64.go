package privileges

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// archCheck refuses every call that is not an aarch64 one (32-bit arm
// numbers its calls differently), then loads the call's number.
func archCheck(deny bpf.Instruction) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: dataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AUDIT_ARCH_AARCH64, SkipTrue: 1},
		deny,
		bpf.LoadAbsolute{Off: dataNr, Size: 4},
	}
}

// archRules are the refused calls only some architectures have: aarch64
// has none of them.
func archRules() []syscallRule { return nil }
