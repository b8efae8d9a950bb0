#!/usr/bin/env bash
# scripts/install-deps.sh: installs the Debian packages the build (and, with
# --test, the test suite) needs. Does nothing for packages already present.
set -euo pipefail

packages=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev
          libjwt-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev openssl)
if [ "${1:-}" = "--test" ]; then
    packages+=(clang-tidy curl)
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run as root, or: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
echo "install-deps: installing ${missing[*]}" >&2
${SUDO:-} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
