"""The masking benchmark (bench/bench_protection.py) at a tiny size, so that it cannot rot:
passenger alerts seeded through the relay's write path, a baseline with nothing due, then
the relay's own start-up run masks every seeded alert while a unit publishes, giving way
to it (relay.protection.pacing, with every commit counted as slow). The figures
themselves are in docs/performance.md ("Masking"), from the full run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALERTS = 2000


def test_the_masking_benchmark_runs_at_a_tiny_size_and_the_relay_masks_every_seeded_alert(tmp_path):
    report_path = tmp_path / "protection.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_protection.py"), "--alerts", str(ALERTS),
         "--seconds", "2", "--json", str(report_path),
         # small batches, so that the run outlasts the publisher's start; every commit
         # counts as slow, so that the run gives way to publishing
         "--job-batch", "10", "--pause-ratio", "2", "--yield-above-ms", "0.000001"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert 0 == run.returncode, run.stderr[-4000:]
    report = json.loads(report_path.read_text())
    assert report == json.loads(run.stdout[:run.stdout.rindex("}") + 1])  # printed as written

    seed = report["seed"]
    assert ALERTS == seed["alerts"]
    assert seed["alerts_per_s"] > 0 and seed["database_mb"] > 0

    baseline = report["baseline"]
    assert 0 == baseline["protection_runs"]  # mask_after_days so large that nothing was due
    assert baseline["published"] == baseline["publish_to_ack"]["acked"] > 0  # every publish acked
    assert 0 < baseline["publish_to_ack"]["p50_ms"] <= baseline["publish_to_ack"]["max_ms"]
    assert baseline["relay_vmhwm_at_end_mb"] > 0

    masking = report["masking"]
    # every seeded alert masked by the relay's one run, and none of those published meanwhile
    assert ALERTS == masking["masked"] == masking["masked_by_the_run"] == masking["logged_masked"]
    assert masking["seconds"] > 0 and masking["alerts_per_s"] > 0
    assert 1 < masking["slowest"] <= 8  # the run gave way to the unit publishing (logged)
    during, after = masking["publish_to_ack_during"], masking["publish_to_ack_after"]
    assert masking["published"] == (masking["sent_before_the_run_began"] + during["acked"]
                                    + after["acked"]) > 0  # every publish acked
    assert masking["relay_vmhwm_at_ready_mb"] <= masking["relay_vmhwm_at_end_mb"]
    assert 0 < masking["size_before"]["database_mb"] <= masking["size_after"]["database_mb"]
    assert "masking: 2,000 in" in run.stdout
