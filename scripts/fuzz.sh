#!/usr/bin/env bash
# fuzz.sh runs every fuzz target for the given time (default 60s). New
# failing inputs are written by Go under <package>/testdata/fuzz/<target>/;
# commit them with the fix so that plain `go test` replays them.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
targets=(
  "./archive FuzzReader"
  "./archive/chain FuzzDiffApply"
  "./convert FuzzParseResults"
  "./convert FuzzParseParams"
  "./convert FuzzReadPredictions"
  "./convert FuzzDecodeCheckpoint"
  "./convert FuzzReadLines"
  "./convert FuzzClearMLSession"
  "./convert FuzzCometMessages"
  "./convert FuzzSessionZip"
  "./vision FuzzParseRLEString"
  "./vision FuzzImageSize"
  "./sync/clearml FuzzReadConfigFile"
  "./sync/comet FuzzReadINI"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "fuzz $2 ($1) for $time"
  go test "$1" -run "^$" -fuzz "^$2\$" -fuzztime "$time" -fuzzminimizetime 1s
done
