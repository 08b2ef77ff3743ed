#!/usr/bin/env bash
# install-deps.sh installs what is missing, through apt and npm:
#
#   install-deps.sh build   what building needs beyond Go: OpenCV 4.6 headers
#                           (Debian bookworm's libopencv-dev) and pkg-config,
#                           for the contours helper; bin/yoloarchive itself
#                           is static and needs only Go
#   install-deps.sh test    that, plus what the tests and benchmarks need:
#                           zstd (tar --zstd), GNU time (peak memory), and
#                           Node.js with DuckDB for Node (@duckdb/node-api,
#                           the independent Parquet reader of the tests),
#                           and Chromium (the HTML report's browser test)
#
# Safe to run again: it only installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
case "$mode" in build | test) ;; *)
  echo "usage: install-deps.sh build|test" >&2
  exit 2
  ;;
esac

need=()
pkg-config --exists opencv4 2>/dev/null || need+=(libopencv-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ "$mode" = test ]; then
  command -v zstd >/dev/null || need+=(zstd)
  [ -x /usr/bin/time ] || need+=(time) # GNU time: peak RSS in the benchmarks
  command -v node >/dev/null || need+=(nodejs npm)
  command -v chromium >/dev/null || need+=(chromium)
fi
if ((${#need[@]})); then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "install-deps: apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "$mode" = test ] && [ ! -d scripts/duckdb/node_modules/@duckdb/node-api ]; then
  echo "install-deps: npm install @duckdb/node-api" >&2
  # npm install, not npm ci: npm 11 leaves the other platforms' optional DuckDB
  # bindings out of the lock file and npm ci then refuses it.
  (cd scripts/duckdb && npm install --no-audit --no-fund --loglevel=error)
fi
