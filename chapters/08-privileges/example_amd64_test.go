package privileges

import (
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ExampleFilter prints the start of the seccomp program a container with
// Docker's capabilities gets on x86_64, and its end, with the numbers
// named: the lesson shows it (go test -run ExampleFilter -v).
func ExampleFilter() {
	prog := Filter(DefaultCapabilities)
	names := map[uint32]string{unix.AUDIT_ARCH_X86_64: "AUDIT_ARCH_X86_64", 0x40000000: "x32 calls", namespaceFlags: "any CLONE_NEW* flag"}
	for _, r := range append(syscallRules(), archRules()...) {
		names[r.nr] = r.name
	}
	show := func(i int) {
		ins := prog[i]
		note := ""
		switch v := ins.(type) {
		case bpf.JumpIf:
			note = names[v.Val]
		case bpf.RetConstant:
			note = map[uint32]string{unix.SECCOMP_RET_ALLOW: "SECCOMP_RET_ALLOW",
				unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM):  "SECCOMP_RET_ERRNO|EPERM",
				unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS): "SECCOMP_RET_ERRNO|ENOSYS"}[v.Val]
		case bpf.LoadAbsolute:
			note = map[uint32]string{dataNr: "seccomp_data.nr", dataArch: "seccomp_data.arch", dataArg0: "seccomp_data.args[0]"}[v.Off]
		}
		fmt.Printf("%-4d %-20v %s\n", i, ins, note)
	}
	for i := 0; i < 10; i++ {
		show(i)
	}
	fmt.Println("...")
	for i := len(prog) - 11; i < len(prog); i++ {
		show(i)
	}
	// Output:
	// 0    ld [4]               seccomp_data.arch
	// 1    jeq #3221225534,1    AUDIT_ARCH_X86_64
	// 2    ret #327681          SECCOMP_RET_ERRNO|EPERM
	// 3    ld [0]               seccomp_data.nr
	// 4    jlt #1073741824,1    x32 calls
	// 5    ret #327681          SECCOMP_RET_ERRNO|EPERM
	// 6    jneq #165,1          mount
	// 7    ret #327681          SECCOMP_RET_ERRNO|EPERM
	// 8    jneq #166,1          umount2
	// 9    ret #327681          SECCOMP_RET_ERRNO|EPERM
	// ...
	// 138  jneq #56,4           clone
	// 139  ld [16]              seccomp_data.args[0]
	// 140  jset #2114060288,0,1 any CLONE_NEW* flag
	// 141  ret #327681          SECCOMP_RET_ERRNO|EPERM
	// 142  ld [0]               seccomp_data.nr
	// 143  jneq #272,4          unshare
	// 144  ld [16]              seccomp_data.args[0]
	// 145  jset #2114060288,0,1 any CLONE_NEW* flag
	// 146  ret #327681          SECCOMP_RET_ERRNO|EPERM
	// 147  ld [0]               seccomp_data.nr
	// 148  ret #2147418112      SECCOMP_RET_ALLOW
}
