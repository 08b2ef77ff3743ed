#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the repository (every func Fuzz* in a
# _test.go file, found anew each run) for the given time (default 60s),
# one worker each (-parallel 1: the machine is shared). A failing target
# is named with the input that fails it, which Go writes under
# <package>/testdata/fuzz/<target>/: commit it with the fix, so that plain
# `go test` replays it forever. All targets run; the exit code is 1 if
# any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
parallel=${FUZZPARALLEL:-1}
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
    if go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$time" -fuzzminimizetime 5s -parallel "$parallel" >"$log" 2>&1; then
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
    grep -E '^fuzz: elapsed: .*execs' "$log" | tail -1 || true
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
