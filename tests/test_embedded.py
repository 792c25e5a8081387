"""``relay serve`` on a fresh data directory: the embedded PostgreSQL is created, shared
with commands run beside it, and stopped with the relay, in a few short log lines."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alert_examples import seizure_alert
from tests.support import ROOT, RelayProcess, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="session")


class EmbeddedRelay(RelayProcess):
    """A relay with no database URL: it must start its own PostgreSQL."""

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["RELAY_DATABASE_URL"]
        return env


def relay_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RELAY_DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "relay", *args, "--data-dir", str(data_dir)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


async def test_serve_runs_on_an_embedded_database_and_stops_it(tmp_path_factory):
    """Fresh data dir → serve; units add beside it; publish; SIGTERM stops both, exit 0."""
    workdir = Path(tmp_path_factory.mktemp("embedded"))
    relay = EmbeddedRelay("", workdir)
    data_dir = workdir / "data"
    await relay.start()
    try:
        added = await asyncio.to_thread(relay_command, data_dir, "units", "add", "TG-LFW-CAAT",
                                        "--country", "TG", "--airport", "LFW", "--roles", "publish,subscribe")
        assert 0 == added.returncode, added.stderr
        token = added.stdout.strip().splitlines()[-1]
        async with stream_client(relay, token) as client:
            ack = await client.publish(seizure_alert(distribution={"countries": ["TG"]}))
        assert "ack" == ack["type"]
        assert (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        code = await relay.stop()
    assert 0 == code, relay.log()
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    await relay.start()
    try:
        async with stream_client(relay, token) as client:
            again = await client.publish(seizure_alert(distribution={"countries": ["TG"]}))
        assert ack["seq"] + 1 == again["seq"]
    finally:
        assert 0 == await relay.stop()


async def test_a_fresh_start_logs_one_short_line_per_step_and_no_warning(workdir):
    """initdb, start and stop are one JSON line each, none with a line break in it (the
    programs' output is at debug level), and nothing else is written: no warning, no
    multi-line blob (issue 10, item 8)."""
    relay = EmbeddedRelay("", workdir / "quiet")
    await relay.start()
    assert 0 == await relay.stop(), relay.log()
    records = [json.loads(line) for line in relay.log_path.read_text().splitlines()]
    assert ["initdb", "start", "stop"] == [
        record["step"] for record in records if record["event"] == "embedded_postgres_step"]
    blobs = [record for record in records
             if any("\n" in value for value in record.values() if isinstance(value, str))]
    assert ([], []) == ([record for record in records if record["level"] != "info"], blobs)
