#!/usr/bin/env bash
# Installs what wiretap needs on Debian and builds it. Idempotent: a second run does only what
# changed. Used by both README commands and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "run as root: eBPF capture and apt installs need it (or use: wiretap start --source demo)"
  exit 1
fi

# System packages: BPF toolchain, addon build, and the real peers the tests drive.
pkgs=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3
      curl ca-certificates postgresql-client nginx wrk iproute2 procps nats-server
      python3-psycopg2 python3-psycopg python3-sqlalchemy python3-pandas libpostgresql-jdbc-java openjdk-17-jdk-headless postgresql
      mariadb-server mariadb-client kcat tshark tcpdump openssl gcc libzstd-dev)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tracefs: libbpf resolves syscall tracepoints through it.
if [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || say "could not mount tracefs at /sys/kernel/tracing"
fi

# npm dependencies, reinstalled only when the lockfile changes. Native addons build against the
# local Node headers (offline).
export npm_config_nodedir=/usr
stamp=node_modules/.wiretap-lock-sha
sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sha" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$sha" > "$stamp"
fi

say "building (bpf object, native addon, typecheck)"
npm run --silent build
say "ready"
