#!/bin/sh
# shellcheck shell=sh
# PID 1 of the test VM that `make vm-test` boots (see vm-test.sh): runs
# every test binary in /src as root on a stock Debian kernel with cgroup v2
# only, prints a result per chapter and a final marker line, powers off.
# Runs under busybox sh. The host reads these lines from the serial console:
#   scratchcontainer-vm: booted ...        the boot finished (KVM check)
#   cgroup mode inside the VM: v2
#   scratchcontainer-vm: RESULT PASS|FAIL  the overall status, last
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Stage 1: the kernel unpacked the initramfs into rootfs, the root of the
# mount tree. pivot_root(2) refuses to move rootfs away (EINVAL), and
# chapter 03 pivot_roots, so copy everything into a tmpfs and switch_root
# there; switch_root frees the initramfs copy.
# (The kernel opened /dev/console, made by vm-test.sh, as our stdio.)
if [ "$1" != stage2 ]; then
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 tmpfs /newroot
	for f in /*; do
		[ "$f" = /newroot ] || cp -a "$f" /newroot/
	done
	exec switch_root /newroot /init stage2
fi

fail() {
	echo "scratchcontainer-vm: $*"
	echo "scratchcontainer-vm: RESULT FAIL"
	poweroff -f
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
# As a Debian host mounts it (04-proc tells the container's devpts apart).
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
chmod 1777 /tmp
# Unified hierarchy only: the kernel command line has cgroup_no_v1=all.
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2 on /sys/fs/cgroup"
echo "scratchcontainer-vm: booted in $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"

# statfs(2)'s f_type: CGROUP2_SUPER_MAGIC, or the tmpfs that holds v1's
# hierarchies.
fstype=$(stat -fc %t /sys/fs/cgroup)
case $fstype in
63677270) mode=v2 ;;
1021994) mode=v1 ;;
*) mode="unknown (file system type 0x$fstype)" ;;
esac
echo "cgroup mode inside the VM: $mode"
echo "cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

hostname scratchvm
ip link set lo up || fail "ip link set lo up"
# A host's resolv.conf, as every Debian host has one (chapter 06 hands its
# nameservers to the container). 192.0.2.53 is a documentation address
# (TEST-NET-1): the VM has no network card, so nothing is ever sent to it.
mkdir -p /etc
echo "nameserver 192.0.2.53" >/etc/resolv.conf

# What the network chapters and chapter 10 (overlay) use (kmod's modprobe by its path: Debian's
# busybox sh runs its own applets before anything on PATH). The kernel also loads modules on demand
# through /sbin/modprobe, which finds them with the modules.dep built on
# the host; loading them here makes a missing one show up early.
for m in veth bridge nf_tables nft_compat nft_chain_nat nft_ct nf_nat \
	nf_conntrack xt_MASQUERADE xt_nat xt_comment xt_addrtype \
	xt_conntrack xt_tcpudp overlay; do
	/sbin/modprobe "$m" || echo "scratchcontainer-vm: modprobe $m failed"
done

# The tests, as vm-test.sh listed them: one line "DIR BINARY" each, DIR
# relative to /src (the module root, with go.mod and testdata/). As
# `go test ./...` does, several binaries may run at once (scratch.jobs): a
# lane takes the next binary no lane has claimed (mkdir is atomic). Each
# binary's output goes to a file, printed whole, in list order, at the end.
export SCRATCH_HELPERS=/src/.helpers
# The root package runs only the lifecycle suite here: each chapter's suite
# runs in its own package (on the host, make test runs them all twice).
export SCRATCH_SUITES=lifecycle
export SCRATCH_VM=1 # the scripts' [vm] condition
export HOME=/root TMPDIR=/tmp
out=/run/vm-test
mkdir -p "$out"

run() { # N DIR BINARY: run one test binary from its package directory
	start=$(cut -d' ' -f1 /proc/uptime)
	if (cd "/src/$2" && "./$3" -test.v -test.count=1 -test.timeout=10m) </dev/null >"$out/$1.log" 2>&1; then
		result=PASS
	else
		result=FAIL
	fi
	end=$(cut -d' ' -f1 /proc/uptime)
	took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')
	echo "  $result  $2 ($took)" >"$out/$1.result"
	echo "scratchcontainer-vm: $result $2 after $took"
}

lane() {
	n=0
	while read -r dir bin; do
		n=$((n + 1))
		mkdir "$out/claim.$n" 2>/dev/null || continue
		echo "scratchcontainer-vm: running $dir"
		run "$n" "$dir" "$bin"
	done </src/.tests
}

# How many at once: scratch.jobs=N on the kernel command line (VM_JOBS in
# vm-test.sh), else one per CPU.
lanes=$(nproc)
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in scratch.jobs=*) lanes=${arg#scratch.jobs=} ;; esac
done
echo "scratchcontainer-vm: $lanes test binaries at a time"
i=0
while [ "$i" -lt "$lanes" ]; do
	lane &
	i=$((i + 1))
done
wait

status=PASS
n=0
while read -r dir bin; do
	n=$((n + 1))
	echo "scratchcontainer-vm: === $dir ($bin)"
	cat "$out/$n.log"
	grep -q '^  PASS' "$out/$n.result" 2>/dev/null || status=FAIL
done </src/.tests
echo "scratchcontainer-vm: per package (chapters/NN: chapters 1..NN; \".\": every suite on the full runtime):"
n=0
while read -r dir bin; do
	n=$((n + 1))
	cat "$out/$n.result" 2>/dev/null || echo "  FAIL  $dir (no result)"
done </src/.tests
# Nothing a container made may be left behind.
left=$(find /run/scratchcontainer -mindepth 1 -maxdepth 1 -type d 2>/dev/null; ip -o link | grep ' sc-'
	find /sys/fs/cgroup/scratchcontainer -mindepth 1 -type d 2>/dev/null
	iptables-save 2>/dev/null | grep 'scratchcontainer:')
if [ -n "$left" ]; then
	echo "scratchcontainer-vm: left behind: $left"
	status=FAIL
fi
echo "scratchcontainer-vm: RESULT $status after $(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
