"""History stored before protection (docs/protection.md "History stored before"): a
database of an earlier release, its passenger alert holding names in clear, upgraded by a
relay of this one. The relay's first run of the jobs seals that history in place, after
which a pg_dump holds none of its personal fields; the old events keep verifying as they
did (their v1 hashes recomputed from the originals kept in their envelopes), beside new
sealed alerts, and through masking and reduction; an export of it verifies offline.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import orjson
import pytest

from relay.contract.facts import alert_facts
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent
from relay.store import protection as protection_store
from relay.store.chain import verify_chain
from relay.store.migrations import apply_migrations, discover_migrations
from tests import protection_support
from tests.alert_examples import passenger_alert
from tests.conftest import running_relay
from tests.support import create_unit, run_relay, stream_client
from tests.test_migrations import (
    RECEIVED,
    apply_legacy,
    current_append,
    legacy_append,
    new_database,
    pending,
)
from tests.test_protection import dump, subject, table_dump, values_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

OLD_ID = "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c70"
SEIZURE_ID = "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c71"
SETTINGS = protection_store.JobSettings(183, 1826, False, 10)


def passenger_event(alert_id: str, key: str, tag: str) -> PendingEvent:
    """A validated passenger alert for the courier ``tag``, as the publisher hands it to
    the writer (the earlier release's writer stored its fields in clear; this one seals
    them)."""
    alert = validate_alert(passenger_alert(subjects=[subject(tag)],
                                           distribution={"countries": ["FR"]}),
                           known_units=set(), regions={})
    body = {**alert, "alert_id": alert_id, "origin_unit": "ML-BKO-JAITF",
            "received_at": "2026-11-23T08:00:01.204Z"}
    return PendingEvent("ML-BKO-JAITF", key, "alert", alert_id, "ML-BKO-JAITF", RECEIVED,
                        alert_facts(alert), None, *encode_body(body))


def old_passenger_alert() -> PendingEvent:
    """A passenger alert as the earlier release stored it: its fields in clear."""
    return passenger_event(OLD_ID, "old-pax", "OLDQ")


@pytest.fixture(scope="module")
async def legacy(pg_server) -> str:
    dsn = await new_database(pg_server)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_legacy(conn)
        await legacy_append(conn, [old_passenger_alert(), pending("k2", SEIZURE_ID),
                                   pending("r1", str(uuid.uuid4()), receipt_of=OLD_ID)])
        assert b"SURNAMEOLDQ" in bytes(await conn.fetchval(
            "SELECT body_json FROM relay_events WHERE seq = 1"))  # in clear, as it was
    finally:
        await conn.close()
    return dsn


@pytest.fixture(scope="module")
async def relay(legacy, workdir):
    async with running_relay(legacy, workdir / "upgraded") as process:
        yield process


async def auditor_get(relay, token: str, path: str) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.http}{path}", headers={"Authorization": f"Bearer {token}"}) as response:
        assert 200 == response.status, await response.text()
        return await response.read()


async def sealed_count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM relay_events WHERE sealed_at IS NOT NULL"))
    finally:
        await conn.close()


async def verify_all(relay, token: str, tmp_path, label: str, removed: int = 0) -> dict:
    cli = run_relay("audit", "verify", dsn=relay.dsn)
    assert 0 == cli.returncode, (label, cli.stdout, cli.stderr)
    report = orjson.loads(await auditor_get(relay, token, "/v1/audit/verify"))
    assert report["intact"], (label, report)
    path = tmp_path / f"{label}.ndjson"
    path.write_bytes(await auditor_get(relay, token, "/v1/audit/export?format=ndjson"))
    offline = run_relay("--lang", "en", "audit", "verify", "--export", str(path))
    assert 0 == offline.returncode, (label, offline.stdout, offline.stderr)
    said = f"{removed} events stored before personal-data protection no longer hold"
    flat = " ".join(offline.stdout.split())
    assert (said in flat) == bool(removed), (label, flat[-400:])
    return report


async def run_jobs(dsn: str, now: datetime) -> protection_store.RunResult:
    return await protection_support.run_jobs(dsn, now, SETTINGS)


async def test_an_upgraded_history_is_sealed_verifies_and_goes_on_schedule(relay, legacy, tmp_path):
    for _ in range(100):  # the relay's first run of the jobs, at start
        if await sealed_count(legacy) == 2:
            break
        await asyncio.sleep(0.1)
    assert 2 == await sealed_count(legacy)  # both old alerts; the receipt stays as it was
    events = table_dump(dump(legacy), "relay_events")
    assert OLD_ID.encode() in events
    for value in values_of("OLDQ"):
        assert value.encode() not in events, value
    _, auditor = await create_unit(legacy, "ML-BKO-HISTAUD", country="ML", roles="audit")
    _, officer = await create_unit(legacy, "ML-BKO-HISTPUB", country="ML")
    detail = orjson.loads(await auditor_get(relay, auditor, f"/v1/alerts/{OLD_ID}"))
    assert detail["alert"]["subjects"][0] == subject("OLDQ")  # read back from its envelope
    await verify_all(relay, auditor, tmp_path, "sealed")
    async with stream_client(relay, officer) as client:
        await client.publish(passenger_alert(subjects=[subject("NEWQ")],
                                             distribution={"countries": ["FR"]}))
    report = await verify_all(relay, auditor, tmp_path, "mixed")
    assert 4 == report["events"]
    masked = await run_jobs(legacy, datetime.now(UTC) + timedelta(days=200))
    assert 2 == masked.masked  # the old passenger alert and the new one
    detail = orjson.loads(await auditor_get(relay, auditor, f"/v1/alerts/{OLD_ID}"))
    assert "masked_at" in detail["alert"] and "surname" not in detail["alert"]["subjects"][0]
    await verify_all(relay, auditor, tmp_path, "masked", removed=1)  # the old passenger alert
    reduced = await run_jobs(legacy, datetime.now(UTC) + timedelta(days=1900))
    assert 3 == reduced.reduced
    detail = orjson.loads(await auditor_get(relay, auditor, f"/v1/alerts/{OLD_ID}"))
    assert "reduced_at" in detail["alert"] and "summary" not in detail["alert"]
    await verify_all(relay, auditor, tmp_path, "reduced", removed=2)  # and the old seizure


async def test_protection_marks_on_a_receipt_or_a_kept_column_changed_are_named(relay, legacy):
    """A receipt is never masked, reduced or sealed; a reduced old alert's columns still
    answer to what it kept (seq 1: the old passenger alert, reduced above; seq 3: the receipt)."""
    conn = await asyncpg.connect(legacy)
    try:
        for seq, change, undo in ((3, "reduced_at = now()", "reduced_at = NULL"),
                                  (3, "sealed_at = now()", "sealed_at = NULL"),
                                  (1, "dist_all = true", "dist_all = false")):
            await conn.execute("ALTER TABLE relay_events DISABLE TRIGGER relay_events_no_update_delete")
            await conn.execute(f"UPDATE relay_events SET {change} WHERE seq = $1", seq)
            try:
                result = run_relay("audit", "verify", dsn=legacy)
            finally:
                await conn.execute(f"UPDATE relay_events SET {undo} WHERE seq = $1", seq)
                await conn.execute("ALTER TABLE relay_events ENABLE TRIGGER relay_events_no_update_delete")
            assert 1 == result.returncode and f"seq {seq}" in result.stdout, (change, result.stdout)
    finally:
        await conn.close()
    assert 0 == run_relay("audit", "verify", dsn=legacy).returncode


async def test_masks_made_before_migration_011_move_to_relay_masks_and_stay(pg_server):
    """A database at migration 010 with a masked passenger alert (``masked_at`` in its
    row, as 010's job set it) and one not masked: after 011 the mark is a row of
    relay_masks with the same time, the column is gone, the chain verifies, the masked
    alert reads masked and the next run masks only the other one."""
    dsn = await new_database(pg_server)
    masked_on = datetime(2027, 5, 25, 8, 41, 17, 530000, tzinfo=UTC)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, discover_migrations()[:10])
        await current_append(dsn, [passenger_event(str(uuid.uuid4()), f"k-{tag}", tag)
                                   for tag in ("MIGA", "MIGB")])
        await conn.execute("SET ROLE relay_app")  # as 010's job did it
        await conn.execute("UPDATE relay_events SET masked_at = $1 WHERE seq = 1", masked_on)
        await conn.execute("RESET ROLE")
        applied = await apply_migrations(conn, discover_migrations())
        marks = [tuple(row) for row in await conn.fetch("SELECT seq, masked_at FROM relay_masks")]
        columns = {row[0] for row in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'relay_events'")}
        report = await verify_chain(conn)
        shown = await protection_store.personal_of(conn, str(await conn.fetchval(
            "SELECT alert_id FROM relay_events WHERE seq = 1")))
    finally:
        await conn.close()
    assert 11 in applied.migrations
    assert [(1, masked_on)] == marks
    assert "masked_at" not in columns and {"reduced_at", "sealed_at"} <= columns
    assert (True, 2) == (report.intact, report.events)
    assert shown is not None and masked_on == shown["masked_at"]
    done = await run_jobs(dsn, datetime.now(UTC) + timedelta(days=200))
    assert 1 == done.masked
