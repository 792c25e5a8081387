"""Benchmark of the masking job (issue 13): a million passenger alerts due for masking,
masked by the relay's own scheduled run while a unit keeps publishing.

Run from the repository root:  ``.venv/bin/python bench/bench_protection.py``  (1,000,000
alerts: 10 to 15 minutes on 2 cores; ``--alerts N`` for another size, see ``--help``).
Figures and what limits them: docs/performance.md, "Masking". Results are printed and
written to ``bench/results/protection.json`` (``--json PATH`` for another file).

Everything runs on this machine: an embedded PostgreSQL in a temporary directory,
migrated; a protection key file beside it, installed in this process and given to every
other (``RELAY_PROTECTION_KEY_FILE``); ``relay serve`` on that database with
bench/bench_relay.py's configuration (publish limits raised) and ``[protection]
run_every_seconds`` of a day, so that the one run of the jobs in the measurement is the
one at the relay's start.

Phases, in this order:

- **seed**: N passenger alerts (bench/bench_relay.py's ``passenger_alert``, every personal
  field distinct per alert) stored through the relay's own write path, sealed as
  publishing seals them (:func:`relay.store.writer.new_events` and ``relay_append()``),
  in batches, by ``--seeders`` processes; each was received 200 days ago, so every one is
  due for masking (default ``mask_after_days`` 183). Then ``VACUUM ANALYZE``, as
  autovacuum would have done in those 200 days, and a ``CHECKPOINT`` with a ``sync``, so
  that the seed's gigabytes are on disk before anything is measured.
- **baseline**: the relay started with ``mask_after_days`` so large that nothing is due;
  one publisher unit publishes passenger alerts at ``--rate`` for ``--seconds``, each
  publish timed from its send to its ack. Then the relay is stopped.
- **masking**: the relay started again with the default ``mask_after_days``: its start-up
  run masks the N alerts. From the moment it is ready, the same publisher publishes at
  the same rate until the run is recorded (``relay_protection_runs``) and for at least
  ``--seconds``; a publish counts as *during* the masking when it was sent between the
  run's start and end (``as_of`` and ``at`` of its record, which also give its duration).
  Its progress is sampled from relay_masks' insert counter each second, with the relay's
  VmRSS. ``--masking-rate 0`` measures the job alone, with nothing published meanwhile.

Beside both publishing phases: the relay's own publish -> commit histogram, the CPU each
side used, and an fdatasync probe on the same disk (the machine may be shared: other
work shows there, and in the load average recorded). Around them: the relay's resident
memory (VmRSS sampled, VmHWM, from /proc/PID/status) and the database's size before and
after the masking. A peak memory that does not grow with N is bounded: compare a run at
``--alerts 100000``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import uuid_utils
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_KEY_FILE_BEFORE = os.environ.get("RELAY_PROTECTION_KEY_FILE")  # tests.support sets one

from bench.bench_federation import (  # noqa: E402
    COMMIT_HISTOGRAM,
    CpuMeter,
    Memory,
    bucket_quantiles,
    fsync_probe,
    histogram,
    mb,
    run_measured,
)
from bench.bench_relay import CONFIG, _sleep_until, add_unit, ms, passenger_alert, pct  # noqa: E402
from relay import protection  # noqa: E402
from relay.contract.facts import alert_facts  # noqa: E402
from relay.contract.times import rfc3339  # noqa: E402
from relay.contract.validation import validate_alert  # noqa: E402
from relay.contract.wire import encode_body  # noqa: E402
from relay.core.events import PendingEvent  # noqa: E402
from relay.protection.keyring import Keyring  # noqa: E402
from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402
from relay.store.writer import new_events  # noqa: E402
from tests.support import TEST_KEY_FILE, RelayProcess  # noqa: E402

JSON_PROTOCOL = Subprotocol("relay.v1.json")
UNIT = "ML-PUB-0"
AGE = timedelta(days=200)  # every seeded alert is due: mask_after_days is 183 by default
APPEND = "SELECT o_seq, o_duplicate FROM relay_append($1::relay_new_event[])"
NOTHING_DUE = "[protection]\nmask_after_days = 100000\ndelete_after_days = 100001\nrun_every_seconds = 86400\n"
DEFAULTS = "[protection]\nrun_every_seconds = 86400\n"  # masking as configured by default


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    alerts: int = 1_000_000
    seeders: int = 2        # processes sealing and appending the seed
    seed_batch: int = 2_000  # alerts per relay_append()
    rate: float = 200.0     # alerts/s published in the baseline and during the masking
    seconds: float = 10.0   # length of the baseline (and the least publishing while masking)
    masking_rate: float | None = None  # alerts/s published during the masking (None: rate; 0: none)
    job_batch: int | None = None  # [protection] batch of the masking run (None: the default)
    pause_ratio: float | None = None  # [protection] pause_ratio of the masking run (None: the default)
    yield_above_ms: float | None = None  # [protection] yield_above_ms of the masking run
    max_slowdown: float | None = None  # [protection] max_slowdown of the masking run (1: never slowed)
    under: str | None = None  # the directory for the database and the relays (None: the system's temporary one)

    def job_config(self) -> str:
        """The [protection] section of the masking run."""
        lines = [DEFAULTS]
        if self.job_batch is not None:
            lines.append(f"batch = {self.job_batch}\n")
        if self.pause_ratio is not None:
            lines.append(f"pause_ratio = {self.pause_ratio}\n")
        if self.yield_above_ms is not None:
            lines.append(f"yield_above_ms = {self.yield_above_ms}\n")
        if self.max_slowdown is not None:
            lines.append(f"max_slowdown = {self.max_slowdown}\n")
        return "".join(lines)


# -- seed ----------------------------------------------------------------------------------

def template_alert() -> dict[str, Any]:
    """The normalised form of bench_relay's passenger alert, validated once: the seed
    varies only its subjects (where every personal field is) and its ``ext``."""
    template = validate_alert(passenger_alert(0), known_units=frozenset(), regions={})
    raw = passenger_alert(1)
    if validate_alert(raw, known_units=frozenset(), regions={}) != vary(template, raw):
        raise AssertionError("validation changes more than the subjects and ext of the alert")
    return template


def vary(template: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    return {**template, "subjects": raw["subjects"], "ext": raw["ext"]}


@dataclasses.dataclass(frozen=True, slots=True)
class SeedJob:
    dsn: str
    key_file: str
    template: dict[str, Any]
    first_batches: tuple[int, ...]  # the first key of each batch this process stores
    batch: int
    total: int
    received_from: datetime  # the received_at of key 0; key k is k ms later


def seed_worker(job: SeedJob) -> int:
    """One seeding process: its batches sealed and appended in order; how many it stored."""
    return asyncio.run(_seed(job))


async def _seed(job: SeedJob) -> int:
    protection.install(Keyring.open(Path(job.key_file)))
    facts = alert_facts(job.template)
    conn = await asyncpg.connect(job.dsn)
    stored = 0
    try:
        for first in job.first_batches:
            batch = []
            for key in range(first, min(first + job.batch, job.total)):
                received_at = job.received_from + timedelta(milliseconds=key)
                alert_id = str(uuid_utils.uuid7())
                body = {**vary(job.template, passenger_alert(key)), "alert_id": alert_id,
                        "origin_unit": UNIT, "received_at": rfc3339(received_at)}
                body_json, body_msgpack = encode_body(body)
                batch.append(PendingEvent(UNIT, f"seed-{key}", "alert", alert_id, UNIT, received_at,
                                          facts, None, body_json, body_msgpack))
            rows = await conn.fetch(APPEND, new_events(batch))
            if len(rows) != len(batch) or any(row["o_duplicate"] for row in rows):
                raise AssertionError(f"relay_append stored {len(rows)} of {len(batch)} as new")
            stored += len(rows)
    finally:
        await conn.close()
    return stored


# -- the bench -----------------------------------------------------------------------------

@dataclasses.dataclass
class Publishes:
    """Publishes of one phase: each one's send moment (wall clock) and send -> ack (ns)."""

    sent: int = 0
    refused: int = 0  # unavailable, resent with the same id
    acks: list[tuple[float, int]] = dataclasses.field(default_factory=list)

    def figures(self, keep: Callable[[float], bool] = lambda at: True) -> dict[str, Any]:
        latencies = [float(lat) for at, lat in self.acks if keep(at)]
        return {"acked": len(latencies), "p50_ms": ms(pct(latencies, 0.5)) if latencies else None,
                "p99_ms": ms(pct(latencies, 0.99)) if latencies else None,
                "max_ms": ms(max(latencies)) if latencies else None,
                "over_100_ms": sum(1 for lat in latencies if lat > 100e6)}


def disk_writes(path: Path) -> tuple[int, int] | None:
    """Write requests completed and bytes written so far by the disk holding ``path``
    (/proc/diskstats; None where it cannot be read)."""
    device = os.stat(path).st_dev
    try:
        lines = Path("/proc/diskstats").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        f = line.split()
        if (int(f[0]), int(f[1])) == (os.major(device), os.minor(device)):
            return int(f[7]), int(f[9]) * 512
    return None


class Beside:
    """What a phase is read against: the CPU each side used, the relay's own publish ->
    commit histogram (from its /metrics), an fdatasync probe on the same disk (what every
    durable commit waits for; other work on the machine shows there) and what that disk
    wrote meanwhile (every process's writes, the database's among them)."""

    def __init__(self, relay: RelayProcess, cpu: CpuMeter, probe_file: Path) -> None:
        self.relay, self.cpu, self.probe_file = relay, cpu, probe_file

    async def __aenter__(self) -> Beside:
        self.commits = await histogram(f"{self.relay.http}/metrics", COMMIT_HISTOGRAM)
        self.disk, self.started = disk_writes(self.probe_file.parent), time.monotonic()
        self.stop_probe = threading.Event()
        self.probe = asyncio.create_task(asyncio.to_thread(fsync_probe, self.probe_file, self.stop_probe))
        self.cpu.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cores = self.cpu.stop()
        self.stop_probe.set()
        fsyncs = await self.probe
        seconds, disk = max(1e-6, time.monotonic() - self.started), disk_writes(self.probe_file.parent)
        self.figures = {
            "disk_beside": None if self.disk is None or disk is None else {
                "writes_per_s": round((disk[0] - self.disk[0]) / seconds),
                "written_mb_per_s": round((disk[1] - self.disk[1]) / seconds / 1e6, 2)},
            "cpu_cores": self.cores,
            "relay_publish_to_commit": bucket_quantiles(
                self.commits, await histogram(f"{self.relay.http}/metrics", COMMIT_HISTOGRAM)),
            "fdatasync_beside": {"count": len(fsyncs), "p50_ms": ms(pct(fsyncs, 0.5)),
                                 "p99_ms": ms(pct(fsyncs, 0.99)),
                                 "max_ms": ms(max(fsyncs)) if fsyncs else None}}


class ProtectionBench:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.tmp = Path(tempfile.mkdtemp(prefix="relay-bench-protection-", dir=sizes.under))
        self.pg = EmbeddedPostgres(self.tmp / "pg")
        self.key_file = self.tmp / "protection.key"
        self.key = sizes.alerts  # published alerts' keys follow the seed's
        self.relay: RelayProcess | None = None
        self.db: asyncpg.Connection | None = None
        self.results: dict[str, Any] = {}

    async def setup(self) -> None:
        protection.install(Keyring.open_or_create(self.key_file)[0])
        # Every relay started here (tests.support.RelayProcess passes os.environ on) and
        # every seeding process seals under this file.
        os.environ["RELAY_PROTECTION_KEY_FILE"] = str(self.key_file)
        self.pg.start(owner=True)
        server = self.pg.dsn()
        conn = await asyncpg.connect(server)
        await conn.execute("CREATE DATABASE relay_bench")
        await conn.close()
        self.dsn = server.replace("/postgres?", "/relay_bench?")
        self.db = await asyncpg.connect(self.dsn)
        await apply_migrations(self.db, discover_migrations())
        self.token = await add_unit(self.db, UNIT, country="ML", airport=None, name="",
                                    roles=["publish", "subscribe"])

    async def teardown(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
        if self.db is not None:
            await self.db.close()
        self.pg.force_stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if _KEY_FILE_BEFORE is None:  # the key file tests.support made for this process
            shutil.rmtree(TEST_KEY_FILE.parent, ignore_errors=True)

    @property
    def conn(self) -> asyncpg.Connection:
        assert self.db is not None
        return self.db

    def beside(self) -> Beside:
        assert self.relay is not None and self.relay.process is not None
        pid_file = self.pg.pgdata / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        return Beside(self.relay, CpuMeter({"relay": self.relay.process.pid}, postmaster),
                      self.tmp / "fsync-probe")

    async def sizes_mb(self) -> dict[str, float | None]:
        row = await self.conn.fetchrow("SELECT pg_database_size(current_database()) AS db,"
                                       " pg_total_relation_size('relay_events') AS events,"
                                       " pg_total_relation_size('relay_masks') AS masks")
        assert row is not None
        return {"database_mb": mb(row["db"] // 1024), "relay_events_mb": mb(row["events"] // 1024),
                "relay_masks_mb": mb(row["masks"] // 1024)}

    # -- phases -----------------------------------------------------------------------------
    async def seed(self) -> dict[str, Any]:
        total, batch, seeders = self.sizes.alerts, self.sizes.seed_batch, max(1, self.sizes.seeders)
        template = template_alert()
        firsts = list(range(0, total, batch))
        received_from = datetime.now(UTC) - AGE
        jobs = [SeedJob(self.dsn, str(self.key_file), template, tuple(firsts[i::seeders]), batch,
                        total, received_from) for i in range(seeders)]
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            workers = [loop.run_in_executor(pool, seed_worker, job) for job in jobs]
            reported = 0
            while not all(worker.done() for worker in workers):
                await asyncio.wait(workers, timeout=5.0)
                head = int(await self.conn.fetchval("SELECT seq FROM relay_head"))
                if head >= reported + total // 10 and head < total:
                    reported = head
                    print(f"seeding: {head:,} of {total:,} in {time.monotonic() - started:.0f} s",
                          file=sys.stderr, flush=True)
            stored = sum(await asyncio.gather(*workers))
        seconds = time.monotonic() - started
        figures = {"alerts": stored, "seeders": len(jobs), "batch": batch,
                   "seconds": round(seconds, 1), "alerts_per_s": round(stored / seconds)}
        print(f"seeded {stored:,} passenger alerts in {seconds:.1f} s ({figures['alerts_per_s']:,}/s)",
              file=sys.stderr, flush=True)
        vacuum = time.monotonic()
        # Alerts stored that long ago would have been vacuumed (hint bits and visibility
        # map set) and analysed by autovacuum since: the masking starts from that table.
        await self.conn.execute("VACUUM ANALYZE relay_events")
        figures["vacuum_seconds"] = round(time.monotonic() - vacuum, 1)
        # ... and written to disk: the seed's gigabytes, still in the server's buffers and
        # the kernel's dirty pages, would otherwise be flushed during the measurements.
        flush = time.monotonic()
        await self.conn.execute("CHECKPOINT")
        await asyncio.to_thread(os.sync)
        figures["flush_seconds"] = round(time.monotonic() - flush, 1)
        return figures | await self.sizes_mb()

    async def start_relay(self, name: str, protection_config: str) -> Memory:
        self.relay = RelayProcess(self.dsn, self.tmp / name, config_text=f"{CONFIG}\n{protection_config}")
        await self.relay.start()
        assert self.relay.process is not None
        return Memory(self.relay.process.pid)

    async def publish(self, publishes: Publishes, rate: float, until: Callable[[], bool]) -> None:
        """One unit publishing at ``rate`` until ``until()`` is true; every ack timed from
        the first send. A publish refused as ``unavailable`` (the commit outlived the
        relay's deadline) is counted and resent with the same id, as its message asks."""
        assert self.relay is not None
        sent: dict[str, tuple[float, int, str]] = {}  # in flight: id -> (wall clock, ns, frame)
        resend: list[str] = []
        async with connect(self.relay.url, subprotocols=[JSON_PROTOCOL], compression=None,
                           additional_headers={"Authorization": f"Bearer {self.token}"}) as ws:
            await ws.recv()

            async def read() -> None:
                while True:
                    frame = orjson.loads(await ws.recv())
                    if frame["type"] == "ack":
                        at, t0, _ = sent.pop(frame["id"])
                        publishes.acks.append((at, time.monotonic_ns() - t0))
                    elif frame["type"] == "error":
                        if frame.get("code") != "unavailable" or frame.get("id") not in sent:
                            raise RuntimeError(f"publish refused: {frame}")
                        publishes.refused += 1
                        resend.append(frame["id"])

            async def resend_refused() -> None:
                while resend:
                    await ws.send(sent[resend.pop(0)][2])

            reader = asyncio.create_task(read())
            start = time.monotonic()
            while not until() and not reader.done():
                await _sleep_until(start + publishes.sent / rate)
                await resend_refused()
                key, self.key = self.key, self.key + 1
                text = orjson.dumps({"type": "publish", "id": f"p{key}",
                                     "alert": passenger_alert(key)}).decode()
                sent[f"p{key}"] = (time.time(), time.monotonic_ns(), text)
                await ws.send(text)
                publishes.sent += 1
            deadline = time.monotonic() + 60
            while sent and not reader.done() and time.monotonic() < deadline:
                await resend_refused()
                await asyncio.sleep(0.01)
            if reader.done():
                reader.result()  # raises what stopped it
            reader.cancel()
            if sent:
                raise TimeoutError(f"{len(sent)} publishes not acked within 60 s")

    def relay_warnings(self) -> dict[str, int]:
        """The relay's log lines at warning level or above, by event (what went wrong)."""
        assert self.relay is not None
        counts: dict[str, int] = {}
        for line in self.relay.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and ('"warning"' in line or '"error"' in line):
                entry = orjson.loads(line)
                if entry.get("level") in ("warning", "error", "critical"):
                    counts[entry["event"]] = counts.get(entry["event"], 0) + 1
        return counts

    async def baseline(self) -> dict[str, Any]:
        memory = await self.start_relay("relay-baseline", NOTHING_DUE)
        at_ready = memory.status()
        publishes = Publishes()
        async with self.beside() as beside:
            deadline = time.monotonic() + self.sizes.seconds
            await self.publish(publishes, self.sizes.rate, lambda: time.monotonic() >= deadline)
        end = memory.status()
        runs = await self.conn.fetchval("SELECT count(*) FROM relay_protection_runs")
        assert self.relay is not None
        await self.relay.stop()
        return {"rate": self.sizes.rate, "seconds": self.sizes.seconds, "published": publishes.sent,
                "refused_unavailable_then_resent": publishes.refused,
                "publish_to_ack": publishes.figures(), "protection_runs": runs,
                "relay_warnings": self.relay_warnings(),
                "relay_rss_at_ready_mb": mb(at_ready.get("VmRSS")),
                "relay_vmhwm_at_end_mb": mb(end.get("VmHWM")), **beside.figures}

    async def masking(self) -> dict[str, Any]:
        before = await self.sizes_mb()
        updates = await self.updated()
        spawned = time.monotonic()
        memory = await self.start_relay("relay-masking", self.sizes.job_config())
        ready = time.monotonic()
        at_ready = memory.status()
        run: dict[str, Any] = {}
        progress: list[tuple[float, int, float | None]] = []  # (s since start, masked, VmRSS MB)

        async def watch() -> None:
            while not run:
                memory.sample()
                progress.append((round(time.monotonic() - spawned, 1), await self.updated() - updates,
                                 mb(memory.samples[-1][1]) if memory.samples else None))
                row = await self.conn.fetchrow(
                    "SELECT as_of, at, masked FROM relay_protection_runs ORDER BY run_id DESC LIMIT 1")
                if row is not None:
                    run.update(row)
                    run["seen"] = time.monotonic()
                elif time.monotonic() - spawned > 1800:
                    raise TimeoutError("the relay's masking run took more than 30 minutes")
                else:
                    await asyncio.sleep(1.0)

        publishes = Publishes()
        rate = self.sizes.rate if self.sizes.masking_rate is None else self.sizes.masking_rate
        async with self.beside() as beside:
            watcher = asyncio.create_task(watch())
            least = ready + self.sizes.seconds
            if rate > 0:
                await self.publish(publishes, rate, lambda: watcher.done() and time.monotonic() >= least)
            await watcher
        end = memory.status()
        masked = int(await self.conn.fetchval(
            "SELECT count(*) FROM relay_masks"))
        seconds = (run["at"] - run["as_of"]).total_seconds()
        began, ended = run["as_of"].timestamp(), run["at"].timestamp()
        assert self.relay is not None
        logged = await self.relay.log_lines(lambda line: line.get("event") == "protection_run")
        line = next(line for line in logged if line.get("event") == "protection_run")
        return {"masked": masked, "masked_by_the_run": run["masked"], "logged_masked": line["masked"],
                "slowest": line.get("slowest"), "paused_seconds": line.get("paused_seconds"),
                "seconds": round(seconds, 2), "alerts_per_s": round(masked / seconds) if seconds else None,
                "ready_after_start_s": round(ready - spawned, 2),
                "recorded_after_start_s": round(run["seen"] - spawned, 1),
                "rate": rate, "published": publishes.sent,
                "refused_unavailable_then_resent": publishes.refused,
                "relay_warnings": self.relay_warnings(),
                "sent_before_the_run_began": sum(1 for at, _ in publishes.acks if at < began),
                "publish_to_ack_during": publishes.figures(lambda at: began <= at < ended),
                "publish_to_ack_after": publishes.figures(lambda at: at >= ended),
                "relay_rss_at_ready_mb": mb(at_ready.get("VmRSS")),
                "relay_vmhwm_at_ready_mb": mb(at_ready.get("VmHWM")),
                "relay_rss_peak_sampled_mb": memory.peak_mb(),
                "relay_vmhwm_at_end_mb": mb(end.get("VmHWM")), **beside.figures,
                "size_before": before, "size_after": await self.sizes_mb(),
                "progress": progress}

    async def updated(self) -> int:
        """Masking marks inserted so far (relay_masks' statistics, flushed about each second)."""
        await self.conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(await self.conn.fetchval(
            "SELECT coalesce(n_tup_ins, 0) FROM pg_stat_user_tables WHERE relname = 'relay_masks'"))

    async def run(self) -> dict[str, Any]:
        await self.setup()
        r = self.results
        r["seed"] = await self.seed()
        r["baseline"] = await self.baseline()
        r["masking"] = await self.masking()
        return r


def report(results: dict[str, Any]) -> str:
    s, b, m = results["seed"], results["baseline"], results["masking"]
    bl, during = b["publish_to_ack"], m["publish_to_ack_during"]
    return "\n".join([
        f"seed: {s['alerts']:,} passenger alerts in {s['seconds']} s ({s['alerts_per_s']:,}/s,"
        f" {s['seeders']} processes); database {s['database_mb']:,} MB",
        f"baseline at {b['rate']:g}/s: publish->ack p50 {bl['p50_ms']} ms p99 {bl['p99_ms']} ms"
        f" max {bl['max_ms']} ms ({bl['acked']:,} acks, {b['refused_unavailable_then_resent']} refused"
        f" as unavailable and resent); relay VmHWM {b['relay_vmhwm_at_end_mb']} MB",
        f"masking: {m['masked']:,} in {m['seconds']} s ({m['alerts_per_s'] or 0:,}/s, slowed down"
        f" {m['slowest']}x at most); relay VmHWM"
        f" {m['relay_vmhwm_at_ready_mb']} MB at ready, {m['relay_vmhwm_at_end_mb']} MB at the end;"
        f" database {m['size_before']['database_mb']:,} -> {m['size_after']['database_mb']:,} MB",
        f"publishing during the masking at {m['rate']:g}/s: p50 {during['p50_ms']} ms"
        f" p99 {during['p99_ms']} ms max {during['max_ms']} ms ({during['acked']:,} acks;"
        f" {m['refused_unavailable_then_resent']} refused as unavailable and resent in the phase)",
    ])


def parse_sizes(argv: Sequence[str] | None = None) -> tuple[Sizes, Path]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, help="passenger alerts seeded, all due (1,000,000)")
    parser.add_argument("--seeders", type=int, help="processes seeding them (2)")
    parser.add_argument("--seed-batch", type=int, help="alerts per relay_append() of the seed (2,000)")
    parser.add_argument("--rate", type=float, help="alerts/s published meanwhile (200)")
    parser.add_argument("--seconds", type=float, help="length of the baseline (10)")
    parser.add_argument("--masking-rate", type=float,
                        help="alerts/s published during the masking (--rate; 0: none, the job alone)")
    parser.add_argument("--job-batch", type=int, help="[protection] batch of the masking run (500)")
    parser.add_argument("--pause-ratio", type=float, help="[protection] pause_ratio of the masking run (1.0)")
    parser.add_argument("--yield-above-ms", type=float,
                        help="[protection] yield_above_ms of the masking run (20)")
    parser.add_argument("--max-slowdown", type=float,
                        help="[protection] max_slowdown of the masking run (8; 1: the jobs never slow down)")
    parser.add_argument("--under", help="directory for the database, the relays and the fdatasync probe"
                        " (the system's temporary one; /dev/shm: no disk, so that only the"
                        " processors are shared)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "protection.json",
                        help="where to write every figure (bench/results/protection.json)")
    args = parser.parse_args(argv)
    chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(Sizes)
              if getattr(args, f.name) is not None}
    return dataclasses.replace(Sizes(), **chosen), args.json


def main() -> None:
    sizes, json_path = parse_sizes()
    results = run_measured(ProtectionBench(sizes), sizes)
    text = json.dumps(results, indent=2, default=str)
    print(text)
    print(report(results))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(text)


if __name__ == "__main__":
    main()
