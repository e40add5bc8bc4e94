#!/usr/bin/env bash
# Rebuilds the dashboard from its sources into a scratch folder and checks
# that the result is byte for byte the committed dist/, which the Go
# binary embeds. Needs node_modules (npm ci). Run by CI; run it yourself
# after `npm run build` to be sure dist/ is what you commit.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
    echo "web/node_modules is missing: run 'cd web && npm ci' first" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! PICLOUD_UI_OUT="$tmp/dist" npm run --silent build >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "web: the dashboard does not build" >&2
    exit 1
fi

if ! diff -rq dist "$tmp/dist" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    echo "web/dist does not match the sources: run 'cd web && npm run build' and commit web/dist" >&2
    exit 1
fi
echo "web/dist matches the sources ($(find dist -type f | wc -l) files)"
