#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run lint, types, the import rules of the
# architecture (import-linter, pyproject.toml) and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
install_relay '[test]'
"$VENV/bin/python" -m ruff check relay clients tests bench
"$VENV/bin/python" -m mypy relay clients
"$VENV/bin/lint-imports"
"$VENV/bin/python" -m pytest "$@"
