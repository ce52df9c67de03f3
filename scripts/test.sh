#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit beside the code, end to end in
# test/). `scripts/test.sh unit` or `scripts/test.sh e2e` runs one part; extra args go to node.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

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
