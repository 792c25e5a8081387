#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run lint, types, the import rules of the
# architecture (import-linter, pyproject.toml) and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
install_relay '[test]'
# The console's browser tests (tests/test_console_*.py) drive Debian's Chromium through
# Playwright, which cannot download a browser of its own here: on a fresh machine (as
# root, with apt, as CI runs) it is installed; the tests never skip without it.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-liberation >/dev/null
fi
"$VENV/bin/python" -m ruff check relay clients tests bench
"$VENV/bin/python" -m mypy relay clients
"$VENV/bin/lint-imports"
"$VENV/bin/python" -m pytest "$@"
