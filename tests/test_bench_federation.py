"""The federation benchmark (bench/bench_federation.py) at its smoke size, so that it
cannot rot: two relays, SN pulling from ML; throughput, latency and catch-up all complete,
and every alert published at ML reaches SN. The figures themselves are in
docs/performance.md ("Federation"), from the full run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_federation_benchmark_runs_at_its_smoke_size_and_every_alert_reaches_sn(tmp_path):
    report_path = tmp_path / "federation.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_federation.py"), "--quick",
         "--json", str(report_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert 0 == run.returncode, run.stderr[-4000:]
    report = json.loads(report_path.read_text())
    sizes = report["sizes"]
    throughput = report["throughput"]
    assert sizes["throughput_alerts"] == throughput["alerts"]
    assert throughput["alerts"] == throughput["sn_applies"]["events"]  # each applied once at SN
    assert throughput["applied_per_s_overall"] > 0
    latency = report["latency"]
    assert latency["alerts"] == latency["ml_local"]["deliveries"] == latency["sn_across_link"]["deliveries"]
    assert 0 < latency["ml_local"]["p50_ms"] and 0 < latency["sn_across_link"]["p50_ms"]
    for name, alerts in (("catch_up_small", sizes["catchup_alerts"] // 10),
                         ("catch_up", sizes["catchup_alerts"])):
        catch_up = report[name]
        assert alerts == catch_up["alerts"] == catch_up["sn_applies"]["events"], name
        assert catch_up["sn_vmhwm_mb"] > 0 and catch_up["start_to_all_applied_s"] > 0, name
    assert "catch-up of" in run.stdout
