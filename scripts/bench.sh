#!/usr/bin/env bash
# bench.sh measures yoloarchive against the tools it replaces, as ratios
# measured in the same run (REPEAT times each, default 7; the median time
# and the largest peak RSS are kept):
#
#   headline  process start (--version, verify of a small archive, STARTS runs
#             each, default 61, taking turns: scripts/starttime); capture of
#             a ~213 MB synthetic run (300 JPEGs, 150 MB of weights) against
#             tar --zstd; capture of a run with 2,000 COCO RLE masks at
#             640x640 against the Python path (numpy decode and
#             cv2.findContours, scripts/contours.py); sync peak RSS.
#             BEFORE=/path/to/an/older/yoloarchive adds its figures beside.
#   capture   capture against tar --zstd at three weight sizes, contour
#             extraction in masks/s, the Go benchmarks (sync costs, follow).
#   scale     10, 100 and 1,000 synthetic runs captured, synced, exported.
#   report    the HTML report of 10 and 100 synthetic runs (300 epochs, 25
#             images each, every image's bytes made distinct so that no
#             thumbnail is shared): size, wall and CPU time, peak RSS.
#
# bash scripts/bench.sh [headline|capture|scale|report] (default: all four).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin/yoloarchive}
before=${BEFORE:-}
repeat=${REPEAT:-7}
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
what=${1:-all}
want() { [ "$what" = all ] || [ "$what" = "$1" ]; }

data=testdata/ultralytics-8.3.166/datasets/segment/data.yaml

# make_run DIR MB: the segment fixture plus best.pt and last.pt of MB
# megabytes each (5/6 random, 1/6 zeros, like a checkpoint's mix).
make_run() {
  cp -r testdata/ultralytics-8.3.166/segment-savejson "$1"
  chmod -R u+w "$1"
  mkdir -p "$1/weights"
  local mb=$2
  for w in best last; do
    { head -c $((mb * 1024 * 1024 * 5 / 6)) /dev/urandom; head -c $((mb * 1024 * 1024 / 6)) /dev/zero; } >"$1/weights/$w.pt"
  done
}

# median_time CMD...: median wall time in seconds over $repeat runs.
median_time() {
  local times=()
  for ((i = 0; i < repeat; i++)); do
    sync
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((repeat + 1) / 2))p"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# time_rss CMD...: wall time (median, taken around GNU time), peak RSS in
# MB (the largest) and CPU seconds (user + system, median; children
# included) over $repeat runs, as "seconds MB cpu-seconds". On a loaded
# machine the CPU time moves less than the wall time.
time_rss() {
  local times=() cpus=() rss=0 t0 t1 kb u s
  for ((i = 0; i < repeat; i++)); do
    t0=$(date +%s.%N)
    /usr/bin/time -o "$work/time" -f '%M %U %S' "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; return 1; }
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
    read -r kb u s <"$work/time"
    cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
    ((kb > rss)) && rss=$kb
  done
  local mid=$(((repeat + 1) / 2))
  printf '%s %.1f %s\n' "$(printf '%s\n' "${times[@]}" | sort -g | sed -n "${mid}p")" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
    "$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")"
}

if want headline; then
  echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  bins=("$bin")
  [ -n "$before" ] && bins+=("$before")
  go build -o "$work/synthruns" ./scripts/synthruns
  go build -o "$work/starttime" ./scripts/starttime
  printf 'package main\n\nfunc main() { println("dev") }\n' >"$work/hello.go"
  CGO_ENABLED=0 go build -o "$work/hello" "$work/hello.go"
  small=testdata/ultralytics-8.3.166/detect
  "$bin" capture "$small" -o "$work/small.tar.zst" >/dev/null
  echo
  # The starts are timed by scripts/starttime, the commands taking turns
  # (STARTS runs each, default 61): time_rss's date and GNU time would add
  # ~10 ms to each.
  starts=${STARTS:-61}
  cmds=("$work/hello")
  labels=("a static Go hello world (the floor)")
  for b in "${bins[@]}"; do
    cmds+=(:: "$b" --version :: "$b" verify "$work/small.tar.zst")
    labels+=("$b --version" "$b verify ($(($(stat -c %s "$work/small.tar.zst") / 1024)) KiB)")
  done
  printf '%-52s %8s %8s %8s\n' "start (median wall s, peak RSS MB, median CPU s)" "s" "MB" "cpu s"
  i=0
  while read -r t m c; do
    printf '%-52s %8.4f %8.1f %8.4f\n' "${labels[$i]}" "$t" "$m" "$c"
    i=$((i + 1))
  done < <("$work/starttime" -n "$starts" "${cmds[@]}")
  echo "goal: <= 0.020 s and <= 30 MB"

  # The ~213 MB run: 300 distinct JPEGs (~190 KB), 2 x 75 MB of weights.
  "$work/synthruns" -n 1 -epochs 300 -images 11 -jpegs 300 -weights-mb 150 -o "$work/big" >/dev/null
  run=$work/big/synth-00000
  echo
  printf '%-44s %10s %10s %12s %8s %8s\n' "capture of a $(($(du -sb "$run" | cut -f1) / 1000000)) MB run" "s" "MB" "bytes" "time x" "size x"
  read -r t_tar m c < <(time_rss tar --zstd -cf "$work/tar.tar.zst" -C "$run" .)
  s_tar=$(stat -c %s "$work/tar.tar.zst")
  printf '%-44s %10.3f %10.1f %12d %8s %8s  (cpu %s s)\n' "tar --zstd -cf" "$t_tar" "$m" "$s_tar" "" "" "$c"
  for b in "${bins[@]}"; do
    read -r t m c < <(time_rss "$b" capture "$run" -o "$work/big.tar.zst")
    s=$(stat -c %s "$work/big.tar.zst")
    printf '%-44s %10.3f %10.1f %12d %7sx %7sx  (cpu %s s)\n' "$b capture" "$t" "$m" "$s" "$(ratio "$t" "$t_tar")" "$(ratio "$s" "$s_tar")" "$c"
  done
  echo "goal: <= 1.2x the time and <= 1.05x the size of tar --zstd"
  echo
  printf '%-44s %10s %10s\n' "sync --to clearml-offline of that archive" "s" "peak MB"
  for b in "${bins[@]}"; do
    read -r t m _ < <(YOLOARCHIVE_STATE_DIR="$work/state" time_rss "$b" sync "$work/big.tar.zst" --to clearml-offline --out "$work/offline" --force)
    printf '%-44s %10.3f %10.1f\n' "$b" "$t" "$m"
  done
  rm -rf "$work/big" "$work/offline" "$work"/*.tar.zst

  # 2,000 masks at 640x640 (one object each, radius 10-120 px).
  "$work/synthruns" -n 1 -epochs 10 -images 0 -masks 2000 -o "$work/masks" >/dev/null
  run=$work/masks/synth-00000
  echo
  printf '%-44s %10s %10s %8s\n' "polygons of 2,000 masks at 640x640" "s" "MB" "faster x"
  t_py=""
  if "$python" -c 'import numpy, cv2' 2>/dev/null; then
    read -r t_py m c < <(time_rss "$python" scripts/contours.py "$run/predictions.json" "$work/py.jsonl")
    printf '%-44s %10.3f %10.1f %8s  (cpu %s s)\n' "Python: numpy decode + cv2.findContours" "$t_py" "$m" "" "$c"
  else
    echo "Python path not measured: $python lacks numpy or cv2 (Debian: apt-get install python3-opencv)"
  fi
  for b in "${bins[@]}"; do
    read -r t m c < <(time_rss "$b" capture "$run" -o "$work/masks.tar.zst")
    printf '%-44s %10.3f %10.1f %7sx  (cpu %s s)\n' "$b capture (the whole run)" "$t" "$m" "$([ -n "$t_py" ] && ratio "$t_py" "$t" || echo -)" "$c"
  done
  echo "goal: capture >= 5x faster than the Python path"
  # The helper beside each binary: its start is paid by every capture
  # with masks (OpenCV's shared objects: 264 with gocv's default build,
  # 22 with scripts/build-helper.sh's).
  for b in "${bins[@]}"; do
    h=$(dirname "$b")/yoloarchive-contours
    [ -x "$h" ] || continue
    read -r t m c < <(time_rss "$h" --version)
    printf '%-44s %10.3f %10.1f %8s  (cpu %s s, %d shared objects)\n' "$h --version" "$t" "$m" "" "$c" "$(ldd "$h" | wc -l)"
  done
  rm -rf "$work/masks"
fi

if want capture; then
t_start=$(median_time "$bin" --version)
printf 'process start of %s (%s): %.3f s\n\n' "$bin" "$(ldd "$bin" >/dev/null 2>&1 && echo "$(ldd "$bin" | wc -l) shared libraries" || echo static)" "$t_start"
printf '%-28s %10s %10s %12s %12s %11s %11s\n' "run directory" "tar s" "capture s" "tar bytes" "capture bytes" "time ratio" "size ratio"
for mb in 6 50 200; do
  run="$work/run-$mb"
  make_run "$run" "$mb"
  bytes=$(du -sb "$run" | cut -f1)
  t_tar=$(median_time tar --zstd -cf "$work/tar.tar.zst" -C "$run" .)
  t_cap=$(median_time "$bin" capture "$run" --data "$data" -o "$work/cap.tar.zst")
  s_tar=$(stat -c %s "$work/tar.tar.zst")
  s_cap=$(stat -c %s "$work/cap.tar.zst")
  printf '%-28s %10.3f %10.3f %12d %12d %10sx %10sx\n' "$((bytes / 1048576)) MB (2 x $mb MB weights)" \
    "$t_tar" "$t_cap" "$s_tar" "$s_cap" "$(ratio "$t_cap" "$t_tar")" "$(ratio "$s_cap" "$s_tar")"
  rm -rf "$run"
done
echo "goal: capture within 1.5x the time and 1.05x the size of tar --zstd"

echo
echo "contour extraction on 640x640 masks (go test -bench):"
go test -run '^$' -bench 'Polygons640|ParseRLEString640' -benchtime 2s ./vision | grep -E '^Benchmark'
echo
echo "capture vs tar --zstd in-process (go test -bench):"
go test -run '^$' -bench 'Capture|TarZstd' -benchtime 3s ./convert | grep -E '^Benchmark'
echo
echo "sync against the in-repo fake servers (go test -bench): requests and wall time per 1,000 scalars"
echo "and per 100 images, and the peak RSS of 'yoloarchive sync' as the archive grows:"
go test -run '^$' -bench 'Sync_' -benchtime 3x ./sync/clearml | grep -E '^Benchmark'
go test -run '^$' -bench . -benchtime 3x ./sync/comet | grep -E '^Benchmark'
go test -run '^$' -bench 'Run300' -benchtime 3x ./sync/mlflow | grep -E '^Benchmark'
echo
echo "a 40-epoch run synced after every epoch to both fake servers: as a followed chain (capture --follow)"
echo "against a full capture synced at the same moments (requests and wall time per sync, ClearML event"
echo "writes per event and Comet metric posts per point the run ends with):"
go test -run '^$' -bench 'FollowSync' -benchtime 1x ./sync | grep -E '^Benchmark'

fi

# Scale: N synthetic runs (EPOCHS epochs, 25 images each, the four
# results.csv formats), captured with --recursive, synced to the in-repo
# fake servers (run as a process: scripts/fakeservers) and exported; wall
# time and peak RSS (GNU time) of each command, and for the Comet sync the
# HTTP requests per run (from its --json report). SCALE="10 100 1000" by
# default; set SCALE=0 to skip. COMET_MAX caps the runs the Comet sync is
# measured on (default 1000). TRACKERS picks the syncs (default "clearml
# comet"). BEFORE=path/to/another/yoloarchive also syncs the same archives
# to Comet with that binary (a fresh fake server of its own), so that one
# run of the script gives the before/after ratios.
echo
scale=${SCALE:-10 100 1000}
epochs=${EPOCHS:-300}
comet_max=${COMET_MAX:-1000}
trackers=${TRACKERS:-clearml comet}
if want scale && [ "$scale" != 0 ]; then
  go build -o "$work/fakeservers" ./scripts/fakeservers
  go build -o "$work/synthruns" ./scripts/synthruns
  printf '%-6s %-16s %10s %10s %12s %10s\n' runs step "wall s" "s/run" "peak RSS MB" "req/run"
  measure() { # measure N STEP CMD...: one line of the table
    local n=$1 step=$2
    shift 2
    if ! /usr/bin/time -o "$work/time" -f '%e %M' "$@" >"$work/out" 2>"$work/err"; then
      echo "bench: $step failed:" >&2
      tail -3 "$work/err" >&2
      return 1
    fi
    local wall rss reqs=-
    read -r wall rss <"$work/time"
    # A --json report (one object per archive) gives the requests.
    if [ -s "$work/out" ] && head -c1 "$work/out" | grep -q '{'; then
      reqs=$(jq -s 'map(.requests) | add / length | . * 10 | round / 10' "$work/out")
    fi
    printf '%-6s %-16s %10.1f %10.4f %12.1f %10s\n' "$n" "$step" "$wall" "$(awk -v w="$wall" -v n="$n" 'BEGIN{print w/n}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$reqs"
  }
  for n in $scale; do
    d="$work/scale-$n"
    mkdir -p "$d"
    "$work/synthruns" -root . -n "$n" -epochs "$epochs" -images 25 -predictions -o "$d/runs"
    "$work/fakeservers" -env "$d/env" >"$d/servers.out" 2>&1 &
    pid=$!
    while [ ! -s "$d/env" ]; do sleep 0.1; done
    measure "$n" capture "$bin" capture -r "$d/runs" -o "$d/archives/" -j 4
    (
      . "$d/env"
      export YOLOARCHIVE_STATE_DIR="$d/state"
      if [[ " $trackers " == *" clearml "* ]]; then
        measure "$n" "sync clearml" "$bin" sync "$d"/archives/*.tar.zst --to clearml -j 4
      fi
      if [[ " $trackers " == *" comet "* ]] && [ "$n" -le "$comet_max" ]; then
        measure "$n" "sync comet" "$bin" sync "$d"/archives/*.tar.zst --to comet -j 4 --comet-rate 1000000 --json
      fi
      if [[ " $trackers " == *" comet "* ]] && [ "$n" -le "$comet_max" ] && [ -n "${BEFORE:-}" ]; then
        "$work/fakeservers" -env "$d/env-before" >"$d/servers-before.out" 2>&1 &
        before_pid=$!
        while [ ! -s "$d/env-before" ]; do sleep 0.1; done
        (
          . "$d/env-before"
          export YOLOARCHIVE_STATE_DIR="$d/state-before"
          measure "$n" "sync comet BEFORE" "$BEFORE" sync "$d"/archives/*.tar.zst --to comet -j 4 --comet-rate 1000000 --json
        )
        kill "$before_pid"
        wait "$before_pid" 2>/dev/null || true
      fi
      measure "$n" "export parquet" "$bin" export "$d"/archives/*.tar.zst -o "$d/dataset" -j 4
    )
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "       servers: $(cat "$d/servers.out")"
    rm -rf "$d"
  done
fi

report_runs=${REPORT_RUNS:-10 100}
if want report; then
  go build -o "$work/synthruns" ./scripts/synthruns
  echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-6s %10s %10s %12s %10s %10s\n' runs "wall s" "cpu s" "peak RSS MB" "MiB" "MiB/run"
  for n in $report_runs; do
    d="$work/report-$n"
    "$work/synthruns" -root . -n "$n" -epochs "$epochs" -images 25 -predictions -o "$d/runs"
    # Distinct bytes for every image (decoders ignore what follows the end
    # of a PNG or JPEG): runs share no thumbnail, as real runs would not.
    find "$d/runs" -type f \( -name '*.png' -o -name '*.jpg' \) -print0 |
      while IFS= read -r -d '' f; do head -c 16 /dev/urandom >>"$f"; done
    "$bin" capture -q -r "$d/runs" -o "$d/archives/" -j 4
    /usr/bin/time -o "$work/time" -f '%e %M %U %S' "$bin" report -q "$d"/archives/*.tar.zst -o "$d/report.html"
    read -r wall kb u s <"$work/time"
    size=$(stat -c %s "$d/report.html")
    printf '%-6s %10.1f %10.1f %12.1f %10.1f %10.2f\n' "$n" "$wall" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" \
      "$(awk -v k="$kb" 'BEGIN{print k/1024}')" "$(awk -v b="$size" 'BEGIN{print b/1048576}')" "$(awk -v b="$size" -v n="$n" 'BEGIN{print b/1048576/n}')"
    rm -rf "$d"
  done
fi
