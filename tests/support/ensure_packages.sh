#!/usr/bin/env bash
# Install what the test servers need: Debian's dovecot (IMAP) and chromium (browser tests), and the npm
# package axe-core (the accessibility checks inject its axe.min.js) into var/node (ignored by git).
# Idempotent and quick when everything is present; safe as root without a TTY (CI).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
AXE_VERSION="4.10.3"
AXE_DIR="$ROOT/var/node"

ensure_axe() {
    if [ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || install_debian npm
    echo "ensure_packages: installing axe-core $AXE_VERSION into var/node" >&2
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --silent "axe-core@$AXE_VERSION" </dev/null
}

missing=()
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
fi

apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

install_debian() {
    echo "ensure_packages: installing $*" >&2
    if ! apt_install "$@"; then
        $SUDO apt-get update -q </dev/null
        apt_install "$@"
    fi
}

if [ ${#missing[@]} -gt 0 ]; then
    install_debian "${missing[@]}"
fi
ensure_axe
