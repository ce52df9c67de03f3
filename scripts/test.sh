#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit beside the code, end to end in
# test/). `scripts/test.sh unit` or `scripts/test.sh e2e` runs one part; extra args go to node.
# `scripts/test.sh FILE...` runs those files against the current build, without setup (a
# developer loop: a half-edited file elsewhere must not block it; run scripts/setup.sh to build).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  all|unit|e2e) ./scripts/setup.sh ;;
  *) echo "[test] running the given files without setup (scripts/setup.sh builds)" >&2 ;;
esac

part=${1:-all}
[ $# -gt 0 ] && shift
units=$(find engine collector planner server native bpf -name '*.test.ts' -not -path '*/node_modules/*' | sort)
e2e=$(find test -name '*.test.ts' | sort)
case "$part" in
  unit) files=$units ;;
  e2e) files=$e2e ;;
  all) files="$units $e2e" ;;
  *) files="$part" ;;
esac
# One runner invocation so the closing counts cover everything; files run one at a time because
# the end-to-end tests share the kernel tracer and the machine's 2 cores.
# shellcheck disable=SC2086
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "$@" $files
