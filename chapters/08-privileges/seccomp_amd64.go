package privileges

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// x32Bit marks the system calls of the x32 ABI, which share the x86_64
// architecture value: a rule for one number would miss its x32 twin.
const x32Bit = 0x40000000

// archCheck refuses every call that is not a plain x86_64 one, then loads
// the call's number.
func archCheck(deny bpf.Instruction) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: dataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AUDIT_ARCH_X86_64, SkipTrue: 1},
		deny,
		bpf.LoadAbsolute{Off: dataNr, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32Bit, SkipFalse: 1},
		deny,
	}
}

// archRules are the refused calls only x86_64 has.
func archRules() []syscallRule {
	never := CapSet(0)
	return []syscallRule{
		{name: "iopl", nr: unix.SYS_IOPL, unless: caps(unix.CAP_SYS_RAWIO)},
		{name: "ioperm", nr: unix.SYS_IOPERM, unless: caps(unix.CAP_SYS_RAWIO)},
		{name: "_sysctl", nr: unix.SYS__SYSCTL, unless: never},
		{name: "uselib", nr: unix.SYS_USELIB, unless: never},
		{name: "ustat", nr: unix.SYS_USTAT, unless: never},
		{name: "sysfs", nr: unix.SYS_SYSFS, unless: never},
		{name: "create_module", nr: unix.SYS_CREATE_MODULE, unless: never},
		{name: "get_kernel_syms", nr: unix.SYS_GET_KERNEL_SYMS, unless: never},
		{name: "query_module", nr: unix.SYS_QUERY_MODULE, unless: never},
		{name: "nfsservctl", nr: unix.SYS_NFSSERVCTL, unless: never},
		{name: "uprobe", nr: unix.SYS_UPROBE, unless: never},
	}
}
