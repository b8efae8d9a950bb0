#!/usr/bin/env bash
# scripts/install-deps.sh: installs the Debian packages the build (and, with
# --test, the test suite) needs. Does nothing for packages already present.
set -euo pipefail

packages=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev
          libjwt-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev openssl)
if [ "${1:-}" = "--test" ]; then
    # prometheus: promtool checks /metrics; haproxy: the scale-out test.
    packages+=(clang-tidy curl chromium prometheus haproxy)
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

# The browser tests' one dependency (playwright-core), pinned by the
# lockfile; it drives the chromium package, it downloads no browser.
browser_deps() {
    if [ "${1:-}" = "--test" ]; then
        (cd "$(dirname "$0")/../tests/browser" &&
            npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
}

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    browser_deps "${1:-}"
    exit 0
fi

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
browser_deps "${1:-}"
