#!/usr/bin/env bash
# make vm-test: run every chapter's suite as root in a QEMU VM that boots
# Debian's stock kernel with cgroup v2 only.
#
# The VM is a kernel and an initramfs, both made from Debian packages
# (apt-get download + dpkg-deb -x; nothing else is fetched), cached under
# build/vm/:
#   - the kernel of linux-image-amd64 and the modules the chapters need
#     (netfilter, veth, bridge) with their dependencies;
#   - busybox-static, iptables, iproute2, kmod and their shared libraries;
#   - the test binaries, compiled here with `go test -c` for every package
#     with tests under chapters/ plus the root package, laid out with
#     go.mod and testdata/ as in the source tree (testscript looks for
#     go.mod upwards from the working directory);
#   - the helper programs of testdata/helpers, prebuilt static: the VM has
#     no Go, and the harness takes them from $SCRATCH_HELPERS;
#   - vagrant/vm-init.sh as /init.
# The VM has no network uplink: the tests use loopback and the namespaces
# they make. KVM is used when /dev/kvm opens, but a KVM that takes the VM
# and never runs it exists (nested, without VMX shown to the guest: the
# kernel's real-mode setup prints, then nothing). So a KVM boot whose kernel
# prints no banner in VM_KVM_START_TIMEOUT seconds, or whose /init does not
# start in VM_KVM_BOOT_TIMEOUT, is killed and the VM booted again under
# software emulation (TCG), which takes 10 to 20 seconds to boot.
#
# A guest kernel that oopses under TCG is booted once more (the run starts
# over), and its first oops is printed: multi-threaded TCG before QEMU 8.1
# could run code translated from a page another virtual CPU was changing
# (fixed upstream by "accel/tcg: Always lock pages before translation"), and
# with Debian 12's QEMU 7.2 a guest kernel has died at random (a panic in
# kmalloc, "Fatal exception in interrupt") in about one run in ten.
# Single-threaded TCG avoids it but is four times slower: twenty containers
# at once then take minutes. A second oops fails the run.
#
# Environment: VM_ACCEL=auto|kvm|tcg (default auto), VM_TIMEOUT (whole
# run, seconds, default 900), VM_KVM_START_TIMEOUT (default 10),
# VM_KVM_BOOT_TIMEOUT (default 30), VM_BOOT_TIMEOUT (TCG, default 240),
# VM_PACKAGES (an extended regexp: only the test packages whose directory
# matches, e.g. VM_PACKAGES=07-publish; default all), VM_JOBS (test
# binaries run at once in the VM, default 1: two at once is
# twice as fast but, under emulation, starves 05-cgroups' tight limits).
set -euo pipefail
cd "$(dirname "$0")/.."

ACCEL=${VM_ACCEL:-auto}
TIMEOUT=${VM_TIMEOUT:-900}
KVM_START_TIMEOUT=${VM_KVM_START_TIMEOUT:-10}
KVM_BOOT_TIMEOUT=${VM_KVM_BOOT_TIMEOUT:-30}
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-240}
JOBS=${VM_JOBS:-1}
PACKAGES=${VM_PACKAGES:-.}
GO=${GO:-go}

VM=build/vm
DEBS=$VM/debs
ROOT=$VM/root
# What the VM runs besides the tests: busybox for the shell and the test
# rootfs, iptables (nft backend) for the publish chapter and the tests'
# checks, iproute2 for `ip netns` in scripts, kmod for module loading, and
# the host tools the scripts call as a Debian host has them: util-linux
# (nsenter, unshare, setpriv, ...), perl and bash (03-mount: a program not in
# the rootfs, a program copied in without its libraries).
USERLAND=(busybox-static iptables iproute2 kmod util-linux perl-base bash)
# Kernel module trees copied in whole, so that the kernel's on-demand
# module loading finds whatever iptables or a chapter asks for.
# overlayfs is chapter 10's copy-on-write root.
# crc32c is what libcrc32c (for nf_conntrack, nf_nat and nf_tables) asks the
# crypto API for: a soft dependency, not in modules.dep. Each entry is a glob:
# newer kernels ship modules compressed (veth.ko.xz).
MODULE_DIRS=(kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter
  kernel/net/bridge 'kernel/drivers/net/veth.ko*' kernel/fs/overlayfs
  'kernel/crypto/crc32c_generic.ko*' 'kernel/arch/x86/crypto/crc32c-intel.ko*')

started=$(date +%s)
say() { echo "vm-test: $*"; }
die() {
  echo "vm-test: $*" >&2
  exit 1
}
elapsed() { echo $(($(date +%s) - started)); }

[ "$(id -u)" = 0 ] || die "needs root (device nodes and a chroot check in the VM image): sudo make vm-test"
for tool in qemu-system-x86_64 cpio dpkg-deb apt-get depmod ldconfig; do
  command -v "$tool" >/dev/null || die "$tool not found: make deps installs it"
done
mkdir -p "$DEBS"

# --- Debian packages --------------------------------------------------
# The package list is resolved with apt-cache and kept in packages.txt, so
# a later run without network uses the cached .debs.
resolve_packages() {
  apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt-get update -qq
  # The newest plain amd64 kernel Debian offers (bookworm's security
  # archive carries 6.12 beside 6.1): chapter 09 idmaps the rootfs, which
  # lives on the VM's in-memory root, and tmpfs can be idmapped only from
  # Linux 6.3 on. VM_KERNEL names another package; linux-image-amd64's own
  # kernel is the fallback.
  local kernel=${VM_KERNEL:-}
  [ -n "$kernel" ] || kernel=$(apt-cache search --names-only '^linux-image-[0-9.]+\+deb[0-9]+-amd64$' |
    awk '{print $1}' | sort -V | tail -n1)
  [ -n "$kernel" ] || kernel=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  [ -n "$kernel" ] || return 1
  # The userland packages and every library package they depend on,
  # recursively (not debconf, dpkg and the like: nothing runs maintainer
  # scripts here).
  local libs
  mapfile -t libs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${USERLAND[@]}" | grep -E '^(lib|zlib)' | sort -u)
  [ "${#libs[@]}" -gt 0 ] || return 1
  printf '%s\n' "$kernel" "${USERLAND[@]}" "${libs[@]}" >"$VM/packages.txt.new"
  mv "$VM/packages.txt.new" "$VM/packages.txt"
}
if ! resolve_packages; then
  [ -s "$VM/packages.txt" ] || die "cannot resolve the Debian packages (apt-get update?)"
  say "apt-cache failed; using the cached package list $VM/packages.txt"
fi
mapfile -t packages <"$VM/packages.txt"
kernel_pkg=${packages[0]}
deb() { compgen -G "$DEBS/${1}_*.deb" | head -n1; }
missing=()
for p in "${packages[@]}"; do
  [ -n "$(deb "$p")" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "downloading ${#missing[@]} Debian packages into $DEBS"
  (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}")
fi

# --- Kernel and modules -----------------------------------------------
kdir=$VM/kernel/$kernel_pkg
if [ ! -e "$kdir/.done" ]; then
  say "extracting $kernel_pkg"
  rm -rf "$kdir"
  mkdir -p "$kdir"
  dpkg-deb -x "$(deb "$kernel_pkg")" "$kdir"
  kver=$(basename "$(compgen -G "$kdir/lib/modules/*" | head -n1)")
  # The package leaves modules.dep to its postinst: make it here.
  depmod -b "$kdir" "$kver"
  touch "$kdir/.done"
fi
kver=$(basename "$(compgen -G "$kdir/lib/modules/*" | head -n1)")
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no kernel in $kernel_pkg: $vmlinuz"

# --- Go: test binaries and helpers ------------------------------------
say "compiling the test binaries and helpers"
rm -rf "$ROOT"
mkdir -p "$ROOT/src/.helpers"
: >"$ROOT/src/.tests"
# The root package (every suite on the full runtime) and every package with
# tests under chapters/, new chapters as they land. Longest first: with
# VM_JOBS=2 the VM runs them two at a time, in this order.
while read -r dir; do
  [ -n "$dir" ] || continue
  rel=${dir#"$PWD"}
  rel=${rel#/}
  rel=${rel:-.}
  if [ "$rel" = . ]; then bin=scratchcontainer.test; else bin=$(basename "$rel").test; fi
  mkdir -p "$ROOT/src/$rel"
  CGO_ENABLED=0 "$GO" test -c -ldflags=-s -o "$ROOT/src/$rel/$bin" "./$rel"
  echo "$rel $bin" >>"$ROOT/src/.tests"
done < <(
  {
    "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' .
    "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' ./chapters/... | sort -r
  } | grep -E -- "${PACKAGES}"
)
[ -s "$ROOT/src/.tests" ] || die "no packages with tests under chapters/"
helpers=()
for h in testdata/helpers/*/; do helpers+=("./$(basename "$h")"); done
if [ "${#helpers[@]}" -gt 0 ]; then
  out=$(realpath "$ROOT/src/.helpers")
  (cd testdata/helpers && CGO_ENABLED=0 "$GO" build -ldflags=-s -o "$out/" "${helpers[@]}")
fi
cp go.mod "$ROOT/src/"
cp -a testdata "$ROOT/src/"

# --- The VM's root ------------------------------------------------------
say "building the initramfs"
for p in "${packages[@]:1}"; do
  dpkg-deb -x "$(deb "$p")" "$ROOT"
done
rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/locale" "$ROOT/usr/share/info"
# What update-alternatives would do: iptables is the nft backend.
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sfn xtables-nft-multi "$ROOT/usr/sbin/$t"
done
# A busybox link for every applet no package installed.
for applet in $("$ROOT/bin/busybox" --list-full); do
  [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || {
    mkdir -p "$ROOT/$(dirname "$applet")"
    ln -s /bin/busybox "$ROOT/$applet"
  }
done
mkdir -p "$ROOT"/{proc,sys,dev,tmp,run,root,etc/ld.so.conf.d}
echo 'include /etc/ld.so.conf.d/*.conf' >"$ROOT/etc/ld.so.conf"
ldconfig -r "$ROOT"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
mknod -m 600 "$ROOT/dev/console" c 5 1
install -m 755 vagrant/vm-init.sh "$ROOT/init"

# Kernel modules: the trees above and, through modules.dep, what they need.
mdir=lib/modules/$kver
declare -A want=()
for m in "${MODULE_DIRS[@]}"; do
  for path in "$kdir/$mdir/"$m; do
    while read -r f; do want[${f#"$kdir/$mdir/"}]=1; done < <(find "$path" -name '*.ko*')
  done
done
while read -r line; do
  mod=${line%%:*}
  [ -n "${want[$mod]:-}" ] || continue
  for dep in ${line#*:}; do want[$dep]=1; done
done <"$kdir/$mdir/modules.dep"
for m in "${!want[@]}"; do
  mkdir -p "$ROOT/$mdir/$(dirname "$m")"
  cp "$kdir/$mdir/$m" "$ROOT/$mdir/$m"
done
cp "$kdir/$mdir"/modules.{order,builtin,builtin.modinfo} "$ROOT/$mdir/"
depmod -b "$ROOT" "$kver"

# The userland must run: check it here, where a missing library is easy
# to see, rather than as a puzzling failure in the VM.
for cmd in "/usr/sbin/iptables -V" "/usr/sbin/iptables-save -V" "/bin/ip -V" "/sbin/modprobe -V" "/bin/busybox true"; do
  # shellcheck disable=SC2086 # the command and its flag, split on purpose
  chroot "$ROOT" $cmd >/dev/null || die "in the VM image, $cmd fails: a library missing from ${USERLAND[*]}'s dependencies?"
done

(cd "$ROOT" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$VM/initrd.gz.new"
mv "$VM/initrd.gz.new" "$VM/initrd.gz"
say "initramfs $(du -h "$VM/initrd.gz" | cut -f1), kernel $kver, $(wc -l <"$ROOT/src/.tests") test binaries, ready after $(elapsed)s"

# --- Boot ---------------------------------------------------------------
log=$VM/console.log
qemu_pid=
cleanup() { [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true; }
trap cleanup EXIT

# boot ACCEL START_TIMEOUT BOOT_TIMEOUT: run the VM to its end. Returns 0
# when it powered off; 2 when the kernel printed no banner ("Linux
# version", printed at loglevel 6) in START_TIMEOUT seconds, /init did not start
# in BOOT_TIMEOUT, or qemu exited before /init started; 3 when the whole run's time ran out.
boot() {
  local accel=$1 start_timeout=$2 boot_timeout=$3 cpu=max banner='' booted=''
  [ "$accel" = kvm ] && cpu=host
  : >"$log"
  local t0
  t0=$(date +%s)
  qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
    -accel "$accel" -cpu "$cpu" -m 2048 -smp 2 \
    -kernel "$vmlinuz" -initrd "$VM/initrd.gz" \
    -append "console=ttyS0 loglevel=6 panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all scratch.jobs=$JOBS" \
    -serial "file:$log" </dev/null &
  qemu_pid=$!
  tail -n +1 -f "$log" --pid="$qemu_pid" &
  local tail_pid=$!
  while kill -0 "$qemu_pid" 2>/dev/null; do
    sleep 1
    if [ -z "$banner" ] && grep -aq 'Linux version' "$log"; then
      banner=$(($(date +%s) - t0))
    fi
    if [ -z "$booted" ] && grep -aq '^scratchcontainer-vm: booted' "$log"; then
      booted=$(($(date +%s) - t0))
      say "booted under $accel in ${booted}s (kernel banner after ${banner}s; /init running)" >&2
    fi
    local now=$(($(date +%s) - t0))
    if { [ -z "$banner" ] && [ "$now" -ge "$start_timeout" ]; } ||
      { [ -z "$booted" ] && [ "$now" -ge "$boot_timeout" ]; }; then
      kill "$qemu_pid" 2>/dev/null || true
      wait "$qemu_pid" 2>/dev/null || true
      wait "$tail_pid" 2>/dev/null || true
      qemu_pid=
      return 2
    fi
    if [ "$(elapsed)" -ge "$TIMEOUT" ]; then
      kill "$qemu_pid" 2>/dev/null || true
      wait "$qemu_pid" 2>/dev/null || true
      wait "$tail_pid" 2>/dev/null || true
      qemu_pid=
      return 3
    fi
  done
  wait "$qemu_pid" || say "qemu exited with status $?" >&2
  wait "$tail_pid" 2>/dev/null || true
  qemu_pid=
  # qemu gave up before /init ran (KVM here has also aborted at once, on an
  # MSR it could not set): the VM did not boot, as with a time-out.
  [ -n "$booted" ] || return 2
  return 0
}

# /dev/kvm is there and this user may open it read-write.
kvm_works() { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }

status=0
accel=$ACCEL
if [ "$accel" = auto ]; then
  if kvm_works; then accel=kvm; else
    say "/dev/kvm is missing or cannot be opened: software emulation (TCG)"
    accel=tcg
  fi
fi
if [ "$accel" = kvm ]; then
  boot kvm "$KVM_START_TIMEOUT" "$KVM_BOOT_TIMEOUT" || status=$?
  if [ "$status" = 2 ]; then
    say "KVM: qemu failed, or no kernel banner in ${KVM_START_TIMEOUT}s or no /init in ${KVM_BOOT_TIMEOUT}s; booting again under software emulation (TCG)"
    accel=tcg status=0
  fi
fi
# oops prints the guest kernel's first oops in the log, if it had one: the
# rest of a log after it is its consequences.
oops() {
  grep -aqE '(BUG:|Oops:|general protection fault|Kernel panic)' "$log" || return 1
  echo
  say "the guest kernel oopsed; its first report:"
  grep -aE -m1 -A40 '(BUG:|Oops:|general protection fault|Kernel panic)' "$log" || true
}
if [ "$accel" = tcg ]; then
  boot tcg "$BOOT_TIMEOUT" "$BOOT_TIMEOUT" || status=$?
  if [ "$status" = 0 ] && oops; then
    cp "$log" "$log.oops"
    say "booting once more under TCG after the guest kernel's oops (see the top of vagrant/vm-test.sh; the log is in $log.oops)"
    boot tcg "$BOOT_TIMEOUT" "$BOOT_TIMEOUT" || status=$?
  fi
fi
case $status in
2) die "the VM did not boot in ${BOOT_TIMEOUT}s under $accel: see $log" ;;
3) die "the VM run passed the ${TIMEOUT}s limit: see $log" ;;
esac

echo
say "accelerator $accel, whole run $(elapsed)s; console log in $log"
grep -aE '^cgroup mode inside the VM:' "$log" || true
result=$(grep -aoE '^scratchcontainer-vm: RESULT (PASS|FAIL)' "$log" | tail -n1 | awk '{print $3}')
if oops; then
  die "the guest kernel oopsed (twice under TCG), suites ${result:-without a result}: see $log"
fi
case $result in
PASS) say "PASS: every suite passed in the VM" ;;
FAIL) die "FAIL: see the per-package results above and $log" ;;
*) die "the VM stopped without a result (crash or panic?): see $log" ;;
esac
