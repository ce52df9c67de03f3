#!/usr/bin/env bash
# Builds the native addons incrementally. `node-gyp rebuild` recompiled every object on every
# run (~1–2 min here); now node-gyp configures only when there is no Makefile yet, binding.gyp
# changed since, or Node changed (another ABI), and make rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/../native"
gyp=../node_modules/.bin/node-gyp
node_version="$(node -v)"
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ] || [ "$(cat build/.node-version 2>/dev/null)" != "$node_version" ]; then
  "$gyp" configure --nodedir=/usr
  echo "$node_version" > build/.node-version
fi
"$gyp" build --nodedir=/usr
