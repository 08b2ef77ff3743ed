#!/usr/bin/env bash
# duckdb-check.sh captures sample runs of three results.csv dialects,
# extracts each archive with plain tar and zstd (no yoloarchive code), and
# has DuckDB read the Parquet tables and check them against results.csv
# (scripts/duckdb/check.mjs). It also checks that the check fails on a
# results.csv that differs by one value.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin/yoloarchive}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

runs=(
  testdata/ultralytics-8.3.166/segment-savejson
  testdata/github-runs/public/A-Alviento__rock-paper-scissors-yolo-object-detection__runs__detect__train
  testdata/github-runs/public/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp
  testdata/github-runs/public/vbalab__YOLO26s-pose-hands__runs__pose__train
)
for run in "${runs[@]}"; do
  name=$(basename "$run")
  "$bin" capture "$run" -o "$work/$name.tar.zst" >/dev/null
  mkdir "$work/$name"
  tar --zstd -xf "$work/$name.tar.zst" -C "$work/$name"
  node scripts/duckdb/check.mjs "$work/$name" "$run/results.csv"
done

# The check must fail when results.csv and the archive disagree.
name=$(basename "${runs[0]}")
sed '3s/^\([0-9]*\),\([^,]*\),[^,]*,/\1,\2,9.87654,/' "${runs[0]}/results.csv" >"$work/tampered.csv"
if out=$(node scripts/duckdb/check.mjs "$work/$name" "$work/tampered.csv" 2>&1); then
  echo "duckdb-check: the check accepted a results.csv that differs from the archive" >&2
  exit 1
fi
if ! grep -q 'FAIL scalars: train/box_loss at epoch 2' <<<"$out"; then
  echo "duckdb-check: the tampered results.csv failed for the wrong reason: $out" >&2
  exit 1
fi
echo "ok duckdb-check: a tampered results.csv is detected (train/box_loss at epoch 2)"

# A ClearML offline session: every event of its metrics.jsonl and
# log.jsonl, read by DuckDB, is a row of the archive's tables.
session=testdata/ultralytics-8.3.166/detect-clearml/clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec
"$bin" capture "$session.zip" -o "$work/session.tar.zst" >/dev/null
mkdir "$work/session"
tar --zstd -xf "$work/session.tar.zst" -C "$work/session"
node scripts/duckdb/session.mjs "$work/session" "$session"
# ... and the check fails when they disagree.
cp -r "$session" "$work/tampered-session"
chmod -R u+w "$work/tampered-session"
sed -i '1s/"value": 5.00624/"value": 5.00625/' "$work/tampered-session/metrics.jsonl"
if out=$(node scripts/duckdb/session.mjs "$work/session" "$work/tampered-session" 2>&1); then
  echo "duckdb-check: the session check accepted a metrics.jsonl that differs from the archive" >&2
  exit 1
fi
grep -q 'FAIL scalars: no archive row for {"title":"train","variant":"train/box_loss","iter":"0"}' <<<"$out" || {
  echo "duckdb-check: the tampered session failed for the wrong reason: $out" >&2
  exit 1
}
echo "ok duckdb-check: a tampered session is detected (train/box_loss at iteration 0)"

# A Comet offline experiment (a YOLOv5 run's): every metric point with the
# epoch it was logged with, every parameter with its JSON type, list items
# too, read by DuckDB from messages.json and from the archive's tables.
comet=testdata/comet-offline/yolov5-windows
"$bin" capture "$comet" -o "$work/comet.tar.zst" >/dev/null
mkdir "$work/comet"
tar --zstd -xf "$work/comet.tar.zst" -C "$work/comet"
node scripts/duckdb/comet.mjs "$work/comet" "$comet"
# ... and the check fails when they disagree: epoch 0 logged as none, [0] as [0.0].
cp -r "$comet" "$work/tampered-comet"
sed -i -e 's/"epoch":0,"metricName":"train\/box_loss"/"epoch":null,"metricName":"train\/box_loss"/' \
  -e 's/"paramValue":\[0\]/"paramValue":[0.0]/' "$work/tampered-comet/messages.json"
if out=$(node scripts/duckdb/comet.mjs "$work/comet" "$work/tampered-comet" 2>&1); then
  echo "duckdb-check: the Comet check accepted a messages.json that differs from the archive" >&2
  exit 1
fi
grep -q 'FAIL scalars: no archive row for {"line":"84","name":"train/box_loss","step":"7","epoch":null}' <<<"$out" &&
  grep -q 'FAIL params: {"key":"freeze"' <<<"$out" || {
  echo "duckdb-check: the tampered Comet experiment failed for the wrong reason: $out" >&2
  exit 1
}
echo "ok duckdb-check: a tampered Comet experiment is detected (an epoch 0, a list of ints)"

# 100 synthetic runs of the four results.csv formats, captured, exported
# as a Parquet dataset, and queried as the README shows; the answers must
# equal the values computed from each results.csv. The runs of each format
# have the same settings file (same name, save_dir, epochs: a backfill of
# users' tutorial runs): they are still 100 runs, with 100 archives.
go run ./scripts/synthruns -n 100 -epochs 30 -images 3 -same-settings -o "$work/runs"
"$bin" capture -r "$work/runs" -o "$work/archives/" -j 4 >/dev/null 2>"$work/capture.log"
n=$(ls "$work"/archives/*.tar.zst | wc -l)
if [ "$n" != 100 ] || ! grep -q '^captured 100 of 100 runs$' "$work/capture.log"; then
  echo "duckdb-check: 100 runs with the same settings gave $n archives: $(tail -n 1 "$work/capture.log")" >&2
  exit 1
fi
"$bin" export "$work"/archives/*.tar.zst -o "$work/dataset" >/dev/null
node scripts/duckdb/export.mjs "$work/dataset" "$work/runs"
# ... and a results.csv that differs from the dataset is caught.
sed -i '5s/^\( *[0-9]*\),\( *\)[0-9.e-]*,/\1,\20.123456,/' "$work/runs/synth-00001/results.csv"
if out=$(node scripts/duckdb/export.mjs "$work/dataset" "$work/runs" 2>&1); then
  echo "duckdb-check: the export check accepted a results.csv that differs from the dataset" >&2
  exit 1
fi
grep -q 'FAIL box-loss curve of synth-00001' <<<"$out" || {
  echo "duckdb-check: the tampered export failed for the wrong reason: $out" >&2
  exit 1
}
echo "ok duckdb-check: a dataset that differs from results.csv is detected (synth-00001)"

# A chain written by `capture --follow --once` while a run "trains": the run
# directory grows one results.csv row at a time (epoch 2 is first written
# with other values and rewritten, as a resumed run rewrites it), then gets
# its end-of-training files. DuckDB merges the links' scalars as FORMAT.md
# §8 says and compares them with the finished results.csv.
src=testdata/ultralytics-8.3.166/detect
grow="$work/growing"
mkdir -p "$grow"
cp "$src/args.yaml" "$src/labels.jpg" "$src/labels_correlogram.jpg" "$grow/"
follow() { "$bin" capture --follow --once --no-weights --settle 1ms "$grow" -o "$work/chain/run.tar.zst" >/dev/null 2>&1; }
lines=$(wc -l <"$src/results.csv")
for n in $(seq 2 "$lines"); do
  if [ "$n" = 3 ]; then
    # epoch 2 as a first attempt wrote it; the next look sees the rewrite
    head -n 2 "$src/results.csv" >"$grow/results.csv"
    sed -n '3s/^\( *2\),\([^,]*\),[^,]*,/\1,\2,7.77777,/p' "$src/results.csv" >>"$grow/results.csv"
    follow
  fi
  head -n "$n" "$src/results.csv" >"$grow/results.csv"
  follow
done
cp "$src"/*.png "$src"/val_batch* "$src"/train_batch* "$grow/"
follow
follow
mkdir "$work/links"
for l in "$work"/chain/run.*.tar.zst; do
  seq=${l%.tar.zst}; seq=${seq##*.}
  mkdir "$work/links/$seq"
  tar --zstd -xf "$l" -C "$work/links/$seq"
done
node scripts/duckdb/chain.mjs "$work/links" "$src/results.csv"
# The chain exported (every link given) is one run whose dataset answers
# the README's queries as the finished results.csv does.
"$bin" export "$work"/chain/run.*.tar.zst -o "$work/chain-dataset" >/dev/null
mkdir -p "$work/chain-runs/growing"
cp "$src/results.csv" "$work/chain-runs/growing/"
node scripts/duckdb/export.mjs "$work/chain-dataset" "$work/chain-runs"
# ... and a chain whose merge differs from results.csv is caught.
sed '2s/^\( *1\),\([^,]*\),[^,]*,/\1,\2,9.87654,/' "$src/results.csv" >"$work/tampered-chain.csv"
if out=$(node scripts/duckdb/chain.mjs "$work/links" "$work/tampered-chain.csv" 2>&1); then
  echo "duckdb-check: the chain check accepted a results.csv that differs from the merged links" >&2
  exit 1
fi
grep -q 'FAIL merged scalars: train/box_loss at epoch 1' <<<"$out" || {
  echo "duckdb-check: the tampered chain check failed for the wrong reason: $out" >&2
  exit 1
}
echo "ok duckdb-check: a results.csv that differs from the merged chain is detected (train/box_loss at epoch 1)"

# The HTML report's best values: what its browser test read from the page
# (convert/report/testdata/best.golden.json) is DuckDB's answer on the exported
# tables of the same archives.
"$bin" export convert/report/testdata/detect-savejson.tar.zst convert/report/testdata/segment-savejson.tar.zst -o "$work/report-dataset" >/dev/null
node scripts/duckdb/best.mjs "$work/report-dataset" convert/report/testdata/best.golden.json
# ... and a best value or epoch the page would show wrong is caught.
sed -e '0,/"best": "1.02029"/s//"best": "1.0203"/' -e '0,/"best_epoch": "2"/s//"best_epoch": "3"/' \
  convert/report/testdata/best.golden.json >"$work/tampered-best.json"
if out=$(node scripts/duckdb/best.mjs "$work/report-dataset" "$work/tampered-best.json" 2>&1); then
  echo "duckdb-check: the report check accepted best values that differ from DuckDB's" >&2
  exit 1
fi
grep -q 'FAIL 12133e2aafee1d3c225a39a9addaa94e train/box_loss: best 1.02029, the report shows 1.0203' <<<"$out" &&
  grep -q 'best epoch 1, the report shows 3\|best epoch 2, the report shows 3' <<<"$out" || {
  echo "duckdb-check: the tampered report values failed for the wrong reason: $out" >&2
  exit 1
}
echo "ok duckdb-check: a best value the report shows wrong is detected"
