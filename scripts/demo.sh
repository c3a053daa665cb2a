#!/usr/bin/env bash
# A short narrated tour: the same kind of command, chapter after chapter, so
# each capability appears as it is added. Run by `make demo` (as root).
#   usage: scripts/demo.sh ./scratchcontainer build/rootfs
set -euo pipefail
sc=$1 rootfs=$2
[ "$(id -u)" = 0 ] || { echo "make demo needs root (namespaces): sudo make demo"; exit 1; }
chapters=$("$sc" chapters | wc -l)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; echo; "$@"; }
has() { [ "$chapters" -ge "$1" ]; }

say "The course so far"
show "$sc" chapters

if has 1; then
  say "01-uts: the container has its own hostname; the host keeps its own"
  show "$sc" run -chapter 1 -hostname box1 "$rootfs" hostname
  show hostname
fi
if has 2; then
  say "02-pid: the command is PID 1 (with chapter 1 only, it has a host PID)"
  show "$sc" run -chapter 1 "$rootfs" sh -c 'echo "my PID: $$"'
  show "$sc" run -chapter 2 "$rootfs" sh -c 'echo "my PID: $$"'
fi
if has 3; then
  say "03-mount: / is the rootfs (with chapter 2, / is still the host's)"
  show "$sc" run -chapter 2 "$rootfs" sh -c 'ls / | head -5'
  show "$sc" run -chapter 3 "$rootfs" ls /
fi
if has 4; then
  say "04-proc: a /proc of its own: ps sees only the container"
  show "$sc" run -chapter 4 "$rootfs" ps
fi
if has 5; then
  say "05-cgroups: limits, written by the host into the container's cgroup (-memory 256m -cpus 0.5)"
  cid=$(mktemp)
  "$sc" run -chapter 5 -cidfile "$cid" -memory 256m -cpus 0.5 "$rootfs" sleep 2 &
  # Wait (5 s at most) until ps lists it as running: its cgroup is made by
  # then, and its record names the cgroup's directories (one per controller
  # on cgroup v1, one on v2).
  dirs=""
  for _ in $(seq 100); do
    id=$(cat "$cid")
    if [ -n "$id" ]; then
      dirs=$("$sc" ps -format json | grep "\"ID\":\"$id\"" | grep -o '"cgroup":"[^"]*"' | cut -d'"' -f4 || true)
    fi
    if [ -n "$dirs" ]; then break; fi
    sleep 0.05
  done
  files=()
  for f in memory.limit_in_bytes cpu.cfs_quota_us memory.max cpu.max; do   # v1, then v2
    for d in $dirs; do
      if [ -f "$d/$f" ]; then files+=("$d/$f"); fi
    done
  done
  show cat "${files[@]}"
  wait $!
  rm -f "$cid"
fi
if has 6; then
  say "06-veth: a network of its own: eth0 in 172.22.0.0/16, a default route"
  show "$sc" run -chapter 6 "$rootfs" sh -c 'ip -4 -o addr; ip route'
fi
if has 7; then
  say "07-publish: a host port published into the container"
  # -init: httpd is not PID 1, so the SIGTERM below ends it (a PID 1
  # without a handler would never see it); one signal, nothing racing it.
  "$sc" run -init -p 18080:80 "$rootfs" httpd -f -p 80 -h /www &
  for _ in $(seq 100); do timeout 2 busybox wget -q -O - http://127.0.0.1:18080/ 2>/dev/null && break; sleep 0.05; done
  kill -TERM $!
  wait $! || true
fi

say "Nothing left behind"
show ls -A /run/scratchcontainer
