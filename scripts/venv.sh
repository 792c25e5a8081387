# Sourced by run.sh and test.sh: make the virtual environment $VENV and install into it.
# Usage: install_relay [EXTRAS]   e.g. install_relay '[test]'
VENV="${RELAY_VENV:-.venv}"
install_relay() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".${1:-}"
}
