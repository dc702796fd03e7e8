#!/usr/bin/env bash
# Build (once) the virtualenv that runs Rasa beside the product, and print its path.
#
# The env lives outside the clone, keyed by the sha256 of the requirements file and the
# Python version, so a second build with the same inputs is instant. A marker file is
# written only after a successful install and a `rasa --version` check; an env without it
# is half-built and is rebuilt from scratch.
#
# Usage: build_rasa_env.sh [--check]
#   --check   print the path and exit 0 if the env is built, exit 3 if not; never builds.
#
# Environment:
#   RASA_PYTHON      interpreter to build with (default: pyenv's 3.10.13)
#   XDG_CACHE_HOME   cache root (default: ~/.cache)
set -euo pipefail

check_only=false
case "${1:-}" in
    --check) check_only=true ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/rasa-requirements.txt"
python="${RASA_PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"

if [[ ! -x "$python" ]]; then
    echo "build_rasa_env: interpreter not found: $python (set RASA_PYTHON)" >&2
    exit 2
fi

py_version="$("$python" -c 'import sys; print(sys.version.split()[0])')"
key="$( { cat "$requirements"; echo "python=$py_version"; } | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/privacybot"
venv="$cache_root/rasa-$key"
marker="$venv/.privacybot-complete"

if [[ -f "$marker" ]]; then
    echo "$venv"
    exit 0
fi
if $check_only; then
    echo "build_rasa_env: not built: $venv (run: make rasa)" >&2
    exit 3
fi

mkdir -p "$cache_root"
# One builder at a time; a second caller waits, then finds the marker.
exec 9>"$cache_root/rasa-$key.lock"
flock 9
if [[ -f "$marker" ]]; then
    echo "$venv"
    exit 0
fi

rm -rf "$venv"
echo "build_rasa_env: building $venv with Python $py_version (this downloads ~1 GB)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade "pip<25" >&2
"$venv/bin/python" -m pip install --progress-bar off -r "$requirements" >&2
"$venv/bin/rasa" --version >&2
{ echo "requirements_sha=$key"; echo "python=$py_version"; date -u +%FT%TZ; } > "$marker"
echo "$venv"
