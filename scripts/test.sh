#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run lint, types and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RELAY_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[test]'
"$VENV/bin/python" -m ruff check relay tests bench
"$VENV/bin/python" -m mypy relay
"$VENV/bin/python" -m pytest "$@"
