"""The soak (bench/soak.py) at a short length: mixed traffic on two relays under every
attack of issue 9, three SIGKILLs and a database restart, then exact counts.

``RELAY_SOAK_SECONDS`` sets the length (40 s by default, so that CI stays short); the
long run and its figures are in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("RELAY_SOAK_SECONDS", "40"))


def test_soak_loses_nothing_repeats_nothing_and_cuts_every_attack(tmp_path):
    report_path = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", str(SECONDS),
         "--json", str(report_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 420, check=False)
    assert 0 == run.returncode, run.stderr[-4000:]
    report = json.loads(report_path.read_text())
    assert [] == report["crashed"]
    assert 3 == report["kills"] and 1 == report["database_restarts"]
    published = report["published"]
    assert published["acked"] > 20 * SECONDS, published  # three publishers at 20 a second
    assert published["acked"] == published["sent"] and 0 == published["rejected"]
    assert 0 == report["stored"]["acked_not_stored"] == report["stored"]["stored_twice"]
    assert report["receipts"]["acked"] > 0
    assert 0 == report["receipts"]["lost"] == report["receipts"]["duplicates"]
    for name, counts in report["delivered"].items():
        assert counts["expected"] > 0, name
        assert {"missing": 0, "repeated": 0, "out_of_order": 0, "not_allowed": 0} == {
            key: counts[key] for key in ("missing", "repeated", "out_of_order", "not_allowed")}, name
    assert 0 == report["lost"] == report["duplicates"]
    attacks = report["attacks"]
    assert attacks.get("bad_frames:error", 0) > 0 and attacks.get("wrong_tokens:401", 0) > 0
    assert attacks.get("preauth_large_frames:cut", 0) > 0, attacks
    assert not [name for name in attacks if name.endswith((":not_cut", ":accepted", ":held"))]
    latency = report["bystander_latency"]
    assert latency["attack"]["count"] > 0 and latency["quiet"]["count"] > 0
    assert 0 == report["relay_log"]["errors"], report["relay_log"]["first_errors"]
