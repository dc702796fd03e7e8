#!/usr/bin/env bash
# Install the Debian packages the test servers need: dovecot (IMAP), chromium (browser tests) and haproxy
# (the load balancer of `make cluster`, bench/cluster.py and the cluster tests).
# Idempotent and quick when everything is present; safe as root without a TTY (CI).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
fi

apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

echo "ensure_packages: installing ${missing[*]}" >&2
if ! apt_install "${missing[@]}"; then
    $SUDO apt-get update -q </dev/null
    apt_install "${missing[@]}"
fi
