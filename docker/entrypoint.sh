#!/bin/sh
# docker/entrypoint.sh: the image's entrypoint. Configuration comes from
# the environment only (GW_*; secrets also as GW_*_FILE mounts). Checks
# the configuration first so that a bad one stops the container with the
# exact reason, then execs the gateway so that it is PID 1's only child
# and receives SIGTERM directly.
set -eu

GW_BIN=${GW_BIN:-/usr/local/bin/signin-gateway}

case "${1:-}" in
    "")
        ;;
    check-config|verify|healthcheck|dlq|mint-token|--help|--version)
        exec "$GW_BIN" "$@"
        ;;
    *)
        echo "entrypoint: unknown command '$1' (the gateway takes GW_* variables)" >&2
        exit 2
        ;;
esac

if [ -n "${GW_DATA_DIR:-}" ] && [ ! -w "$GW_DATA_DIR" ]; then
    echo "entrypoint: GW_DATA_DIR $GW_DATA_DIR is not writable by uid $(id -u)" >&2
    exit 2
fi

"$GW_BIN" check-config >/dev/null
exec "$GW_BIN"
