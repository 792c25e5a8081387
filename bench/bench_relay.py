"""Benchmarks of the relay against the targets of issue 2, with a bare broadcast ceiling.

Run from the repository root:  ``.venv/bin/python bench/bench_relay.py``  (about 3 minutes;
``--quick`` for a short smoke run). Everything runs on this machine: an embedded
PostgreSQL in a temporary directory, one ``relay serve`` process, one bare websockets
broadcast server (bench/bare_broadcast.py), and the load generator (this process plus
subscriber worker processes). Results are printed and written to
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workers import subscriber_worker  # noqa: E402
from relay.store.admin import Actor  # noqa: E402
from relay.store.admin import add_unit as add_unit_and_token  # noqa: E402
from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402

CONFIG = """
[limits]
publish_per_second = 1000000.0
publish_burst = 1000000
[stream]
send_buffer_bytes = 16777216
max_in_flight = 1024
# Every benchmark client comes from 127.0.0.1: one address holds 1,000+ subscribers here.
max_connections_per_address = 5000
max_unauthenticated = 5000
[log]
level = "info"
"""


async def add_unit(conn: asyncpg.Connection, unit_id: str, **fields: Any) -> str:
    """A unit of the run, and its token."""
    _, issued = await add_unit_and_token(conn, Actor("cli:bench", "CLI", "bench"), unit_id, **fields)
    return issued.token


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(ns: float) -> float:
    return round(ns / 1e6, 2)


ALERTS = {"kind": "seizure"}  # --alerts passenger: alerts with every personal field


def alert(key: int) -> dict[str, Any]:
    if ALERTS["kind"] == "passenger":
        return passenger_alert(key)
    return {
        "kind": "seizure", "priority": "urgent", "tlp": "green", "distribution": {"all": True},
        "sent_at": "2026-11-23T09:30:00Z", "location": "LFW", "occurred_at": "2026-11-23T07:55:00Z",
        "summary": "2.4 kg of cocaine in ingested pellets, passenger arriving from GRU via ADD.",
        "seizures": [{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"}],
        "concealment": "ingested", "detection": "body_scanner",
        "ext": {"k": key, "t0": time.monotonic_ns()},
    }


def passenger_alert(key: int) -> dict[str, Any]:
    """A passenger alert with every personal field (protection.md), distinct per key: what
    the relay seals before it reaches the database."""
    return {
        "kind": "passenger", "priority": "flash", "tlp": "amber", "distribution": {"all": True},
        "sent_at": "2026-11-23T08:00:00Z", "requested_action": "intercept",
        "summary": "Suspected cocaine courier (ingestion) boarding AT571 BKO-CMN, connecting to CDG.",
        "flight": {"number": "AT571", "date": "2026-11-23", "origin": "BKO", "destination": "CDG",
                   "route": ["BKO", "CMN", "CDG"]},
        "subjects": [{"role": "courier", "surname": f"TRAORE{key}", "given_names": "Moussa Ibrahim",
                      "nationality": "ML", "birth_date": "1990-04-12",
                      "document": {"type": "passport", "number": f"B{key:08d}", "issuing_country": "ML"},
                      "seat": "23C", "pnr_locator": f"Q{key % 100000:05d}",
                      "bag_tags": [f"0057{key:06d}"]}],
        "indicators": ["cash_ticket", "one_way", "ingestion_signs"],
        "ext": {"k": key, "t0": time.monotonic_ns()},
    }


class Bench:
    def __init__(self, quick: bool, only: set[str] | None = None) -> None:
        self.quick = quick
        self.only = only
        self.tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
        self.pg = EmbeddedPostgres(self.tmp / "pg")
        self.results: dict[str, Any] = {}
        self.ctx = multiprocessing.get_context("spawn")
        self.relay: subprocess.Popen[bytes] | None = None
        self.bare: subprocess.Popen[bytes] | None = None
        self.key = 0

    # -- setup ------------------------------------------------------------------------
    async def setup(self) -> None:
        self.pg.start(owner=True)
        self.dsn = self.pg.dsn()
        conn = await asyncpg.connect(self.dsn)
        await apply_migrations(conn, discover_migrations())
        self.publishers = [await add_unit(conn, f"ML-PUB-{i}", country="ML", airport=None, name="",
                                          roles=["publish", "subscribe"]) for i in range(10)]
        self.subscribers = [await add_unit(conn, f"SUB-{i:04d}", country="TG", airport=None, name="",
                                           roles=["subscribe"]) for i in range(1000)]
        await conn.close()
        self.relay_url, self.relay_pid = await self.start_relay()
        port = 19000 + os.getpid() % 1000
        self.bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_broadcast.py"), str(port)])
        self.bare_url = f"ws://127.0.0.1:{port}"
        await asyncio.sleep(1.0)

    async def start_relay(self) -> tuple[str, int]:
        config = self.tmp / "relay.toml"
        config.write_text(CONFIG)
        stream_port, http_port = 18765 + os.getpid() % 500, 28080 + os.getpid() % 500
        self.metrics_url = f"http://127.0.0.1:{http_port}/metrics"
        env = dict(os.environ, RELAY_DATABASE_URL=self.dsn, RELAY_STREAM_PORT=str(stream_port),
                   RELAY_HTTP_PORT=str(http_port), RELAY_LOG_FORMAT="json")
        log = open(self.tmp / "relay.log", "ab")
        self.relay = subprocess.Popen([sys.executable, "-m", "relay", "serve", "--config", str(config)],
                                      env=env, stdout=log, stderr=log, cwd=ROOT)
        import aiohttp
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{http_port}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        return f"ws://127.0.0.1:{stream_port}/v1/stream", self.relay.pid

    def teardown(self) -> None:
        for proc in (self.relay, self.bare):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        self.pg.force_stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------
    def spawn_workers(self, url: str, tokens: list[str | None], mode: str, processes: int,
                      idle: bool = False) -> tuple[list[Any], Any, Any]:
        ready, results, stop = self.ctx.Queue(), self.ctx.Queue(), self.ctx.Event()
        shares = [tokens[i::processes] for i in range(processes)]
        procs = [self.ctx.Process(target=subscriber_worker, args=(url, share, mode, ready, stop, results, idle))
                 for share in shares if share]
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.get(timeout=300)
        return procs, stop, results

    @staticmethod
    def collect(procs: list[Any], stop: Any, results: Any) -> list[tuple[int, int]]:
        stop.set()
        samples: list[tuple[int, int]] = []
        for _ in procs:
            samples += results.get(timeout=120)
        for proc in procs:
            proc.join(30)
        return samples

    def next_keys(self, count: int) -> range:
        keys = range(self.key, self.key + count)
        self.key += count
        return keys

    async def paced_relay(self, rate: float, count: int) -> range:
        keys = self.next_keys(count)
        async with connect(self.relay_url, subprotocols=["relay.v1.json"], compression=None,
                           additional_headers={"Authorization": f"Bearer {self.publishers[0]}"}) as ws:
            await ws.recv()
            reader = asyncio.create_task(_drain(ws, count))
            start = time.monotonic()
            for n, key in enumerate(keys):
                await _sleep_until(start + n / rate)
                await ws.send(orjson.dumps({"type": "publish", "id": f"p{key}", "alert": alert(key)}).decode())
            await reader
        return keys

    async def paced_bare(self, rate: float, count: int) -> range:
        keys = self.next_keys(count)
        async with connect(f"{self.bare_url}/pub", compression=None) as ws:
            start = time.monotonic()
            for n, key in enumerate(keys):
                await _sleep_until(start + n / rate)
                body = alert(key)
                await ws.send(orjson.dumps({"type": "alert", "seq": key, "alert": body}).decode())
        return keys

    # -- scenarios --------------------------------------------------------------------
    async def latency(self, kind: str, subscribers: int, rate: float, seconds: float) -> dict[str, Any]:
        url = self.relay_url if kind == "relay" else f"{self.bare_url}/sub"
        tokens: list[str | None] = list(self.subscribers[:subscribers]) if kind == "relay" else [None] * subscribers
        procs, stop, results = self.spawn_workers(url, tokens, kind, processes=2)
        count = int(rate * seconds)
        started = time.monotonic()
        keys = await (self.paced_relay(rate, count) if kind == "relay" else self.paced_bare(rate, count))
        await asyncio.sleep(1.0)
        elapsed = time.monotonic() - started - 1.0
        samples = [lat for key, lat in self.collect(procs, stop, results) if key in keys]
        expected = subscribers * count
        return {"subscribers": subscribers, "alerts": count, "rate": rate, "deliveries": len(samples),
                "expected": expected, "p50_ms": ms(pct(samples, 0.50)), "p99_ms": ms(pct(samples, 0.99)),
                "max_ms": ms(max(samples)) if samples else None,
                "deliveries_per_s": round(len(samples) / elapsed)}

    async def fanout(self, subscribers: int, alerts: int) -> dict[str, Any]:
        procs, stop, results = self.spawn_workers(self.relay_url, list(self.subscribers[:subscribers]),
                                                  "relay", processes=2)
        keys = await self.paced_relay(5.0, alerts)
        await asyncio.sleep(1.0)
        last: dict[int, int] = {}
        counts: dict[int, int] = {}
        for key, lat in self.collect(procs, stop, results):
            if key in keys:
                last[key] = max(last.get(key, 0), lat)
                counts[key] = counts.get(key, 0) + 1
        complete = sum(1 for key in keys if counts.get(key) == subscribers)
        values = list(last.values())
        return {"subscribers": subscribers, "alerts": alerts, "complete_alerts": complete,
                "last_delivery_p50_ms": ms(pct(values, 0.5)), "last_delivery_p99_ms": ms(pct(values, 0.99))}

    async def throughput(self, publishers: int, total: int, window: int = 200) -> dict[str, Any]:
        per = total // publishers
        before = await self.metric_sums()
        started = time.monotonic()
        acked = await asyncio.gather(*(self.flood(token, per, window) for token in self.publishers[:publishers]))
        elapsed = time.monotonic() - started
        after = await self.metric_sums()
        def delta(name: str) -> float:
            return after.get(name, 0.0) - before.get(name, 0.0)
        batches = delta("relay_commit_batch_events_count")
        return {"publishers": publishers, "acked": sum(acked), "seconds": round(elapsed, 2),
                "acked_per_s": round(sum(acked) / elapsed),
                "commits": int(batches),
                "events_per_commit": round(delta("relay_commit_batch_events_sum") / max(batches, 1), 1),
                "queued_to_commit_mean_ms": round(1000 * delta("relay_publish_commit_seconds_sum")
                                                  / max(delta("relay_publish_commit_seconds_count"), 1), 1)}

    async def metric_sums(self) -> dict[str, float]:
        """The relay's _sum and _count series, read from /metrics."""
        import aiohttp
        async with aiohttp.ClientSession() as http, http.get(self.metrics_url) as response:
            text = await response.text()
        return {name: float(value) for name, _, value in
                (line.partition(" ") for line in text.splitlines())
                if name.endswith(("_sum", "_count")) and "{" not in name}

    async def flood(self, token: str, count: int, window: int) -> int:
        keys = self.next_keys(count)
        async with connect(self.relay_url, subprotocols=["relay.v1.json"], compression=None,
                           max_size=2**22, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.recv()
            credits = asyncio.Semaphore(window)
            reader = asyncio.create_task(_drain(ws, count, credits))
            for key in keys:
                await credits.acquire()
                await ws.send(orjson.dumps({"type": "publish", "id": f"f{key}", "alert": alert(key)}).decode())
            return await reader

    async def replay(self) -> dict[str, Any]:
        token = self.subscribers[-1]
        async with connect(self.relay_url, subprotocols=["relay.v1.json"], compression=None,
                           max_size=2**22, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.recv()
            started = time.monotonic()
            await ws.send('{"type":"subscribe","id":"r","since":0}')
            events = 0
            while True:
                message = await ws.recv()
                if message.startswith('{"type":"alert"'):
                    events += 1
                elif '"caught_up"' in message:
                    break
            elapsed = time.monotonic() - started
        return {"events": events, "seconds": round(elapsed, 2), "events_per_s": round(events / elapsed)}

    async def idle_connections(self, count: int) -> dict[str, Any]:
        process = psutil.Process(self.relay_pid)
        before = process.memory_info().rss
        tokens: list[str | None] = [self.subscribers[i % len(self.subscribers)] for i in range(count)]
        procs, stop, results = self.spawn_workers(self.relay_url, tokens, "relay", processes=2, idle=True)
        await asyncio.sleep(2.0)
        during = process.memory_info().rss
        self.collect(procs, stop, results)
        return {"connections": count, "rss_before_mb": round(before / 2**20, 1),
                "rss_with_connections_mb": round(during / 2**20, 1)}

    async def commit_latency(self) -> dict[str, Any]:
        """The relay's own publish→commit histogram, read from /metrics."""
        import aiohttp
        async with aiohttp.ClientSession() as http, http.get(self.metrics_url) as response:
            text = await response.text()
        buckets = []
        for line in text.splitlines():
            if line.startswith("relay_publish_commit_seconds_bucket"):
                bound = line.split('le="')[1].split('"')[0]
                buckets.append((float(bound), float(line.rsplit(" ", 1)[1])))
        total = buckets[-1][1] if buckets else 0
        def quantile(q: float) -> float:
            return next((b for b, c in buckets if c >= q * total), float("inf"))
        return {"commits": int(total), "p50_le_ms": quantile(0.5) * 1000, "p99_le_ms": quantile(0.99) * 1000}

    async def run(self) -> dict[str, Any]:
        quick = self.quick
        await self.setup()
        r = self.results

        def wanted(name: str) -> bool:
            return self.only is None or name in self.only

        if wanted("latency"):
            r["latency_relay_100"] = await self.latency("relay", 100, 200, 3 if quick else 10)
            r["commit_latency_after_200_per_s"] = await self.commit_latency()
        if wanted("bare"):
            r["latency_bare_100"] = await self.latency("bare", 100, 200, 3 if quick else 10)
        if wanted("fanout"):
            r["fanout_1000"] = await self.fanout(1000, 20 if quick else 100)
        if wanted("flood"):
            r["flood_relay_100"] = await self.latency("relay", 100, 1000, 3 if quick else 5)
            r["flood_bare_100"] = await self.latency("bare", 100, 1000, 3 if quick else 5)
        if wanted("throughput"):
            r["throughput_10"] = await self.throughput(10, 10_000 if quick else 100_000)
        if wanted("replay"):
            r["replay"] = await self.replay()
        if wanted("idle"):
            r["idle_5000"] = await self.idle_connections(1000 if quick else 5000)
        return r


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _drain(ws: Any, count: int, credits: asyncio.Semaphore | None = None) -> int:
    acked = 0
    while acked < count:
        message = await ws.recv()
        if message.startswith('{"type":"ack"'):
            acked += 1
            if credits is not None:
                credits.release()
        elif message.startswith('{"type":"error"'):
            raise RuntimeError(message)
    return acked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--alerts", choices=("seizure", "passenger"), default="seizure",
                        help="what is published: seizure reports (the reference runs) or"
                             " passenger alerts with every personal field (sealed at rest)")
    parser.add_argument("--only", default="", help="comma-separated scenarios: latency, bare,"
                        " fanout, flood, throughput, replay, idle (default: all)")
    args = parser.parse_args()
    ALERTS["kind"] = args.alerts
    bench = Bench(args.quick, set(args.only.split(",")) if args.only else None)
    try:
        results = asyncio.run(bench.run())
    finally:
        bench.teardown()
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / ("quick.json" if args.quick else "latest.json")).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    if "flood_relay_100" in results and "latency_bare_100" in results:
        flood_relay, flood_bare = results["flood_relay_100"], results["flood_bare_100"]
        print("relay/bare deliveries per second:",
              round(flood_relay["deliveries_per_s"] / max(1, flood_bare["deliveries_per_s"]), 2))
        print("relay/bare p99 at 200 alerts/s:",
              round(results["latency_relay_100"]["p99_ms"]
                    / max(0.01, results["latency_bare_100"]["p99_ms"]), 2))


if __name__ == "__main__":
    main()
