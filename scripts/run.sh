#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run the relay on the embedded PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RELAY_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e .
exec "$VENV/bin/relay" serve "$@"
