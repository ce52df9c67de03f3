#!/usr/bin/env bash
# Installs what is missing, builds, and starts standalone wiretap capturing this host with eBPF,
# plus a small demo workload so there is data. Extra args go to `wiretap start`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec node bin/wiretap start --workload "$@"
