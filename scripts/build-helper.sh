#!/usr/bin/env bash
# build-helper.sh OUT [go build flags...] builds the contours helper,
# cmd/yoloarchive-contours, linked against OpenCV's core and imgproc only.
#
# gocv's default build (pkg-config opencv4) links every OpenCV module gocv
# wraps: eleven libraries that load 264 shared objects (FFmpeg, GStreamer,
# GDAL, GTK, ...) and cost 0.45 s of CPU at every start of the helper. The
# helper calls findContours alone. With gocv's customenv tag the flags are
# ours: each function in its own section, --gc-sections drops the wrappers
# nothing calls, and --as-needed keeps only the libraries left referenced:
# 22 shared objects, 30 ms. The link fails if anything kept needs another
# module, so a helper that builds is complete.
#
# make helper, the Dockerfile and the tests build it with this script;
# .goreleaser.yaml repeats its flags (TestBuild_HelperFlagsAgree).
set -euo pipefail
out=$1
shift
cd "$(dirname "$0")/.."
export CGO_ENABLED=1
CGO_CPPFLAGS="$(pkg-config --cflags opencv4)"
export CGO_CPPFLAGS
export CGO_CFLAGS="-O2 -g -ffunction-sections -fdata-sections"
export CGO_CXXFLAGS="--std=c++11 -O2 -g -ffunction-sections -fdata-sections"
CGO_LDFLAGS="$(pkg-config --libs-only-L opencv4) -Wl,--gc-sections -Wl,--as-needed -lopencv_imgproc -lopencv_core"
export CGO_LDFLAGS
exec go build -tags customenv "$@" -o "$out" ./cmd/yoloarchive-contours
