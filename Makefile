# Everyday targets. CI runs ./.ci/run, which is `lint`, `build` and `test`
# plus the conformance check.

CASES ?= ../shared/rhai-conformance/cases.jsonl

.PHONY: all build test lint conformance bench bench-dataplane ci

all: lint build test

# Every package, for this machine and for linux/arm64; the commands'
# binaries (picloud, pic, the cluster's three, rhai) into ./bin.
build:
	CGO_ENABLED=0 go build ./...
	CGO_ENABLED=0 go build -o bin/ ./cmd/...
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build ./...

# The whole suite as CI runs it, ending with a summary of failures and of
# skipped tests (and why); flags pass through: make test ARGS='-run TestX ./rhai/'.
test:
	go run ./internal/devtools/testall $(ARGS)

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go mod tidy -diff

conformance:
	go run ./cmd/rhai conformance -min-pass 90 $(CASES)

# Speed against gopher-lua, goja, starlark-go and python3 (whole processes,
# medians; see docs/bench.md), then the engine's compile and allocation
# benchmarks. BENCHFLAGS passes flags to the harness, e.g. BENCHFLAGS='-n 3 -only fib'.
bench:
	cd bench && go run . $(BENCHFLAGS)
	go test -run '^$$' -bench 'Compile1000Lines|ScalarArith' -benchmem ./rhai/

# The data plane over HTTP against a bare net/http handler, in the same run
# (docs/dataplane-bench.md); about 2 minutes. Run it on an idle machine.
bench-dataplane:
	cd bench && go run ./dataplane $(BENCHFLAGS)

ci:
	./.ci/run
