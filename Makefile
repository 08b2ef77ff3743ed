# yoloarchive: `make demo` builds and runs the main job on the bundled sample
# run; `make test` runs every test. Both install what is missing first.

export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
BIN     := bin/yoloarchive
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)
FUZZTIME ?= 60s
FUZZSHORT ?= 15s

.PHONY: all deps build demo test check-fmt vet unit duckdb fuzz fuzz-short bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/yoloarchive

demo: build
	@bash scripts/demo.sh

test: build check-fmt vet unit fuzz-short duckdb

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Unit, integration, example and fuzz-seed tests (go test runs every fuzz
# target's seed corpus), then gocv's Mat accounting to catch leaked Mats.
# The CLI's interrupt tests run the binary dozens of times: on a machine
# shared with others its package can outgrow go test's 10-minute default.
unit:
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -tags matprofile -run NoMatLeak ./vision

duckdb: build
	@BIN=$(BIN) bash scripts/duckdb-check.sh

# Run each fuzz target (every func Fuzz* in the repository) for FUZZTIME.
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZTIME)

# The CI pass: each fuzz target for FUZZSHORT. A failure names the target
# and the failing input, written under <package>/testdata/fuzz/<target>/.
fuzz-short:
	@bash scripts/fuzz.sh $(FUZZSHORT)

bench: build
	@bash scripts/bench.sh

clean:
	rm -rf bin out
