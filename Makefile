# yoloarchive: `make demo` builds and runs the main job on the bundled sample
# run; `make test` runs every test. Both install what is missing first.
#
# Two programs are built: bin/yoloarchive, static (CGO_ENABLED=0, needs only
# Go), and bin/yoloarchive-contours, the helper that computes mask polygons
# with OpenCV (needs libopencv-dev). `make static` builds the first alone.

export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
BIN     := bin/yoloarchive
HELPER  := bin/yoloarchive-contours
# --version says VERSION (git describe: the tag and the commit); where it
# is unset, the module version and commit of the build info, which
# -buildvcs=auto stamps even where GOFLAGS turns it off (GoReleaser uses
# the build info, with -buildvcs=true and -trimpath). Go does not stamp in
# a git worktree, where .git is a file.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BUILDFLAGS := -buildvcs=auto
FUZZTIME ?= 60s
FUZZSHORT ?= 15s

.PHONY: all deps deps-test build static helper check-static cross demo test check-fmt vet unit duckdb fuzz fuzz-short bench clean

all: build

# What building needs (OpenCV headers and pkg-config, for the helper).
deps:
	@bash scripts/install-deps.sh build

# What testing and benchmarks need on top (Node.js and DuckDB, zstd, GNU time).
deps-test:
	@bash scripts/install-deps.sh test

build: static helper

static:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/yoloarchive

# The helper links OpenCV's core and imgproc only (scripts/build-helper.sh).
helper: deps
	bash scripts/build-helper.sh $(HELPER) $(BUILDFLAGS) -ldflags "$(LDFLAGS)"

# bin/yoloarchive must link no shared library (ldd fails on a static file).
check-static: static
	@if ldd $(BIN) >/dev/null 2>&1; then echo "$(BIN) is dynamically linked:"; ldd $(BIN); exit 1; fi
	@echo "$(BIN): static"

# The static binary builds for Windows and macOS too (file locks with
# github.com/gofrs/flock; no syscall.Flock, Umask or Kill outside *_unix.go).
cross:
	CGO_ENABLED=0 GOOS=windows $(GO) build -o /dev/null ./cmd/yoloarchive
	CGO_ENABLED=0 GOOS=darwin $(GO) build -o /dev/null ./cmd/yoloarchive

demo: build
	@bash scripts/demo.sh

test: build deps-test check-static cross check-fmt vet unit fuzz-short duckdb

# make test runs the HTML report's browser test: without chromium it fails
# instead of skipping (deps-test installs it).
test: export YOLOARCHIVE_REQUIRE_CHROMIUM = 1

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Unit, integration, example and fuzz-seed tests (go test runs every fuzz
# target's seed corpus) with the built helper serving every polygon, then
# gocv's Mat accounting to catch leaked Mats. The CLI's interrupt tests run
# the binary dozens of times: on a machine shared with others its package
# can outgrow go test's 10-minute default.
unit: helper
	YOLOARCHIVE_CONTOURS=$(CURDIR)/$(HELPER) $(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -tags matprofile -run NoMatLeak ./vision

# The DuckDB checks run the static binary, which finds the helper beside it.
duckdb: build deps-test
	@BIN=$(BIN) bash scripts/duckdb-check.sh

# Run each fuzz target (every func Fuzz* in the repository) for FUZZTIME.
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZTIME)

# The CI pass: each fuzz target for FUZZSHORT. A failure names the target
# and the failing input, written under <package>/testdata/fuzz/<target>/.
fuzz-short: deps
	@bash scripts/fuzz.sh $(FUZZSHORT)

bench: build deps-test
	@bash scripts/bench.sh

clean:
	rm -rf bin out
