"""Soak: minutes of mixed traffic under attack, with the relays killed and the database
restarted, then an exact count of what was acknowledged, stored and delivered.

Run from the repository root::

    .venv/bin/python bench/soak.py --minutes 10          # the long run (docs/performance.md)
    .venv/bin/python bench/soak.py --seconds 45          # the short run of tests/test_soak.py

Everything runs on this machine: an embedded PostgreSQL in a temporary directory, two
``relay serve`` processes on the default configuration sharing it, and this process as
the load: publishers and subscribers spread over both relays (bench/soak_traffic.py) and
issue 9's attacks from 127.0.0.2, one after another and then all at once
(bench/soak_attacks.py). Three times a relay is killed with SIGKILL and started again;
once the database is stopped (immediate shutdown) and started again.

It prints a JSON report (also written with ``--json``) and exits 1 when anything
acknowledged was lost, anything was stored or delivered twice, out of order, or to a
unit that may not see it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_attacks import Attacks, Target, run_for  # noqa: E402
from bench.soak_traffic import Publisher, Responder, Subscriber  # noqa: E402
from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402
from tests.support import RelayProcess, create_unit  # noqa: E402

PUBLISH_RATE = 20.0  # alerts a second, per publisher
# Fault times, as fractions of the run: SIGKILL of relay 0, 1, 0; the database restart.
KILLS = ((0.30, 0), (0.50, 1), (0.85, 0))
DATABASE_RESTART = 0.68
QUIET = 0.15  # the first part of the run has no attack: the bystander's quiet latency
FAULT_MARGIN = 2.0  # seconds after a fault that still count as the fault's


def progress(message: str) -> None:
    """A line on stderr, so that a long run shows where it is."""
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_summary(values: list[float]) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)
    return {"count": len(values), "p50_ms": ms(percentile(values, 0.5)),
            "p99_ms": ms(percentile(values, 0.99)), "max_ms": ms(max(values, default=None))}


@dataclass
class Timeline:
    """When the run started, when the attacks began, and the windows of the faults."""

    started: float = field(default_factory=time.monotonic)
    attacks_from: float = 0.0
    faults: list[tuple[float, float, str]] = field(default_factory=list)

    def phase(self, moment: float) -> str:
        if any(start <= moment <= end + FAULT_MARGIN for start, end, _ in self.faults):
            return "fault"
        return "attack" if moment >= self.attacks_from else "quiet"


class Soak:
    def __init__(self, seconds: float, scale: int, workdir: Path) -> None:
        self.seconds = seconds
        self.scale = scale
        self.workdir = workdir
        self.pg = EmbeddedPostgres(workdir / "pg")
        self.timeline = Timeline()
        self.rss_peak_mb = 0.0
        self.rss_baseline_mb = 0.0

    # -- setup ------------------------------------------------------------------------

    async def setup(self) -> None:
        await asyncio.to_thread(self.pg.start, owner=True)
        self.dsn = self.pg.dsn()
        conn = await asyncpg.connect(self.dsn)
        try:
            await apply_migrations(conn, discover_migrations())
        finally:
            await conn.close()
        self.relays = [RelayProcess(self.dsn, self.workdir / f"relay-{n}") for n in range(2)]
        for relay in self.relays:
            await relay.start()
        self.rss_baseline_mb = sum(self._rss(relay) for relay in self.relays)
        unit = self._unit
        red_id, red_token = await unit("TG-SOAK-RED", "TG")
        self.subscribers = [
            Subscriber("TG-SOAK-S0", self._url(0), (await unit("TG-SOAK-S0", "TG"))[1],
                       frozenset({"tg", "all"})),
            Subscriber(red_id, self._url(1), red_token, frozenset({"tg", "all", "red"})),
            Subscriber("FR-SOAK-S2", self._url(1), (await unit("FR-SOAK-S2", "FR"))[1],
                       frozenset({"all"})),
        ]
        self.responder = Responder(self._url(0), self.subscribers[0].token)
        self.subscribers[0].on_alert = self.responder.queue
        self.publishers = [
            Publisher(f"ML-SOAK-P{n}", self._url(n % 2), (await unit(f"ML-SOAK-P{n}", "ML"))[1],
                      red_id, PUBLISH_RATE)
            for n in range(3)
        ]
        self.target = Target(
            stream_ports=[relay.stream_port for relay in self.relays],
            http_ports=[relay.http_port for relay in self.relays],
            attacker_token=(await unit("ML-SOAK-ATTACKER", "ML"))[1],
            audit_token=(await unit("TG-SOAK-AUDIT", "TG", "audit"))[1],
            replay_tokens=[(await unit("TG-SOAK-REPLAY", "TG"))[1],
                           (await unit("BR-SOAK-STRANGER", "BR"))[1]],
        )

    async def _unit(self, unit_id: str, country: str, roles: str = "publish,subscribe") -> tuple[str, str]:
        return await create_unit(self.dsn, unit_id, country=country, roles=roles)

    def _url(self, relay: int) -> str:
        return self.relays[relay].url

    @staticmethod
    def _rss(relay: RelayProcess) -> float:
        assert relay.process is not None
        with contextlib.suppress(psutil.Error):
            return float(psutil.Process(relay.process.pid).memory_info().rss) / 2**20
        return 0.0

    # -- the run ----------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        await self.setup()
        progress("relays and database up; subscribing")
        feeds = [asyncio.create_task(sub.run()) for sub in self.subscribers]
        async with asyncio.timeout(30):
            for sub in self.subscribers:
                await sub.subscribed.wait()
        responding = asyncio.create_task(self.responder.run())
        publishing = [asyncio.create_task(pub.run()) for pub in self.publishers]
        self.timeline = Timeline()
        self.timeline.attacks_from = self.timeline.started + QUIET * self.seconds
        attacks = Attacks(self.target, scale=self.scale)
        background = [asyncio.create_task(self._attack(attacks)),
                      asyncio.create_task(self._faults()),
                      asyncio.create_task(self._watch_memory())]
        progress(f"traffic for {self.seconds:.0f} s")
        await asyncio.sleep(self.seconds)
        progress("stopping the attacks and faults")
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for pub in self.publishers:
            pub.stopping = True
        progress("waiting for the last acks and receipts")
        async with asyncio.timeout(120):
            await asyncio.gather(*publishing)
            await self.responder.queue.join()
        responding.cancel()
        progress("waiting for every acknowledged alert to be delivered")
        await self._until_delivered()
        progress("counting")
        for sub in self.subscribers:
            sub.stopping = True
        for task in feeds:
            task.cancel()
        ended = await asyncio.gather(responding, *feeds, *background, return_exceptions=True)
        report = await self._report(attacks)
        report["crashed"] = [repr(result) for result in ended if isinstance(result, Exception)]
        for relay in self.relays:
            await relay.stop()
        return report

    async def _attack(self, attacks: Attacks) -> None:
        """Each attack alone for a slot, then all of them at once until the end."""
        await asyncio.sleep(self.timeline.attacks_from - time.monotonic())
        named = attacks.all
        slot = (1 - QUIET) * self.seconds / (len(named) + 2)
        for name, attack in named.items():
            progress(f"attack: {name}")
            await run_for(attack, slot)
        progress("attack: all at once")
        await asyncio.gather(*(attack() for attack in named.values()))

    async def _faults(self) -> None:
        plan: list[tuple[float, str, int]] = [(at, "kill", relay) for at, relay in KILLS]
        plan.append((DATABASE_RESTART, "database_restart", -1))
        for at, kind, relay in sorted(plan):
            await asyncio.sleep(self.timeline.started + at * self.seconds - time.monotonic())
            started = time.monotonic()
            progress(f"fault: {kind} {relay if relay >= 0 else ''}")
            if kind == "kill":
                await self.relays[relay].kill()
                await self.relays[relay].start()
            else:
                await asyncio.to_thread(self.pg.force_stop)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(self.pg.start, owner=True)
            self.timeline.faults.append((started, time.monotonic(), kind))

    async def _watch_memory(self) -> None:
        while True:
            self.rss_peak_mb = max(self.rss_peak_mb, sum(self._rss(r) for r in self.relays))
            await asyncio.sleep(0.1)

    def _expected(self, sub: Subscriber) -> set[str]:
        return {key for pub in self.publishers for key in pub.acked
                if pub.audiences[key] in sub.sees}

    async def _until_delivered(self, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if all(self._expected(sub) <= set(sub.received) for sub in self.subscribers):
                return
            await asyncio.sleep(0.2)

    async def _read_store(self) -> None:
        """How many times each publisher's key was stored; the responder's receipts."""
        self.stored_counts: dict[str, int] = {}
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch(
                "SELECT body_json FROM relay_events WHERE kind = 'alert' AND origin_unit = ANY($1)",
                [pub.name for pub in self.publishers])
            self.receipt_rows = await conn.fetch(
                "SELECT alert_id::text FROM relay_events WHERE kind = 'receipt' AND author_unit = $1",
                self.subscribers[0].name)
        finally:
            await conn.close()
        for row in rows:
            ext = orjson.loads(row["body_json"])["ext"]
            self.stored_counts[ext["soak"]] = self.stored_counts.get(ext["soak"], 0) + 1

    # -- the report -------------------------------------------------------------------

    async def _report(self, attacks: Attacks) -> dict[str, Any]:
        await self._read_store()
        audiences = {key: to for pub in self.publishers for key, to in pub.audiences.items()}
        acked = {key for pub in self.publishers for key in pub.acked}
        stored = set(self.stored_counts)
        delivered: dict[str, Any] = {}
        for sub in self.subscribers:
            expected = self._expected(sub)
            got = set(sub.received)
            delivered[sub.name] = {
                "expected": len(expected), "received": len(got),
                "missing": len(expected - got), "repeated": sub.repeated,
                "out_of_order": sub.out_of_order,
                "not_allowed": sum(1 for key in got if audiences.get(key) not in sub.sees),
                "reconnects": sub.reconnects,
            }
        receipt_ids = [row["alert_id"] for row in self.receipt_rows]
        receipts = {"acked": len(self.responder.acked), "stored": len(set(receipt_ids)),
                    "duplicates": len(receipt_ids) - len(set(receipt_ids)),
                    "lost": len(self.responder.acked - set(receipt_ids)),
                    "rejected": len(self.responder.rejected)}
        stored_twice = sum(count - 1 for count in self.stored_counts.values())
        lost = (len(acked - stored) + sum(d["missing"] for d in delivered.values())
                + receipts["lost"])
        duplicates = (stored_twice + receipts["duplicates"]
                      + sum(d["repeated"] for d in delivered.values()))
        bystander = self.subscribers[0]
        phases: dict[str, list[float]] = {"quiet": [], "attack": [], "fault": []}
        for sent, seconds in bystander.latencies:
            phases[self.timeline.phase(sent)].append(seconds)
        return {
            "seconds": self.seconds, "relays": len(self.relays),
            "kills": sum(1 for *_, kind in self.timeline.faults if kind == "kill"),
            "database_restarts": sum(1 for *_, kind in self.timeline.faults
                                     if kind == "database_restart"),
            "published": {"sent": sum(p.sent for p in self.publishers), "acked": len(acked),
                          "duplicate_acks": sum(p.duplicate_acks for p in self.publishers),
                          "rejected": sum(len(p.rejected) for p in self.publishers)},
            "stored": {"alerts": sum(self.stored_counts.values()), "distinct": len(stored),
                       "stored_twice": stored_twice, "acked_not_stored": len(acked - stored),
                       "stored_not_acked": len(stored - acked)},
            "receipts": receipts,
            "delivered": delivered,
            "lost": lost,
            "duplicates": duplicates,
            "bystander_latency": {name: latency_summary(values) for name, values in phases.items()},
            "relay_rss_mb": {"baseline": round(self.rss_baseline_mb, 1),
                             "peak": round(self.rss_peak_mb, 1),
                             "after": round(sum(self._rss(r) for r in self.relays), 1)},
            "relay_log": self._log_summary(),
            "attacks": dict(sorted(attacks.outcomes.items())),
        }

    def _log_summary(self) -> dict[str, Any]:
        lines, errors = 0, []
        for relay in self.relays:
            for line in relay.log_path.read_text(errors="replace").splitlines():
                lines += 1
                if '"level": "error"' in line or '"level":"error"' in line:
                    errors.append(line[:300])
        return {"lines": lines, "errors": len(errors), "first_errors": errors[:5]}

    def teardown(self) -> None:
        for relay in getattr(self, "relays", []):
            if relay.process is not None and relay.process.poll() is None:
                relay.process.kill()
        self.pg.force_stop()


def failed(report: dict[str, Any]) -> list[str]:
    """What the run must never show."""
    problems = [f"the load itself failed: {crash}" for crash in report["crashed"]]
    if report["lost"]:
        problems.append(f"{report['lost']} acknowledged items lost")
    if report["duplicates"]:
        problems.append(f"{report['duplicates']} items stored or delivered twice")
    for name, counts in report["delivered"].items():
        if counts["out_of_order"] or counts["not_allowed"]:
            problems.append(f"{name}: {counts['out_of_order']} out of order, "
                            f"{counts['not_allowed']} it may not see")
    undefended = {name: count for name, count in report["attacks"].items()
                  if name.endswith((":not_cut", ":accepted", ":held"))}
    if undefended:
        problems.append(f"attacks the relay did not cut or refuse: {undefended}")
    if report["published"]["rejected"] or report["receipts"]["rejected"]:
        problems.append("valid publishes or receipts were refused")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="length of the run (default 5)")
    length.add_argument("--seconds", type=float, help="length of the run, in seconds")
    parser.add_argument("--scale", type=int, default=1, help="multiplies the attackers' connections")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    seconds = args.seconds or (args.minutes or 5) * 60
    workdir = Path(tempfile.mkdtemp(prefix="relay-soak-"))
    soak = Soak(seconds, args.scale, workdir)
    try:
        report = asyncio.run(soak.run())
    finally:
        soak.teardown()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                         "workdir": str(workdir) if args.keep else None}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    problems = failed(report)
    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
