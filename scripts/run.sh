#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run the relay on the embedded PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
install_relay
exec "$VENV/bin/relay" serve "$@"
