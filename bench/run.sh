#!/usr/bin/env bash
# bench/run.sh: measures the gateway beside the bare-server ceiling and the
# Node peer with the shared harness (../shared/bench/run.sh), in one run.
# Usage: bench/run.sh [--out DIR] [harness options]; SHARED_BENCH overrides
# where the harness lives. Results: DIR/table.txt and DIR/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
harness=${SHARED_BENCH:-$root/../shared/bench}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target signin-gateway >/dev/null

# The access log is off in these runs: one JSON line per request is a cost
# of its own (measure it by setting GATEWAY2_CMD with GW_LOG_ACCESS=true).
# Users' keys and the backend's are configured apart, as in production; the
# harness signs both kinds of token with its one HS256 secret.
common="env GW_LISTEN_HOST={host} GW_LISTEN_PORT={port}
  GW_AUTH_JWKS_FILE={jwks} GW_AUTH_HS_SECRET_FILE={hs_secret}
  GW_AUTH_HS_KID={hs_kid} GW_AUTH_ISS={iss} GW_AUTH_AUD={aud}
  GW_BACKEND_HS_SECRET_FILE={hs_secret} GW_BACKEND_HS_KID={hs_kid}
  GW_BACKEND_ISS={iss} GW_BACKEND_AUD={aud} GW_BACKEND_SUBJECTS={track_sub}
  GW_UPSTREAM_URL={upstream} GW_UPSTREAM_API_KEY=bench-placeholder
  GW_UPSTREAM_BATCH_MAX={batch_max} GW_UPSTREAM_BATCH_MS={batch_ms}
  GW_DATA_DIR={workdir}"

gw="GW_LOG_ACCESS=false $root/build/signin-gateway"
# Three durability levels side by side, each with a fresh {workdir}.
export GATEWAY_NAME=${GATEWAY_NAME:-"gateway, durability off (memory)"}
export GATEWAY_CMD=${GATEWAY_CMD:-"$common GW_SPOOL_DURABILITY=off $gw"}
if [ -z "${GATEWAY2_CMD+x}" ]; then
    export GATEWAY2_NAME="gateway, durability crash (WAL)"
    export GATEWAY2_CMD="$common GW_SPOOL_DURABILITY=crash $gw"
fi
if [ -z "${GATEWAY3_CMD+x}" ]; then
    export GATEWAY3_NAME="gateway, durability power (fsync)"
    export GATEWAY3_CMD="$common GW_SPOOL_DURABILITY=power $gw"
fi
exec "$harness/run.sh" "$@"
