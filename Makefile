# mcp-extproc — build, run and test.
#
#   make run      build and start the ext_proc server on the embedded default policy
#   make test     go vet, gofmt check, staticcheck, go test -race (CI runs exactly this)
#   make bench    every benchmark, with allocations (the load benchmark against a
#                 pass-through ext_proc server and the 256 MiB SSE stream included;
#                 the soak excluded)
#   make soak     10^6 exchanges, heap and goroutines sampled (a few minutes)
#   make release  static binaries for every platform in PLATFORMS, into dist/, with SHA256SUMS
#   make docs     regenerate docs/policy.schema.json, docs/configuration.md, docs/metrics.md

GO          ?= go
BIN         := bin/extproc
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# A short seed-corpus pass of every fuzz target runs as part of go test; FUZZTIME
# lets a developer fuzz for longer with `make fuzz`.
FUZZTIME    ?= 30s
# make release builds one static binary per platform.
PLATFORMS   ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST        ?= dist
RELEASE_PKG ?= ./cmd/extproc

.PHONY: all build run test vet fmt-check staticcheck unit bench soak fuzz clean docs release

all: build

# A development build (the release and the image are static and -trimpath;
# this one shares the build cache of go test and the e2e tests).
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/extproc

# Static (CGO_ENABLED=0), reproducible (-trimpath) binaries named
# extproc-OS-ARCH, and their checksums.
release:
	@mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/extproc-$$os-$$arch; \
	  echo "$$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out $(RELEASE_PKG); \
	done
	cd $(DIST) && sha256sum extproc-* > SHA256SUMS

run: build
	./$(BIN) serve $(if $(CONFIG),--config $(CONFIG))

test: vet fmt-check staticcheck unit

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# One package's benchmarks at a time (-p 1): the load and SSE benchmarks
# compare the filter with a pass-through as ratios, and another package's
# benchmarks running beside them on the same cores skew those ratios.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -skip Soak -benchmem ./...

soak:
	$(GO) test -run '^$$' -bench Soak -benchtime 1x -timeout 30m ./extproc/

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The generated documents; internal/docgen's tests fail when they are stale.
docs:
	$(GO) run ./cmd/docgen

clean:
	rm -rf bin $(DIST)
