"""Benchmark of the HTTP history over 1,000,000 stored alerts, and of the export.

Run from the repository root:  ``.venv/bin/python bench/bench_history.py [--alerts N]``.
It creates an embedded PostgreSQL in a temporary directory, loads N varied alerts with a
valid hash chain (COPY, the way a bulk import would), starts ``relay serve``, then times
GET /v1/alerts with each filter (for a partner unit, so with the visibility condition,
and for an auditor), and full NDJSON and CSV exports. Results: bench/results/history.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.contract.facts import alert_facts  # noqa: E402
from relay.contract.reference import airport_country  # noqa: E402
from relay.contract.wire import encode_body  # noqa: E402
from relay.store.admin import Actor  # noqa: E402
from relay.store.admin import add_unit as add_unit_and_token  # noqa: E402
from relay.store.chain import GENESIS, event_hash  # noqa: E402
from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402

AIRPORTS = ["BKO", "CMN", "CDG", "LFW", "ADD", "GRU", "DSS", "ABJ", "LOS", "ACC", "NIM", "OUA",
            "MAD", "LIS", "BRU", "AMS", "FRA", "IST", "DXB", "BOG", "LIM", "PTY", "CCS", "JNB"]
COMMODITIES = ["cocaine", "heroin", "cannabis", "cash", "gold", "counterfeit_medicines", "weapons"]
UNITS = [f"{c}-{a}-UNIT" for c, a in (("ML", "BKO"), ("MA", "CMN"), ("FR", "CDG"), ("TG", "LFW"),
                                      ("ET", "ADD"), ("BR", "GRU"), ("SN", "DSS"), ("CI", "ABJ"))]
WORDS = "courier passenger luggage pellets cash gold route transit profile tip suspect ticket".split()
COLUMNS = ["seq", "kind", "alert_id", "origin_unit", "author_unit", "received_at", "alert_kind",
           "msg_type", "status", "priority", "tlp", "dist_all", "dist_units", "dist_countries",
           "dist_regions", "airports", "countries", "commodities", "refs", "receipt_status",
           "body_json", "body_msgpack", "hash"]


async def add_unit(conn: asyncpg.Connection, unit_id: str, **fields: Any) -> str:
    """A unit of the run, and its token."""
    _, issued = await add_unit_and_token(conn, Actor("cli:bench", "CLI", "bench"), unit_id, **fields)
    return issued.token


def make_alert(rng: random.Random, n: int) -> dict[str, Any]:
    origin, destination = rng.sample(AIRPORTS, 2)
    dist_form = rng.random()
    tlp = rng.choice(["clear", "green", "amber", "amber+strict", "red"])
    if tlp == "red" or dist_form < 0.4:
        distribution: dict[str, Any] = {"units": rng.sample(UNITS, 2)}
    elif dist_form < 0.8:
        distribution = {"countries": list({airport_country(origin), airport_country(destination)})}
    else:
        distribution = {"all": True}
    summary = " ".join(rng.choices(WORDS, k=12)) + f" case {n}"
    base = {"priority": rng.choice(["routine", "urgent", "flash"]), "tlp": tlp,
            "distribution": distribution, "sent_at": "2026-11-23T08:00:00Z", "summary": summary,
            "msg_type": "alert", "status": "actual"}
    if rng.random() < 0.5:
        return {**base, "kind": "passenger", "requested_action": "control",
                "flight": {"number": f"{rng.choice(['AT', 'AF', 'ET', 'TP'])}{rng.randint(1, 999)}",
                           "origin": origin, "destination": destination},
                "subjects": [{"role": "courier", "surname": "DOE"}]}
    return {**base, "kind": "seizure", "location": origin, "occurred_at": "2026-11-23T07:00:00Z",
            "seizures": [{"commodity": rng.choice(COMMODITIES), "quantity": 1.5, "unit": "kg"}]}


async def load(dsn: str, count: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conn = await asyncpg.connect(dsn)
    prev = GENESIS
    seq = 0
    try:
        while seq < count:
            records = []
            for _ in range(min(20_000, count - seq)):
                seq += 1
                alert = make_alert(rng, seq)
                origin = rng.choice(UNITS)
                received = start + timedelta(seconds=seq * 25)
                body = {**alert, "alert_id": str(uuid.uuid4()), "origin_unit": origin,
                        "received_at": received.isoformat().replace("+00:00", "Z")}
                as_json, as_msgpack = encode_body(body)
                prev = event_hash(prev, seq, "alert", as_json)
                f = alert_facts(alert)
                d = f.distribution
                records.append((seq, "alert", uuid.UUID(body["alert_id"]), origin, origin, received,
                                f.kind, f.msg_type, f.status, f.priority, f.tlp, d.all, sorted(d.units),
                                sorted(d.countries), sorted(d.regions), sorted(f.airports),
                                sorted(f.countries), sorted(f.commodities), None, None, as_json,
                                as_msgpack, prev))
            await conn.copy_records_to_table("relay_events", records=records, columns=COLUMNS)
        await conn.execute("UPDATE relay_head SET seq = $1, hash = $2", seq, prev)
        await conn.execute("ANALYZE relay_events")
    finally:
        await conn.close()


async def timed_get(http: aiohttp.ClientSession, url: str, token: str, params: dict[str, str],
                    rounds: int) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with http.get(url, params=params, headers={"Authorization": f"Bearer {token}"}) as r:
            await r.read()
            assert r.status == 200, await r.text()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 2), "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
            "max_ms": round(times[-1], 2)}


async def export_rate(http: aiohttp.ClientSession, url: str, token: str, fmt: str) -> dict[str, float]:
    started = time.perf_counter()
    rows = 0
    async with http.get(url, params={"format": fmt}, headers={"Authorization": f"Bearer {token}"}) as r:
        async for chunk in r.content.iter_chunked(1 << 16):
            rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    rows -= 1 if fmt == "csv" else 0
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


async def main(count: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="relay-history-"))
    pg = EmbeddedPostgres(tmp / "pg")
    pg.start(owner=True)
    relay = None
    try:
        dsn = pg.dsn()
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn, discover_migrations())
        partner = await add_unit(conn, "FR-CDG-UNIT", country="FR", airport="CDG", name="",
                                 roles=["publish", "subscribe"])
        auditor = await add_unit(conn, "EU-AUDIT", country="BE", airport=None, name="", roles=["audit"])
        for unit in UNITS:
            if unit != "FR-CDG-UNIT":
                await add_unit(conn, unit, country=unit[:2], airport=None, name="", roles=["publish"])
        await conn.close()
        started = time.perf_counter()
        await load(dsn, count)
        load_seconds = time.perf_counter() - started
        port = 28500 + os.getpid() % 400
        env = dict(os.environ, RELAY_DATABASE_URL=dsn, RELAY_HTTP_PORT=str(port),
                   RELAY_STREAM_PORT=str(port + 1), RELAY_LOG_LEVEL="warning")
        relay = subprocess.Popen([sys.executable, "-m", "relay", "serve"], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(base + "/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            queries = {
                "newest": {}, "airport": {"airport": "LFW"}, "country": {"country": "BR"},
                "kind+airport": {"kind": "seizure", "airport": "GRU"}, "commodity": {"commodity": "gold"},
                "flight": {"flight": "AT571"}, "origin_unit": {"origin_unit": "TG-LFW-UNIT"},
                "from/to": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"},
                "q": {"q": "case 77777"}, "limit 500": {"limit": "500"},
            }
            results: dict[str, Any] = {"alerts": count, "load_seconds": round(load_seconds, 1)}
            for who, token in (("partner", partner), ("auditor", auditor)):
                for name, params in queries.items():
                    results[f"{who}:{name}"] = await timed_get(http, base + "/v1/alerts", token, params, 100)
            results["export_ndjson"] = await export_rate(http, base + "/v1/audit/export", auditor, "ndjson")
            results["export_csv"] = await export_rate(http, base + "/v1/audit/export", auditor, "csv")
        return results
    finally:
        if relay is not None:
            relay.send_signal(signal.SIGTERM)
            relay.wait(30)
        pg.force_stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    args = parser.parse_args()
    results = asyncio.run(main(args.alerts))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "history.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(key, value)
