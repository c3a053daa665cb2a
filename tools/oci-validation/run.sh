#!/bin/sh
# Runs tests of the OCI runtime-tools validation suite (v0.9.0, pinned in
# this directory's go.mod) against a runtime, and prints one line a test:
# its TAP results (ok, not ok, skipped), then the totals.
#   tools/oci-validation/run.sh RUNTIME [TEST...]     (as root)
set -eu
runtime=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-/tmp/oci-validation}
tests=${*:-default create start state kill delete pidfile misc_props hostname process mounts linux_masked_paths linux_readonly_paths linux_sysctl process_user process_rlimits process_capabilities process_oom_score_adj linux_ns_nopath linux_ns_path kill_no_effect killsig delete_only_create_resources linux_cgroups_memory linux_cgroups_pids linux_cgroups_cpus root_readonly_true}
mkdir -p "$work/bin" "$work/tmp"
# Its own state directory (--root), so that no other runtime's gc on this
# host takes the suite's parked containers for ones whose runtime died.
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$runtime" "$work/state" > "$work/runtime"
chmod +x "$work/runtime"
cd "$here"
go build -o "$work/runtimetest" github.com/opencontainers/runtime-tools/cmd/runtimetest
mod=$(go list -m -f '{{.Dir}}' github.com/opencontainers/runtime-tools)
cp "$mod/rootfs-amd64.tar.gz" "$work/" && chmod u+w "$work/rootfs-amd64.tar.gz"
printf '%-32s %4s %6s %5s\n' test ok 'not ok' skip
tok=0 tnot=0 passed=0 failed=0
for t in $tests; do
  go build -o "$work/bin/$t.t" "github.com/opencontainers/runtime-tools/validation/$t"
  # Each test makes its bundles in TMPDIR and, when it fails with a fatal
  # error, leaves them there: in $work/tmp, emptied after the run, not /tmp.
  out=$(cd "$work" && TMPDIR=$work/tmp RUNTIME=$work/runtime timeout 120 "./bin/$t.t" 2>&1) || true
  ok=$(printf '%s\n' "$out" | grep -Ec '^ok [0-9]+' || true)
  skip=$(printf '%s\n' "$out" | grep -Ec '^ok [0-9]+ # SKIP' || true)
  not=$(printf '%s\n' "$out" | grep -Ec '^not ok [0-9]+' || true)
  ok=$((ok - skip))
  printf '%s\n' "$out" > "$work/$t.tap"
  printf '%-32s %4d %6d %5d\n' "$t" "$ok" "$not" "$skip"
  tok=$((tok + ok)) tnot=$((tnot + not))
  if [ "$not" = 0 ] && [ "$ok" -gt 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
rm -rf "$work/tmp"
echo "$passed passed, $failed failed (assertions: $tok ok, $tnot not ok; TAP in $work/*.tap)"
