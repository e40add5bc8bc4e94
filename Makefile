# Everyday targets. CI runs ./.ci/run, which is `lint`, `build` and `test`
# plus the conformance check.

CASES ?= ../shared/rhai-conformance/cases.jsonl

.PHONY: all build test lint conformance ci

all: lint build test

build:
	CGO_ENABLED=0 go build ./...
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build ./...

test:
	go test -race -count=1 ./...

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go mod tidy -diff

conformance:
	go run ./cmd/rhai conformance -min-pass 90 $(CASES)

ci:
	./.ci/run
