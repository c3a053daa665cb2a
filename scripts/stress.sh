#!/usr/bin/env bash
# make stress: many runs, then an inventory of the host that must hold
# nothing of any container: state, cgroups, links, rules, mounts.
#   scripts/stress.sh ./scratchcontainer build/rootfs [SEQUENTIAL] [CONCURRENT]
set -uo pipefail
sc=$1 rootfs=$2 sequential=${3:-200} concurrent=${4:-20}
[ "$(id -u)" = 0 ] || { echo "make stress needs root: sudo make stress"; exit 1; }
failed=0

start=$(date +%s%N)
for i in $(seq "$sequential"); do
  "$sc" run -p 38080:80 "$rootfs" /bin/true || { echo "run $i failed"; failed=$((failed + 1)); }
done
echo "$sequential sequential networked runs (-p 38080:80): $(( ($(date +%s%N) - start) / 1000000 )) ms, $failed failed"

start=$(date +%s%N)
pids=()
for i in $(seq "$concurrent"); do
  "$sc" run -p $((38100 + i)):80 "$rootfs" /bin/true & pids+=($!)
done
cfailed=0
for p in "${pids[@]}"; do wait "$p" || cfailed=$((cfailed + 1)); done
failed=$((failed + cfailed))
echo "$concurrent concurrent networked runs: $(( ($(date +%s%N) - start) / 1000000 )) ms, $cfailed failed"

# Inventory. The kernel removes a veth pair with its namespace a moment after
# the runtime exits: give it a second.
sleep 1
left=0
inventory() { # what, count, detail
  printf '  %-10s %s\n' "$1" "$2"
  [ "$2" = 0 ] || { left=1; echo "$3" | head -5 | sed 's/^/             /'; }
}
echo "inventory of the host:"
s=$(find /run/scratchcontainer -mindepth 1 -maxdepth 1 ! -name '*.lock' 2>/dev/null); inventory state "$(echo -n "$s" | grep -c .)" "$s"
c=$(find /sys/fs/cgroup -maxdepth 3 -path '*scratchcontainer/*' -type d 2>/dev/null); inventory cgroups "$(echo -n "$c" | grep -c .)" "$c"
l=$(ip -o link show | awk -F': ' '{print $2}' | grep '^sc-'); inventory links "$(echo -n "$l" | grep -c .)" "$l"
r=$(iptables-save | grep 'scratchcontainer:[0-9a-f]'); inventory rules "$(echo -n "$r" | grep -c .)" "$r"
m=$(grep -E 'scratchcontainer|oldroot' /proc/self/mountinfo); inventory mounts "$(echo -n "$m" | grep -c .)" "$m"

if [ "$failed" != 0 ] || [ "$left" != 0 ]; then echo "stress: FAILED"; exit 1; fi
echo "stress: ok, nothing left"
