#!/usr/bin/env bash
# install-deps.sh installs what building and testing yoloarchive needs and is
# missing: OpenCV 4.6 headers for gocv (Debian bookworm's libopencv-dev),
# pkg-config, zstd (for tar --zstd in checks and benchmarks), GNU time (peak
# memory in benchmarks), and DuckDB for
# Node (@duckdb/node-api, the independent Parquet reader of the tests).
# Safe to run again: it only installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
pkg-config --exists opencv4 2>/dev/null || need+=(libopencv-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v zstd >/dev/null || need+=(zstd)
[ -x /usr/bin/time ] || need+=(time) # GNU time: peak RSS in the sync benchmark
command -v node >/dev/null || need+=(nodejs npm)
if ((${#need[@]})); then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "install-deps: apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d scripts/duckdb/node_modules/@duckdb/node-api ]; then
  echo "install-deps: npm install @duckdb/node-api" >&2
  # npm install, not npm ci: npm 11 leaves the other platforms' optional DuckDB
  # bindings out of the lock file and npm ci then refuses it.
  (cd scripts/duckdb && npm install --no-audit --no-fund --loglevel=error)
fi
