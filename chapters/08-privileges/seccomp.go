package privileges

import (
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// A syscallRule refuses one system call, unless the container holds one of
// the capabilities in unless: Docker's profile follows the capabilities, so
// -cap-add SYS_ADMIN lets mount(2) through as well.
type syscallRule struct {
	name   string
	nr     uint32
	unless CapSet
	// argMask, if set: refuse only when the first argument has one of
	// these bits (clone and unshare: only when they ask for a namespace).
	argMask uint32
	// errno answered; 0 is EPERM.
	errno unix.Errno
}

// namespaceFlags are the flags clone(2) and unshare(2) may not carry: a new
// user namespace would give the caller every capability inside it, and the
// others need CAP_SYS_ADMIN anyway.
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

func caps(c ...int) CapSet {
	var s CapSet
	for _, cap := range c {
		s |= 1 << cap
	}
	return s
}

// syscallRules are the system calls Docker's default profile
// (moby/profiles/seccomp/default.json) does not allow a container, with the
// capabilities that would allow them there. Docker's profile lists what is
// allowed (about 360 calls) and refuses the rest; this table lists the rest,
// for the calls both architectures have (archRules adds the others).
func syscallRules() []syscallRule {
	never := CapSet(0)
	admin := caps(unix.CAP_SYS_ADMIN)
	return []syscallRule{
		// Mounts, and the new mount API: a new view of any file system.
		{name: "mount", nr: unix.SYS_MOUNT, unless: admin},
		{name: "umount2", nr: unix.SYS_UMOUNT2, unless: admin},
		{name: "pivot_root", nr: unix.SYS_PIVOT_ROOT, unless: never},
		{name: "open_tree", nr: unix.SYS_OPEN_TREE, unless: admin},
		{name: "move_mount", nr: unix.SYS_MOVE_MOUNT, unless: admin},
		{name: "fsopen", nr: unix.SYS_FSOPEN, unless: admin},
		{name: "fsconfig", nr: unix.SYS_FSCONFIG, unless: admin},
		{name: "fsmount", nr: unix.SYS_FSMOUNT, unless: admin},
		{name: "fspick", nr: unix.SYS_FSPICK, unless: admin},
		{name: "mount_setattr", nr: unix.SYS_MOUNT_SETATTR, unless: admin},
		{name: "open_tree_attr", nr: unix.SYS_OPEN_TREE_ATTR, unless: admin},
		// Namespaces: a new user namespace is root again, inside.
		{name: "clone", nr: unix.SYS_CLONE, unless: admin, argMask: namespaceFlags},
		{name: "unshare", nr: unix.SYS_UNSHARE, unless: admin, argMask: namespaceFlags},
		{name: "clone3", nr: unix.SYS_CLONE3, unless: admin, errno: unix.ENOSYS}, // flags in memory: say "no such call", libc falls back to clone
		{name: "setns", nr: unix.SYS_SETNS, unless: admin},
		// The kernel itself: modules, kexec, reboot, swap, accounting.
		{name: "init_module", nr: unix.SYS_INIT_MODULE, unless: caps(unix.CAP_SYS_MODULE)},
		{name: "finit_module", nr: unix.SYS_FINIT_MODULE, unless: caps(unix.CAP_SYS_MODULE)},
		{name: "delete_module", nr: unix.SYS_DELETE_MODULE, unless: caps(unix.CAP_SYS_MODULE)},
		{name: "kexec_load", nr: unix.SYS_KEXEC_LOAD, unless: never},
		{name: "kexec_file_load", nr: unix.SYS_KEXEC_FILE_LOAD, unless: never},
		{name: "reboot", nr: unix.SYS_REBOOT, unless: caps(unix.CAP_SYS_BOOT)},
		{name: "swapon", nr: unix.SYS_SWAPON, unless: never},
		{name: "swapoff", nr: unix.SYS_SWAPOFF, unless: never},
		{name: "acct", nr: unix.SYS_ACCT, unless: caps(unix.CAP_SYS_PACCT)},
		{name: "quotactl", nr: unix.SYS_QUOTACTL, unless: admin},
		{name: "quotactl_fd", nr: unix.SYS_QUOTACTL_FD, unless: admin},
		{name: "syslog", nr: unix.SYS_SYSLOG, unless: admin | caps(unix.CAP_SYSLOG)},
		{name: "lookup_dcookie", nr: unix.SYS_LOOKUP_DCOOKIE, unless: admin},
		{name: "sethostname", nr: unix.SYS_SETHOSTNAME, unless: admin},
		{name: "setdomainname", nr: unix.SYS_SETDOMAINNAME, unless: admin},
		// Clocks are the host's: there is no time namespace here.
		{name: "settimeofday", nr: unix.SYS_SETTIMEOFDAY, unless: caps(unix.CAP_SYS_TIME)},
		{name: "clock_settime", nr: unix.SYS_CLOCK_SETTIME, unless: caps(unix.CAP_SYS_TIME)},
		// Keyrings are not namespaced: the host's root's keys.
		{name: "keyctl", nr: unix.SYS_KEYCTL, unless: never},
		{name: "add_key", nr: unix.SYS_ADD_KEY, unless: never},
		{name: "request_key", nr: unix.SYS_REQUEST_KEY, unless: never},
		// Files by handle: the "shocker" escape walked the host's disk so.
		{name: "open_by_handle_at", nr: unix.SYS_OPEN_BY_HANDLE_AT, unless: caps(unix.CAP_DAC_READ_SEARCH)},
		// Tracing and programs in the kernel.
		{name: "bpf", nr: unix.SYS_BPF, unless: admin | caps(unix.CAP_BPF)},
		{name: "perf_event_open", nr: unix.SYS_PERF_EVENT_OPEN, unless: admin | caps(unix.CAP_PERFMON)},
		{name: "fanotify_init", nr: unix.SYS_FANOTIFY_INIT, unless: admin},
		{name: "kcmp", nr: unix.SYS_KCMP, unless: caps(unix.CAP_SYS_PTRACE)},
		{name: "pidfd_getfd", nr: unix.SYS_PIDFD_GETFD, unless: caps(unix.CAP_SYS_PTRACE)},
		{name: "process_madvise", nr: unix.SYS_PROCESS_MADVISE, unless: caps(unix.CAP_SYS_PTRACE)},
		{name: "userfaultfd", nr: unix.SYS_USERFAULTFD, unless: never},
		{name: "io_uring_setup", nr: unix.SYS_IO_URING_SETUP, unless: never},
		{name: "io_uring_enter", nr: unix.SYS_IO_URING_ENTER, unless: never},
		{name: "io_uring_register", nr: unix.SYS_IO_URING_REGISTER, unless: never},
		// Memory placement across the host's NUMA nodes.
		{name: "mbind", nr: unix.SYS_MBIND, unless: caps(unix.CAP_SYS_NICE)},
		{name: "set_mempolicy", nr: unix.SYS_SET_MEMPOLICY, unless: caps(unix.CAP_SYS_NICE)},
		{name: "get_mempolicy", nr: unix.SYS_GET_MEMPOLICY, unless: caps(unix.CAP_SYS_NICE)},
		{name: "set_mempolicy_home_node", nr: unix.SYS_SET_MEMPOLICY_HOME_NODE, unless: caps(unix.CAP_SYS_NICE)},
		{name: "migrate_pages", nr: unix.SYS_MIGRATE_PAGES, unless: never},
		{name: "move_pages", nr: unix.SYS_MOVE_PAGES, unless: never},
		{name: "vhangup", nr: unix.SYS_VHANGUP, unless: caps(unix.CAP_SYS_TTY_CONFIG)},
		{name: "lsm_get_self_attr", nr: unix.SYS_LSM_GET_SELF_ATTR, unless: admin},
		{name: "lsm_set_self_attr", nr: unix.SYS_LSM_SET_SELF_ATTR, unless: admin},
		{name: "lsm_list_modules", nr: unix.SYS_LSM_LIST_MODULES, unless: admin},
		{name: "listns", nr: unix.SYS_LISTNS, unless: admin},
	}
}

// Offsets into struct seccomp_data, what the filter reads (seccomp(2)):
// the call's number, its architecture, then its six arguments, 8 bytes each.
const (
	dataNr   = 0
	dataArch = 4
	dataArg0 = 16 // the low 32 bits, on a little-endian machine
)

// Filter is the seccomp program for a container holding capabilities
// keep, in classic BPF: the kernel runs it on every system call the
// container makes, with struct seccomp_data as its input, and does what it
// returns: SECCOMP_RET_ALLOW, or SECCOMP_RET_ERRNO with the errno the
// caller gets instead of the call.
//
//	ld [4]                    the architecture: another one numbers its
//	jeq #ARCH,1,0             calls differently (i386 through int 0x80 on a
//	ret #ERRNO(EPERM)         x86_64 host), and would walk around the rules
//	ld [0]                    the call's number
//	jeq #165,0,1              mount?
//	ret #ERRNO(EPERM)         refused
//	...                       one pair per rule
//	jeq #56,0,4               clone?
//	ld [16]                   its flags (the first argument)
//	jset #0x7e020000,0,1      any namespace flag?
//	ret #ERRNO(EPERM)
//	ld [0]                    the number again, for the next rule
//	...
//	ret #ALLOW
func Filter(keep CapSet) []bpf.Instruction {
	deny := func(errno unix.Errno) bpf.Instruction {
		if errno == 0 {
			errno = unix.EPERM
		}
		return bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(errno)}
	}
	prog := archCheck(deny(0))
	var byArgument []syscallRule
	for _, r := range append(syscallRules(), archRules()...) {
		switch {
		case keep&r.unless != 0: // a capability it holds allows the call
		case r.argMask != 0:
			byArgument = append(byArgument, r)
		default:
			prog = append(prog,
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: r.nr, SkipFalse: 1},
				deny(r.errno))
		}
	}
	for _, r := range byArgument {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: r.nr, SkipFalse: 4},
			bpf.LoadAbsolute{Off: dataArg0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: r.argMask, SkipFalse: 1},
			deny(r.errno),
			bpf.LoadAbsolute{Off: dataNr, Size: 4})
	}
	return append(prog, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
}

// InstallFilter loads the filter with seccomp(2). SECCOMP_FILTER_FLAG_TSYNC
// puts it on every thread of the process, not only the calling one: a Go
// program has many, and any of them could otherwise make the call. The
// kernel only takes a filter from a process with no_new_privs set (or
// CAP_SYS_ADMIN), so that a filter cannot fool a setuid program.
func InstallFilter(prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assemble the seccomp filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	switch {
	case errno != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", errno)
	case r != 0: // TSYNC: a thread that could not take it
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d has a filter of its own", r)
	}
	return nil
}
