"""Benchmark of federation (issue 12): two national relays, SN pulling from ML over a link.

Run from the repository root:  ``.venv/bin/python bench/bench_federation.py``  (about two
minutes; ``--quick`` for a smoke run of about 15 s; sizes by flags, see ``--help``).
Figures and what limits them: docs/performance.md, "Federation".

Everything runs on this machine: one embedded PostgreSQL in a temporary directory with a
database per relay, two ``relay serve`` processes (``ML`` and ``SN``, each on its own
database, with bench/bench_relay.py's configuration: publish limits raised), and the load
generator (this process plus subscriber worker processes, bench/workers.py). ML grants SN
the country SN as ``relay peers add SN --countries SN`` does
(:func:`relay.store.federation.grant_peer`); SN's configuration has ``[relay] id = "SN"``
and one ``[[federation.peers]]`` pulling from ML, the ``[federation]`` keys at their
defaults (``--apply-batch`` sets one). Publishers are ML units.

Scenarios, in this order:

- **throughput**: publishers at ML publish alerts distributed to SN as fast as acks come
  (a window of publishes in flight each); SN's ``relay_links.applied_events`` is sampled
  while they publish (steady state: the first 20 % is left out), then how long SN takes
  to apply what is left once they stop.
- **latency**: one publisher at ML at a fixed, modest rate, alerts distributed to ML and
  SN, so that the same alert is timed to a live subscriber at ML (local) and at SN
  (across the link). Beside it: ML's own publish -> commit histogram, and an fdatasync
  probe on the same disk (what every durable commit waits for).
- **catch-up**: SN stopped (SIGTERM), N alerts published at ML, SN started again; the time
  from the link coming up (SN's log) to the last batch applied (``relay_links.applied_at``),
  and the resident memory of SN's process meanwhile (VmRSS sampled, VmHWM at the end). It
  runs for N/10 and then N: a peak that does not grow with the backlog is bounded.

For each phase: the CPU used by each process (in cores) and how many events each
transaction stored (rows sharing an ``xmin`` were inserted by one transaction). A short
report is printed; ``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import psutil
import structlog
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_relay import CONFIG, Bench, _drain, _sleep_until, add_unit, alert, ms, pct  # noqa: E402
from bench.workers import subscriber_worker  # noqa: E402
from relay.store.admin import Actor  # noqa: E402
from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.federation import grant_peer  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402
from tests.support import RelayProcess  # noqa: E402

OPERATOR = Actor("cli:bench", "CLI", "bench/bench_federation.py")
TO_SN = {"countries": ["SN"]}
TO_BOTH = {"countries": ["ML", "SN"]}
JSON_PROTOCOL = Subprotocol("relay.v1.json")
COMMIT_HISTOGRAM = "relay_publish_commit_seconds"  # publish queued -> committed, at ML


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    publishers: int = 4
    window: int = 200             # publishes in flight per publisher
    throughput_alerts: int = 40_000
    rate: float = 100.0           # alerts/s of the latency scenario
    seconds: float = 15.0
    catchup_alerts: int = 100_000
    apply_batch: int | None = None  # [federation] apply_batch of SN (None: the relay's default)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(publishers=2, throughput_alerts=2_000, rate=50.0, seconds=2.0,
                   catchup_alerts=2_000)


@dataclasses.dataclass
class Memory:
    """Resident memory of one process, sampled from /proc/<pid>/status."""

    pid: int
    samples: list[tuple[float, int]] = dataclasses.field(default_factory=list)  # (monotonic, VmRSS kB)

    def status(self) -> dict[str, int]:
        values: dict[str, int] = {}
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        values[line.split(":")[0]] = int(line.split()[1])
        except OSError:
            pass
        return values

    def sample(self) -> None:
        rss = self.status().get("VmRSS")
        if rss is not None:
            self.samples.append((time.monotonic(), rss))

    def peak_mb(self) -> float | None:
        return round(max(rss for _, rss in self.samples) / 1024, 1) if self.samples else None


def mb(kilobytes: int | None) -> float | None:
    return None if kilobytes is None else round(kilobytes / 1024, 1)


async def histogram(url: str, name: str) -> list[tuple[float, float]]:
    """The cumulative buckets ``(le, count)`` of one histogram of a relay's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        text = await response.text()
    return [(float(line.split('le="')[1].split('"')[0]), float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines() if line.startswith(f"{name}_bucket")]


def bucket_quantiles(before: list[tuple[float, float]], after: list[tuple[float, float]],
                     qs: Sequence[float] = (0.5, 0.99)) -> dict[str, Any]:
    """Upper bounds (ms) of the buckets holding each quantile of what was observed between
    two readings of a histogram."""
    counts = dict(before)
    delta = [(bound, count - counts.get(bound, 0.0)) for bound, count in after]
    total = delta[-1][1] if delta else 0.0
    figures: dict[str, Any] = {"observed": int(total)}
    for q in qs:
        bound = next((b for b, c in delta if total and c >= q * total), float("inf"))
        figures[f"p{round(q * 100)}_le_ms"] = bound * 1000 if bound != float("inf") else None
    return figures


def fsync_probe(path: Path, stop: threading.Event, every: float = 0.05) -> list[float]:
    """fdatasync of an 8 KiB write every ``every`` seconds until ``stop``; each one's
    duration (ns): what a durable commit waits for on this disk, measured beside the run."""
    durations: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while not stop.wait(every):
            os.pwrite(fd, b"\0" * 8192, 0)
            started = time.monotonic_ns()
            os.fdatasync(fd)
            durations.append(time.monotonic_ns() - started)
    finally:
        os.close(fd)
    return durations


def cpu_seconds(pid: int | None, *, tree: bool = False) -> float:
    """User + system CPU time of a process (and of its children, with ``tree``)."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)] if tree else [root]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


class CpuMeter:
    """CPU used by each side of the run between :meth:`start` and :meth:`stop`, in cores
    (1.0 = one core busy the whole time; the machine has ``os.cpu_count()``)."""

    def __init__(self, pids: dict[str, int | None], postmaster: int | None) -> None:
        self._pids = pids
        self._postmaster = postmaster
        self._started = 0.0
        self._before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        values = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        values["postgres"] = cpu_seconds(self._postmaster, tree=True)
        values["load_generator"] = cpu_seconds(os.getpid())
        return values

    def start(self) -> CpuMeter:
        self._started, self._before = time.monotonic(), self._now()
        return self

    def stop(self) -> dict[str, float]:
        elapsed = max(1e-6, time.monotonic() - self._started)
        after = self._now()
        return {name: round((after[name] - self._before.get(name, 0.0)) / elapsed, 2) for name in after}


class FederationBench:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.tmp = Path(tempfile.mkdtemp(prefix="relay-bench-federation-"))
        self.pg = EmbeddedPostgres(self.tmp / "pg")
        self.ctx = multiprocessing.get_context("spawn")
        self.key = 0
        self.results: dict[str, Any] = {}

    # -- setup ----------------------------------------------------------------------------
    async def setup(self) -> None:
        self.pg.start(owner=True)
        server = self.pg.dsn()
        conn = await asyncpg.connect(server)
        for name in ("relay_ml", "relay_sn"):
            await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()
        ml_dsn, sn_dsn = (server.replace("/postgres?", f"/{name}?") for name in ("relay_ml", "relay_sn"))
        conn = await asyncpg.connect(ml_dsn)
        await apply_migrations(conn, discover_migrations())
        self.publishers = [await add_unit(conn, f"ML-PUB-{i}", country="ML", airport=None, name="",
                                          roles=["publish", "subscribe"])
                           for i in range(max(1, self.sizes.publishers))]
        self.ml_subscriber = await add_unit(conn, "ML-SUB", country="ML", airport=None, name="",
                                            roles=["subscribe"])
        token_file = self.tmp / "sn-pulls-ml.token"
        token_file.write_text((await grant_peer(conn, OPERATOR, "SN", ["SN"])).token + "\n")
        await conn.close()
        conn = await asyncpg.connect(sn_dsn)
        await apply_migrations(conn, discover_migrations())
        self.sn_subscriber = await add_unit(conn, "SN-SUB", country="SN", airport=None, name="",
                                            roles=["subscribe"])
        await conn.close()

        self.ml = RelayProcess(ml_dsn, self.tmp / "ml", config_text=f'[relay]\nid = "ML"\n{CONFIG}')
        await self.ml.start()
        batch = "" if self.sizes.apply_batch is None else f"apply_batch = {self.sizes.apply_batch}\n"
        self.sn = RelayProcess(sn_dsn, self.tmp / "sn", config_text=(
            f'[relay]\nid = "SN"\n{CONFIG}\n[federation]\n{batch}\n'
            f'[[federation.peers]]\nid = "ML"\nurl = "{self.ml.url}"\ntoken_file = "{token_file}"\n'))
        await self.sn.start()
        self.sn_db = await asyncpg.connect(sn_dsn)
        self.ml_db = await asyncpg.connect(ml_dsn)
        await self.wait_link_up()

    def cpu(self) -> CpuMeter:
        pid_file = self.pg.pgdata / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        return CpuMeter({"ml_relay": self.ml.process.pid if self.ml.process else None,
                         "sn_relay": self.sn.process.pid if self.sn.process else None},
                        postmaster).start()

    @staticmethod
    async def head(db: asyncpg.Connection) -> int:
        return int(await db.fetchval("SELECT coalesce(max(seq), 0) FROM relay_events"))

    @staticmethod
    async def per_transaction(db: asyncpg.Connection, after: int) -> dict[str, Any]:
        """How the events after ``after`` were committed: each row's xmin is the
        transaction that inserted it."""
        row = await db.fetchrow("SELECT count(*) AS events, count(DISTINCT xmin::text) AS transactions"
                                " FROM relay_events WHERE seq > $1", after)
        assert row is not None
        events, transactions = int(row["events"]), int(row["transactions"])
        return {"events": events, "transactions": transactions,
                "events_per_transaction": round(events / transactions, 1) if transactions else None}

    def link_ups(self) -> list[datetime]:
        """When SN's link came up, from its log lines ``link_up`` (wall clock, UTC)."""
        text = self.sn.log_path.read_text(errors="replace") if self.sn.log_path.exists() else ""
        lines = (orjson.loads(line) for line in text.splitlines()
                 if line.startswith("{") and '"link_up"' in line)
        return [datetime.fromisoformat(line["timestamp"]) for line in lines
                if line.get("event") == "link_up"]

    async def wait_link_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while (await self.link())["state"] != "up":
            if time.monotonic() > deadline:
                raise TimeoutError(f"SN's link to ML is not up:\n{self.sn.log()}")
            await asyncio.sleep(0.1)

    async def link(self) -> dict[str, Any]:
        row = await self.sn_db.fetchrow(
            "SELECT state, position, applied_events, peer_head FROM relay_links WHERE peer_id = 'ML'")
        return dict(row) if row is not None else {"state": "none", "applied_events": 0}

    async def applied(self) -> int:
        return int((await self.link())["applied_events"])

    async def wait_applied(self, target: int, timeout: float) -> float:
        """Wait until SN applied ``target`` events in all; the moment it did."""
        deadline = time.monotonic() + timeout
        while await self.applied() < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"SN applied {await self.applied()} of {target} events"
                                   f" in {timeout} s:\n{self.sn.log()}")
            await asyncio.sleep(0.05)
        return time.monotonic()

    async def teardown(self) -> None:
        for relay in (getattr(self, "sn", None), getattr(self, "ml", None)):
            if relay is not None:
                await relay.stop()
        for db in (getattr(self, "sn_db", None), getattr(self, "ml_db", None)):
            if db is not None:
                await db.close()
        self.pg.force_stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- load -----------------------------------------------------------------------------
    def next_keys(self, count: int) -> range:
        keys = range(self.key, self.key + count)
        self.key += count
        return keys

    async def flood(self, token: str, count: int, distribution: dict[str, Any]) -> int:
        """Publish ``count`` alerts on one connection, ``window`` in flight; the acks."""
        keys = self.next_keys(count)
        async with connect(self.ml.url, subprotocols=[JSON_PROTOCOL], compression=None,
                           max_size=2**22, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.recv()
            credits = asyncio.Semaphore(self.sizes.window)
            reader = asyncio.create_task(_drain(ws, count, credits))
            for key in keys:
                await credits.acquire()
                body = alert(key)
                body["distribution"] = distribution
                await ws.send(orjson.dumps({"type": "publish", "id": f"f{key}", "alert": body}).decode())
            return await reader

    async def publish_all(self, total: int, distribution: dict[str, Any]) -> tuple[int, float]:
        """``total`` alerts from every publisher at once; (acked, seconds)."""
        shares = [total // len(self.publishers) + (1 if i < total % len(self.publishers) else 0)
                  for i in range(len(self.publishers))]
        started = time.monotonic()
        acked = await asyncio.gather(*(self.flood(token, share, distribution)
                                       for token, share in zip(self.publishers, shares, strict=True)
                                       if share))
        return sum(acked), time.monotonic() - started

    async def paced(self, rate: float, count: int, distribution: dict[str, Any]) -> range:
        keys = self.next_keys(count)
        async with connect(self.ml.url, subprotocols=[JSON_PROTOCOL], compression=None,
                           additional_headers={"Authorization": f"Bearer {self.publishers[0]}"}) as ws:
            await ws.recv()
            reader = asyncio.create_task(_drain(ws, count))
            start = time.monotonic()
            for n, key in enumerate(keys):
                await _sleep_until(start + n / rate)
                body = alert(key)
                body["distribution"] = distribution
                await ws.send(orjson.dumps({"type": "publish", "id": f"p{key}", "alert": body}).decode())
            await reader
        return keys

    def spawn_subscriber(self, url: str, token: str) -> tuple[list[Any], Any, Any]:
        ready, results, stop = self.ctx.Queue(), self.ctx.Queue(), self.ctx.Event()
        proc = self.ctx.Process(target=subscriber_worker, args=(url, [token], "relay", ready, stop, results))
        proc.start()
        ready.get(timeout=120)
        return [proc], stop, results

    # -- scenarios ------------------------------------------------------------------------
    async def throughput(self) -> dict[str, Any]:
        total = self.sizes.throughput_alerts
        base, ups = await self.applied(), len(self.link_ups())
        samples: list[tuple[float, int]] = []
        publishing = True

        async def sample() -> None:
            while publishing:
                samples.append((time.monotonic(), await self.applied() - base))
                await asyncio.sleep(0.2)

        ml_head, sn_head = await self.head(self.ml_db), await self.head(self.sn_db)
        sampler = asyncio.create_task(sample())
        cpu = self.cpu()
        started = time.monotonic()
        acked, seconds = await self.publish_all(total, TO_SN)
        publishing = False
        await sampler
        stopped = time.monotonic()
        cores = cpu.stop()
        behind = acked - (await self.applied() - base)
        done = await self.wait_applied(base + acked, timeout=300)
        # steady state: from 20 % of the publishing time (at least 1 s) to its end
        window = [(t, n) for t, n in samples if t >= started + max(1.0, 0.2 * seconds)]
        steady = None
        if len(window) >= 2 and window[-1][0] > window[0][0]:
            steady = round((window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]))
        return {"publishers": len(self.publishers), "window": self.sizes.window, "alerts": acked,
                "publish_seconds": round(seconds, 2), "acked_per_s": round(acked / seconds),
                "applied_per_s_steady": steady,
                "applied_per_s_overall": round(acked / (done - started)),
                "behind_when_publishing_stopped": behind,
                "drain_seconds_after": round(done - stopped, 2),
                "link_reconnects": len(self.link_ups()) - ups,
                "ml_commits": await self.per_transaction(self.ml_db, ml_head),
                "sn_applies": await self.per_transaction(self.sn_db, sn_head),
                "cpu_cores_while_publishing": cores}

    async def latency(self) -> dict[str, Any]:
        rate, seconds = self.sizes.rate, self.sizes.seconds
        ml_side = self.spawn_subscriber(self.ml.url, self.ml_subscriber)
        sn_side = self.spawn_subscriber(self.sn.url, self.sn_subscriber)
        base, sn_head = await self.applied(), await self.head(self.sn_db)
        count = int(rate * seconds)
        commits = await histogram(f"{self.ml.http}/metrics", COMMIT_HISTOGRAM)
        stop_probe = threading.Event()
        probe = asyncio.create_task(asyncio.to_thread(fsync_probe, self.tmp / "fsync-probe", stop_probe))
        cpu = self.cpu()
        keys = await self.paced(rate, count, TO_BOTH)
        cores = cpu.stop()
        stop_probe.set()
        fsyncs = await probe
        ml_commit = bucket_quantiles(commits, await histogram(f"{self.ml.http}/metrics", COMMIT_HISTOGRAM))
        await self.wait_applied(base + count, timeout=120)
        await asyncio.sleep(0.5)
        figures: dict[str, Any] = {"rate": rate, "alerts": count, "cpu_cores": cores,
                                   "ml_commit": ml_commit,
                                   "sn_applies": await self.per_transaction(self.sn_db, sn_head),
                                   "fdatasync_beside": {"count": len(fsyncs), "p50_ms": ms(pct(fsyncs, 0.5)),
                                                        "p99_ms": ms(pct(fsyncs, 0.99)),
                                                        "max_ms": ms(max(fsyncs)) if fsyncs else None}}
        for name, (procs, stop, results) in (("ml_local", ml_side), ("sn_across_link", sn_side)):
            samples = [float(lat) for key, lat in Bench.collect(procs, stop, results) if key in keys]
            figures[name] = {"deliveries": len(samples), "p50_ms": ms(pct(samples, 0.50)),
                             "p90_ms": ms(pct(samples, 0.90)), "p99_ms": ms(pct(samples, 0.99)),
                             "over_50_ms": sum(1 for lat in samples if lat > 50e6),
                             "max_ms": ms(max(samples)) if samples else None}
        return figures

    async def catch_up(self, count: int) -> dict[str, Any]:
        await self.sn.stop()
        base, sn_head = await self.applied(), await self.head(self.sn_db)
        assert self.ml.process is not None
        ml_memory = Memory(self.ml.process.pid)
        ml_before = ml_memory.status().get("VmRSS")
        acked, seconds = await self.publish_all(count, TO_SN)
        ml_memory.sample()
        spawned_at = datetime.now(UTC)
        spawned = time.monotonic()
        starting = asyncio.create_task(self.sn.start())
        while self.sn.process is None or self.sn.process.poll() is not None:
            await asyncio.sleep(0.005)  # until the new process exists
        memory = Memory(self.sn.process.pid)
        ready: float | None = None
        rss_at_ready = None
        cpu: CpuMeter | None = None
        progress: list[tuple[float, int]] = []  # (seconds since SN's start, applied), each second
        while True:
            memory.sample()
            ml_memory.sample()
            if ready is None and starting.done():
                await starting  # raises if SN did not start
                ready, rss_at_ready, cpu = time.monotonic(), memory.samples[-1][1], self.cpu()
            applied = await self.applied() - base
            if not progress or time.monotonic() - spawned >= progress[-1][0] + 1.0:
                progress.append((round(time.monotonic() - spawned, 2), applied))
            if ready is not None and applied >= acked:
                done = time.monotonic()
                progress.append((round(done - spawned, 2), applied))
                break
            if time.monotonic() - spawned > 600:
                raise TimeoutError(f"catch-up: {applied} of {acked} applied"
                                   f" in 600 s:\n{self.sn.log()}")
            await asyncio.sleep(0.05)
        assert cpu is not None
        cores = cpu.stop()
        status = memory.status()
        ups = [when for when in self.link_ups() if when >= spawned_at]
        link_up = min(ups, default=None)  # the first: a reconnect during the catch-up counts in
        applied_at = await self.sn_db.fetchval("SELECT applied_at FROM relay_links WHERE peer_id = 'ML'")
        catching_up = (applied_at - link_up).total_seconds() if link_up and applied_at else None
        return {"alerts": acked, "published_in_s": round(seconds, 2),
                "start_to_ready_s": round(ready - spawned, 2),
                "link_up_after_start_s": round((link_up - spawned_at).total_seconds(), 2) if link_up else None,
                "start_to_all_applied_s": round(done - spawned, 2),
                "link_up_to_all_applied_s": round(catching_up, 2) if catching_up else None,
                "applied_per_s": round(acked / catching_up) if catching_up else None,
                "link_reconnects": max(0, len(ups) - 1),
                "sn_applies": await self.per_transaction(self.sn_db, sn_head),
                "sn_rss_at_ready_mb": mb(rss_at_ready), "sn_rss_peak_sampled_mb": memory.peak_mb(),
                "sn_vmhwm_mb": mb(status.get("VmHWM")), "sn_rss_end_mb": mb(status.get("VmRSS")),
                "ml_rss_before_publishing_mb": mb(ml_before),
                "ml_rss_before_catch_up_mb": mb(ml_memory.samples[0][1]),
                "ml_rss_peak_sampled_mb": ml_memory.peak_mb(),
                "cpu_cores_from_ready": cores, "progress": progress}

    async def run(self) -> dict[str, Any]:
        await self.setup()
        r = self.results
        r["throughput"] = await self.throughput()
        r["latency"] = await self.latency()
        n = self.sizes.catchup_alerts
        r["catch_up_small"] = await self.catch_up(max(1, n // 10))
        r["catch_up"] = await self.catch_up(n)
        return r


def report(results: dict[str, Any]) -> str:
    t, lat = results["throughput"], results["latency"]
    steady = t["applied_per_s_steady"]
    lines = [
        f"throughput: {t['publishers']} publishers at ML, {t['alerts']:,} alerts to SN in"
        f" {t['publish_seconds']} s: ML acked {t['acked_per_s']:,}/s; SN applied"
        f" {'n/a' if steady is None else f'{steady:,}'}/s steady, {t['applied_per_s_overall']:,}/s"
        f" overall, {t['behind_when_publishing_stopped']:,} behind when publishing stopped, all"
        f" applied {t['drain_seconds_after']} s later; {t['sn_applies']['events_per_transaction']}"
        f" events per transaction at SN ({t['ml_commits']['events_per_transaction']} per commit at"
        f" ML); link reconnects {t['link_reconnects']}; cores {t['cpu_cores_while_publishing']}",
        f"latency at {lat['rate']:g} alerts/s ({lat['alerts']:,} alerts):"
        f" local at ML p50 {lat['ml_local']['p50_ms']} ms p99 {lat['ml_local']['p99_ms']} ms;"
        f" at SN across the link p50 {lat['sn_across_link']['p50_ms']} ms"
        f" p99 {lat['sn_across_link']['p99_ms']} ms"
        f" (deliveries {lat['ml_local']['deliveries']:,} / {lat['sn_across_link']['deliveries']:,});"
        f" ML's own publish->commit p99 <= {lat['ml_commit']['p99_le_ms']} ms; an fdatasync beside"
        f" the run: p99 {lat['fdatasync_beside']['p99_ms']} ms, max {lat['fdatasync_beside']['max_ms']} ms",
    ]
    for name in ("catch_up_small", "catch_up"):
        c = results[name]
        lines.append(
            f"catch-up of {c['alerts']:,}: link up {c['link_up_after_start_s']} s after SN's start,"
            f" all applied {c['link_up_to_all_applied_s']} s later ({c['applied_per_s'] or 0:,} alerts/s,"
            f" {c['sn_applies']['events_per_transaction']} per transaction); SN resident memory at ready"
            f" {c['sn_rss_at_ready_mb']} MB, peak {c['sn_vmhwm_mb']} MB (VmHWM); ML peak"
            f" {c['ml_rss_peak_sampled_mb']} MB; cores {c['cpu_cores_from_ready']}")
    return "\n".join(lines)


def parse_sizes(argv: Sequence[str] | None = None) -> tuple[Sizes, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--publishers", type=int, help="publisher connections at ML (default 4)")
    parser.add_argument("--window", type=int, help="publishes in flight per publisher (200)")
    parser.add_argument("--throughput-alerts", type=int, help="alerts of the throughput run (40,000)")
    parser.add_argument("--rate", type=float, help="alerts/s of the latency run (100)")
    parser.add_argument("--seconds", type=float, help="length of the latency run (15)")
    parser.add_argument("--catchup-alerts", type=int, help="alerts published while SN is down (100,000)")
    parser.add_argument("--apply-batch", type=int, help="SN's [federation] apply_batch (relay default)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    base = Sizes.quick() if args.quick else Sizes()
    chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(Sizes)
              if getattr(args, f.name) is not None}
    return dataclasses.replace(base, **chosen), args.json


async def run_then_tear_down(bench: Any) -> dict[str, Any]:
    """``bench.run()``, its teardown whatever happens."""
    try:
        result: dict[str, Any] = await bench.run()
        return result
    finally:
        await bench.teardown()


def run_measured(bench: Any, sizes: Any) -> dict[str, Any]:
    """Run ``bench`` with the relay's own logs quiet; its results with the sizes and the
    machine it ran on (bench_federation, bench_protection)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started, load_before = time.monotonic(), os.getloadavg()
    results = asyncio.run(run_then_tear_down(bench))
    results["sizes"] = dataclasses.asdict(sizes)
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                          "seconds": round(time.monotonic() - started, 1),
                          # other work on the machine shows here: this run alone keeps ~1.5 busy
                          "load_average_1min_before_after": [round(load_before[0], 2),
                                                             round(os.getloadavg()[0], 2)]}
    return results


def main() -> None:
    sizes, json_path = parse_sizes()
    results = run_measured(FederationBench(sizes), sizes)
    print(report(results))
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
