#!/usr/bin/env bash
# demo.sh captures the bundled sample run (an Ultralytics 8.3.166 segment run
# with predictions.json and its dataset), verifies the archive, and shows
# what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/yoloarchive
sample=testdata/ultralytics-8.3.166/segment-savejson
out=out/demo
rm -rf "$out"
mkdir -p "$out"

echo "\$ yoloarchive capture $sample --data .../datasets/segment/data.yaml -o $out/run.tar.zst"
"$bin" capture "$sample" --data testdata/ultralytics-8.3.166/datasets/segment/data.yaml -o "$out/run.tar.zst"
echo
echo "\$ yoloarchive verify $out/run.tar.zst"
"$bin" verify "$out/run.tar.zst"
echo
echo "\$ yoloarchive inspect $out/run.tar.zst"
"$bin" inspect "$out/run.tar.zst"
