# Sourced by run.sh and test.sh: make the virtual environment $VENV and install into it.
# Usage: install_relay [EXTRAS]   e.g. install_relay '[test]'
VENV="${RELAY_VENV:-.venv}"
install_relay() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # setuptools' editable build warns "Editable installation." at every install (a
    # notice, relayed by pip as a BuildBackendWarning even with --quiet); run.sh installs
    # at every start, so it would greet each start. Only that message is silenced.
    "$VENV/bin/python" -W "ignore:Editable installation:UserWarning" -m pip install --quiet -e ".${1:-}"
}
