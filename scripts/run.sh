#!/usr/bin/env bash
# scripts/run.sh: installs what the build needs, builds, and runs the
# gateway on its embedded default (127.0.0.1:8080, development keys and
# events appended to ./data/events.ndjson). Extra arguments go to the
# gateway, e.g. scripts/run.sh --listen-port 9090.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "run: building (build/signin-gateway)" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target signin-gateway >/dev/null
echo "run: starting; Ctrl-C stops it" >&2
exec ./build/signin-gateway "$@"
