"""scripts/venv.sh, which run.sh and test.sh source: installing the relay says nothing.

``bash scripts/run.sh`` installs the relay before each start, so a warning of the
install greeted every start (issue 10, item 8). The tree is copied so that the install,
into a virtual environment of its own, leaves the working tree's alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support import ROOT


def test_installing_the_relay_prints_no_warning(tmp_path: Path):
    """install_relay succeeds and no Python warning (setuptools' "Editable installation."
    notice, relayed by pip as a BuildBackendWarning) reaches the terminal."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    for name in ("relay", "clients", "scripts"):
        shutil.copytree(ROOT / name, tree / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    done = subprocess.run(["bash", "-c", "source scripts/venv.sh && install_relay"], cwd=tree,
                          env={**os.environ, "RELAY_VENV": str(venv)}, capture_output=True,
                          text=True, timeout=600, check=False)
    version = subprocess.run([str(venv / "bin" / "relay"), "--version"], capture_output=True,
                             text=True, timeout=60, check=False)
    assert (0, "relay 0.1.0") == (done.returncode, version.stdout.strip()), done.stderr
    assert [] == re.findall(r"\w+Warning\b.*", done.stdout + done.stderr)
