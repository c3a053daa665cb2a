package privileges

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	cgroups "scratchcontainer/chapters/05-cgroups"
	"scratchcontainer/runtime/container"
	"scratchcontainer/runtime/host"
)

// A deviceRule allows access to devices of one type ('c' character, 'b'
// block), major and minor number (-1: any), with access "r" read, "w"
// write and "m" mknod, as the v1 devices controller writes them.
type deviceRule struct {
	kind         byte
	major, minor int64
	access       string
}

// allowedDevices is runc's default list: any node may be created (a
// rootfs may carry nodes, and mknod alone reads nothing), but only the
// nodes chapter 04 makes in /dev, the container's terminals and /dev/net/tun
// may be opened. The host's disks (b 254:0, ...) may not: the container
// could read and write every host file through them.
func allowedDevices() []deviceRule {
	return []deviceRule{
		{'c', -1, -1, "m"}, {'b', -1, -1, "m"},
		{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"}, // null zero full
		{'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"}, // random urandom
		{'c', 5, 0, "rwm"}, {'c', 5, 2, "rwm"}, // tty ptmx
		{'c', 136, -1, "rwm"}, // /dev/pts/N
		{'c', 10, 200, "rwm"}, // /dev/net/tun
	}
}

// String is the rule as devices.allow takes it: "c 1:3 rwm", "b *:* m".
func (r deviceRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%c %s:%s %s", r.kind, num(r.major), num(r.minor), r.access)
}

// devicesV1Root is the v1 devices controller's hierarchy.
const devicesV1Root = "/sys/fs/cgroup/devices"

// LimitDevices runs on the host before the child exists, after chapter 05
// made the container's cgroup. On cgroup v1 it makes the container's
// directory in the devices hierarchy, at chapter 05's path, and writes the
// allow-list there; chapter 05's MakeIn adds the directory to its own list,
// so that the child is born in it (chapter 05's CloneInto), `exec` joins
// it, and Release removes it.
// On cgroup v2 there is no devices file: the kernel asks a BPF program
// attached to the cgroup instead (deviceProgram).
func LimitDevices(c *container.Container) error {
	dirs := strings.Fields(c.Resources["cgroup"])
	switch host.DetectCgroupMode() {
	case host.CgroupV2:
		if len(dirs) != 1 {
			return fmt.Errorf("devices: expected one cgroup v2 directory from chapter 05, got %q", c.Resources["cgroup"])
		}
		c.Trace("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE: the allow-list), bpf(BPF_PROG_ATTACH, %s, BPF_CGROUP_DEVICE)", dirs[0])
		return attachDeviceProgram(dirs[0], allowedDevices())
	case host.CgroupV1, host.CgroupHybrid:
		c.Trace("mkdir %s/%s; write devices.deny = a; write devices.allow, one rule a write", devicesV1Root, cgroups.Path(c))
		dir, err := cgroups.MakeIn(c, devicesV1Root)
		if err != nil {
			return fmt.Errorf("devices cgroup: %w (is the devices controller mounted at %s?)", err, devicesV1Root)
		}
		return writeDevicesV1(dir, allowedDevices())
	}
	return errors.New("devices: no cgroup file system: mount one (see scratchcontainer check)")
}

// writeDevicesV1 writes "a" to devices.deny of dir (deny all), then the
// rules to devices.allow, one write(2) each (the kernel takes one rule per
// write) on one open file.
func writeDevicesV1(dir string, rules []deviceRule) error {
	deny := filepath.Join(dir, "devices.deny")
	if err := os.WriteFile(deny, []byte("a"), 0o644); err != nil {
		return fmt.Errorf("write \"a\" to %s: %w", deny, errors.Unwrap(err))
	}
	allow := filepath.Join(dir, "devices.allow")
	f, err := os.OpenFile(allow, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", allow, errors.Unwrap(err))
	}
	defer f.Close()
	for _, r := range rules {
		if _, err := f.WriteString(r.String()); err != nil {
			return fmt.Errorf("write %q to %s: %w", r.String(), allow, errors.Unwrap(err))
		}
	}
	return nil
}

// deviceProgram compiles the rules into an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE: the kernel runs it when a process of the
// cgroup opens or creates a device node, with struct bpf_cgroup_dev_ctx
// {u32 access_type; u32 major; u32 minor} in r1, access_type being
// access<<16 | type; it returns 1 to allow, 0 to refuse (EPERM).
//
//	r2 = *(u32 *)(r1 + 0)      access_type
//	r3 = r2; r3 &= 0xffff      type: 1 block, 2 char
//	r2 >>= 16                  access: 1 mknod, 2 read, 4 write
//	r4 = *(u32 *)(r1 + 4)      major
//	r5 = *(u32 *)(r1 + 8)      minor
//	per rule:  if r3 != type goto next
//	           r6 = r2; r6 &= ^allowed; if r6 != 0 goto next
//	           if r4 != major goto next   (unless any)
//	           if r5 != minor goto next   (unless any)
//	           r0 = 1; exit
//	r0 = 0; exit
func deviceProgram(rules []deviceRule) []byte {
	type insn struct {
		code     uint8
		dst, src uint8
		off      int16
		imm      int32
	}
	const (
		ldxw  = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
		andK  = unix.BPF_ALU64 | unix.BPF_AND | unix.BPF_K
		rshK  = unix.BPF_ALU64 | unix.BPF_RSH | unix.BPF_K
		movX  = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_X
		movK  = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K
		jneK  = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
		exitI = unix.BPF_JMP | unix.BPF_EXIT
	)
	prog := []insn{
		{code: ldxw, dst: 2, src: 1, off: 0},
		{code: movX, dst: 3, src: 2},
		{code: andK, dst: 3, imm: 0xffff},
		{code: rshK, dst: 2, imm: 16},
		{code: ldxw, dst: 4, src: 1, off: 4},
		{code: ldxw, dst: 5, src: 1, off: 8},
	}
	for _, r := range rules {
		kind := int32(unix.BPF_DEVCG_DEV_CHAR)
		if r.kind == 'b' {
			kind = unix.BPF_DEVCG_DEV_BLOCK
		}
		var allowed int32
		for _, a := range r.access {
			allowed |= map[rune]int32{'m': unix.BPF_DEVCG_ACC_MKNOD, 'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE}[a]
		}
		var body []insn
		body = append(body, insn{code: movX, dst: 6, src: 2}, insn{code: andK, dst: 6, imm: ^allowed & 7}, insn{code: jneK, dst: 6, imm: 0})
		if r.major >= 0 {
			body = append(body, insn{code: jneK, dst: 4, imm: int32(r.major)})
		}
		if r.minor >= 0 {
			body = append(body, insn{code: jneK, dst: 5, imm: int32(r.minor)})
		}
		body = append(body, insn{code: movK, dst: 0, imm: 1}, insn{code: exitI})
		// Every jump goes to the next rule: past the rest of this one.
		rule := append([]insn{{code: jneK, dst: 3, imm: kind}}, body...)
		for i := range rule {
			if rule[i].code == jneK {
				rule[i].off = int16(len(rule) - i - 1)
			}
		}
		prog = append(prog, rule...)
	}
	prog = append(prog, insn{code: movK, dst: 0, imm: 0}, insn{code: exitI})

	b := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		b = append(b, in.code, in.dst|in.src<<4)
		b = binary.LittleEndian.AppendUint16(b, uint16(in.off))
		b = binary.LittleEndian.AppendUint32(b, uint32(in.imm))
	}
	return b
}

// attachDeviceProgram loads the rules' program with bpf(BPF_PROG_LOAD) and
// attaches it to the cgroup directory dir (BPF_PROG_ATTACH,
// BPF_CGROUP_DEVICE). The attachment keeps the program alive: it goes
// when the cgroup is removed, so there is nothing more to release.
func attachDeviceProgram(dir string, rules []deviceRule) error {
	insns := deviceProgram(rules)
	license := []byte("GPL\x00")
	load := struct {
		progType, insnCnt uint32
		insns, license    uint64
		logLevel, logSize uint32
		logBuf            uint64
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns) / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	// The verifier gives up with EAGAIN when a signal is pending for the
	// calling thread (Go's runtime signals its threads), and the remedy is
	// to ask again, as libbpf and cilium/ebpf (runc's) do.
	var fd uintptr
	var errno unix.Errno
	for try := 0; try < 5; try++ {
		fd, _, errno = unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
		if errno != unix.EAGAIN {
			break
		}
	}
	if errno != 0 {
		return fmt.Errorf("bpf(BPF_PROG_LOAD) of the devices program: %w", errno)
	}
	defer unix.Close(int(fd))
	cgroup, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(cgroup)
	attach := struct{ targetFd, attachBpfFd, attachType, attachFlags uint32 }{
		targetFd: uint32(cgroup), attachBpfFd: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE,
	}
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach)), unsafe.Sizeof(attach)); errno != 0 {
		return fmt.Errorf("bpf(BPF_PROG_ATTACH) of the devices program to %s: %w", dir, errno)
	}
	return nil
}
