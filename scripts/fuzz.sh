#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the repository (every func Fuzz* in a
# _test.go file, found anew each run) for the given time (default 60s),
# one worker each (-parallel 1: the machine is shared). A failing target
# is named with the input that fails it, which Go writes under
# <package>/testdata/fuzz/<target>/: commit it with the fix, so that plain
# `go test` replays it forever. All targets run; the exit code is 1 if
# any failed.
#
# Minimizing is bounded by a count of calls, not by time: when a time
# bound runs out, go's coordinator gives up waiting for the worker and
# kills it (its deadline and the worker's are the same), so every input
# that found new coverage cost a worker restart and the calls made while
# minimizing went uncounted (FuzzOpen: 16 execs in 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
parallel=${FUZZPARALLEL:-1}
minimize=${FUZZMINIMIZE:-1000x}
mapfile -t targets < <(grep -rHE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
  sed -E 's#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort -u)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
for t in "${targets[@]}"; do
  set -- $t
  pkg=$1 target=$2
  echo "fuzz $target ($pkg) for $time"
  ok=0
  for attempt in 1 2; do
    if go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$time" -fuzzminimizetime "$minimize" -parallel "$parallel" >"$log" 2>&1; then
      ok=1
      break
    fi
    # go's fuzz coordinator sometimes ends a run that found nothing with a
    # bare "context deadline exceeded" when -fuzztime runs out (no input is
    # written: it is not a finding). Such a run is tried once more; any
    # other failure, or the same one twice, fails the target.
    if grep -q 'Failing input written to' "$log" || ! grep -qx '    context deadline exceeded' "$log"; then
      break
    fi
    echo "fuzz: $target ended with go's 'context deadline exceeded' and no failing input: running it again"
  done
  if [ $ok = 1 ]; then
    # The rate go prints is the last 3 s's; the average says more.
    grep -E '^fuzz: elapsed: .*execs' "$log" | tail -1 |
      sed -E 's#^fuzz: elapsed: ([0-9hms]+), execs: ([0-9]+) .*#\1 \2#' |
      awk -v t="$target" '{ d = $1; s = 0
        if (match(d, /[0-9]+h/)) s += 3600 * substr(d, RSTART, RLENGTH - 1)
        if (match(d, /[0-9]+m/)) s += 60 * substr(d, RSTART, RLENGTH - 1)
        if (match(d, /[0-9]+s/)) s += substr(d, RSTART, RLENGTH - 1)
        printf "fuzz: %s: %d execs in %ds, %.0f/s\n", t, $2, s, $2 / (s > 0 ? s : 1) }' || true
  else
    cat "$log"
    input=$(sed -nE 's#.*Failing input written to (testdata/fuzz/[^ ]+).*#\1#p' "$log" | tail -1)
    if [ -n "$input" ]; then
      failed+=("$target ($pkg): input ${pkg#./}/$input")
    else
      failed+=("$target ($pkg): see the output above")
    fi
  fi
done
echo "fuzz: ${#targets[@]} targets, $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed:" >&2
  printf '  FAIL %s\n' "${failed[@]}" >&2
  exit 1
fi
