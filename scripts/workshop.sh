#!/usr/bin/env bash
# The workshop's loop. Each chapter has its reference code (chapters/NN-*/<name>.go)
# and a learner's exercise (chapters/NN-*/exercise.go): the build tag workshopNN
# swaps chapter NN's reference for the exercise; every other chapter stays the
# reference, so a learner may start at any chapter.
#   scripts/workshop.sh chapter NN [reference]   run chapter NN's suite on the exercise (or the reference)
#   scripts/workshop.sh progress                 a table: passing, failing, not started
#   scripts/workshop.sh verify                   every untouched exercise fails, every reference passes
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
GO=${GO:-go}

chapters() { for d in chapters/[0-9][0-9]-*/; do echo "${d%/}"; done; }

# The scripts need root: as anyone else every one of them skips, and a suite
# of skips proves nothing. Say so instead of reporting a pass.
if [ "$(id -u)" != 0 ] && [ -n "${1:-}" ]; then
  echo "the workshop's suites need root (namespaces, cgroups, iptables): run it with sudo (sudo make ${1:-chapter} ...), or in the lab VM (make lab)"
  exit 1
fi

# suite DIR TAGS: run DIR's suite quietly into its log; the status is go test's.
log() { echo "build/workshop-$(basename "$1").log"; }
suite() { $GO test -count=1 -timeout 10m -v ${2:+-tags "$2"} "./$1" >"$(log "$1")" 2>&1; }

# ran LOG: did any script of the suite run (pass or fail), rather than skip?
ran() { grep -Eq -- '--- (PASS|FAIL): TestScripts/[^/]+/' "$1"; }

mkdir -p build
case "${1:-}" in
chapter)
  dir=$(ls -d chapters/"${2:-}"-* 2>/dev/null) || { echo "no chapter '${2:-}': try 01 to $(chapters | wc -l | xargs printf %02d)"; exit 1; }
  n=$(basename "$dir" | cut -c1-2)
  if [ "${3:-}" = reference ]; then tags=""; what="the reference code"; else tags="workshop$n"; what="your code in $dir/exercise.go"; fi
  echo "chapter $n: running testdata/$(basename "$dir") against $what"
  suite "$dir" "$tags"; status=$?
  grep -E '^\s*(---|ok|FAIL|PASS)|FAIL:|no match|exited with|skip|^\s+scratchcontainer: chapter' "$(log "$dir")" | uniq
  if ! ran "$(log "$dir")"; then
    echo "chapter $n: not run: every script skipped (see $(log "$dir"))"; exit 1
  elif [ "$status" = 0 ]; then echo "chapter $n passes"
  else echo "chapter $n fails: read $dir/README.md, sections Exercise and Hints, and the script named above (testdata/$(basename "$dir"))"; fi
  exit "$status"
  ;;
progress)
  printf '%-12s %s\n' chapter status
  for dir in $(chapters); do
    n=$(basename "$dir" | cut -c1-2)
    if suite "$dir" "workshop$n" && ran "$(log "$dir")"; then status=passing
    elif ! ran "$(log "$dir")"; then status="not run (every script skipped: see $(log "$dir"))"
    elif git diff --quiet HEAD -- "$dir/exercise.go" 2>/dev/null; then status="not started"
    else status=failing; fi
    printf '%-12s %s\n' "$(basename "$dir")" "$status"
  done
  ;;
verify)
  before=$(git status --porcelain)
  bad=0
  for dir in $(chapters); do
    n=$(basename "$dir" | cut -c1-2)
    if suite "$dir" "workshop$n" || ! ran "$(log "$dir")"; then ex="PASSES or did not run (it should fail)"; bad=1; else ex="fails"; fi
    if suite "$dir" "" && ran "$(log "$dir")"; then ref="passes"; else ref="FAILS or did not run (see $(log "$dir"))"; bad=1; fi
    printf '%-12s exercise %-24s reference %s\n' "$(basename "$dir")" "$ex" "$ref"
  done
  [ "$(git status --porcelain)" = "$before" ] || { echo "verify changed the tree"; bad=1; }
  [ "$bad" = 0 ] && echo "every exercise fails its suite untouched, every reference passes"
  exit "$bad"
  ;;
*) sed -n '2,9p' "$0"; exit 2 ;;
esac
