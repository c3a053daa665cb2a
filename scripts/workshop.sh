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

# suite DIR TAGS: run DIR's suite quietly; the status is go test's.
suite() { $GO test -count=1 -timeout 10m ${2:+-tags "$2"} "./$1" >"build/workshop-$(basename "$1").log" 2>&1; }

mkdir -p build
case "${1:-}" in
chapter)
  dir=$(ls -d chapters/"${2:-}"-* 2>/dev/null) || { echo "no chapter '${2:-}': try 01 to $(chapters | wc -l | xargs printf %02d)"; exit 1; }
  n=$(basename "$dir" | cut -c1-2)
  if [ "${3:-}" = reference ]; then tags=""; what="the reference code"; else tags="workshop$n"; what="your code in $dir/exercise.go"; fi
  echo "chapter $n: running testdata/$(basename "$dir") against $what"
  if $GO test -count=1 -timeout 10m ${tags:+-tags "$tags"} -v "./$dir" | grep -E '^\s*(---|ok|FAIL|PASS)|FAIL:|no match|exited with'; then :; fi
  status=${PIPESTATUS[0]}
  if [ "$status" = 0 ]; then echo "chapter $n passes"; else echo "chapter $n fails: read $dir/README.md, sections Exercise and Hints, and the script named above (testdata/$(basename "$dir"))"; fi
  exit "$status"
  ;;
progress)
  printf '%-12s %s\n' chapter status
  for dir in $(chapters); do
    n=$(basename "$dir" | cut -c1-2)
    if suite "$dir" "workshop$n"; then status=passing
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
    if suite "$dir" "workshop$n"; then ex="PASSES (it should fail)"; bad=1; else ex="fails"; fi
    if suite "$dir" ""; then ref="passes"; else ref="FAILS (see build/workshop-$(basename "$dir").log)"; bad=1; fi
    printf '%-12s exercise %-24s reference %s\n' "$(basename "$dir")" "$ex" "$ref"
  done
  [ "$(git status --porcelain)" = "$before" ] || { echo "verify changed the tree"; bad=1; }
  [ "$bad" = 0 ] && echo "every exercise fails its suite untouched, every reference passes"
  exit "$bad"
  ;;
*) sed -n '2,9p' "$0"; exit 2 ;;
esac
