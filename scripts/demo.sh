#!/usr/bin/env bash
# demo.sh captures the bundled sample run (an Ultralytics 8.3.166 segment run
# with predictions.json and its dataset), verifies the archive, shows what it
# holds, and syncs it to the offline default: a Comet offline experiment zip
# (for `comet upload` on a connected machine) and a ClearML offline session
# (for `clearml-task --import-offline-session`). It then captures a genuine
# ClearML SDK offline session and writes it as a Comet zip. No server is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/yoloarchive
sample=testdata/ultralytics-8.3.166/segment-savejson
out=out/demo
rm -rf "$out"
mkdir -p "$out"
export YOLOARCHIVE_STATE_DIR="$out/state"

echo "\$ yoloarchive capture $sample --data .../datasets/segment/data.yaml -o $out/run.tar.zst"
"$bin" capture "$sample" --data testdata/ultralytics-8.3.166/datasets/segment/data.yaml -o "$out/run.tar.zst"
echo
echo "\$ yoloarchive verify $out/run.tar.zst"
"$bin" verify "$out/run.tar.zst"
echo
echo "\$ yoloarchive inspect $out/run.tar.zst"
"$bin" inspect "$out/run.tar.zst"
echo
echo "\$ yoloarchive sync $out/run.tar.zst --to comet-offline --out $out/comet"
"$bin" sync "$out/run.tar.zst" --to comet-offline --out "$out/comet"
echo
echo "\$ yoloarchive sync $out/run.tar.zst --to clearml-offline --out $out/clearml"
"$bin" sync "$out/run.tar.zst" --to clearml-offline --out "$out/clearml"
echo
session=testdata/ultralytics-8.3.166/detect-clearml/clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec.zip
echo "# A ClearML SDK offline session (console log, exact final values) into an archive, then a Comet zip"
echo "\$ yoloarchive capture .../clearml_offline_session/offline-6507...zip -o $out/session.tar.zst"
"$bin" capture "$session" -o "$out/session.tar.zst"
"$bin" inspect "$out/session.tar.zst" | sed -n '1,/^tables/p'
echo "\$ yoloarchive sync $out/session.tar.zst --to comet-offline --out $out/comet"
"$bin" sync "$out/session.tar.zst" --to comet-offline --out "$out/comet"
echo
echo "\$ ls -l $out/comet $out/clearml"
ls -l "$out/comet" "$out/clearml"
echo
echo "Upload on a connected machine with: comet upload $out/comet/*.zip"
echo "or: clearml-task --import-offline-session $out/clearml/offline-*.zip"
