"""Tamper evidence: the hash chain, its verification, and a relay role that cannot alter
the log. Events are published through a real relay; tampering is done as a superuser on
copies of that database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from relay.chain import GENESIS, event_hash, verify_chain
from tests.alert_examples import seizure_alert
from tests.conftest import REGIONS_CONFIG, database_url, fresh_database, running_relay
from tests.support import ROOT, create_unit, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def seeded(pg_server, template_db, workdir) -> str:
    """The name of a database holding 6 alerts and 2 receipts published through a relay (then stopped)."""
    dsn = await fresh_database(pg_server, template_db)
    _, origin = await create_unit(dsn, "ML-BKO-JAITF", country="ML")
    _, partner = await create_unit(dsn, "TG-LFW-CAAT", country="TG")
    async with running_relay(dsn, workdir, REGIONS_CONFIG) as relay:
        async with stream_client(relay, origin) as client, stream_client(relay, partner) as other:
            acks = [await client.publish(seizure_alert(distribution={"countries": ["TG"]})) for _ in range(6)]
            for ack in acks[:2]:
                await other.request({"type": "receipt", "alert_id": ack["alert_id"], "status": "received"})
    return dsn.split("@/", 1)[1].split("?")[0]


async def copy_of(pg_server, seeded: str) -> str:
    """The URL of a new database cloned from the seeded one."""
    return await fresh_database(pg_server, seeded)


async def as_superuser(dsn: str, *statements: str) -> None:
    """Tamper as an attacker with superuser rights would: past the trigger."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE relay_events DISABLE TRIGGER USER")
        for statement in statements:
            await conn.execute(statement)
        await conn.execute("ALTER TABLE relay_events ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def verify(dsn: str):
    conn = await asyncpg.connect(dsn)
    try:
        return await verify_chain(conn)
    finally:
        await conn.close()


async def test_an_untouched_log_verifies_intact_and_matches_the_documented_formula(pg_server, seeded):
    """8 events, intact; each stored hash is SHA-256(prev || relay-chain-v1 ...) as documented."""
    dsn = database_url(pg_server, seeded)
    report = await verify(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT seq, kind, body_json, hash FROM relay_events ORDER BY seq")
    finally:
        await conn.close()
    prev = GENESIS
    for row in rows:
        prev = event_hash(prev, row["seq"], row["kind"], bytes(row["body_json"]))
        assert prev == bytes(row["hash"])
    assert (True, 8, 8, prev.hex()) == (report.intact, report.events, report.head, report.head_hash)


async def test_a_changed_body_breaks_the_chain_at_that_seq(pg_server, seeded):
    """A superuser rewrites alert 3's body: verify names seq 3."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "UPDATE relay_events SET body_json = convert_to(replace("
                            "convert_from(body_json, 'UTF8'), '2.4', '0.4'), 'UTF8') WHERE seq = 3")
    report = await verify(dsn)
    assert (False, 3, 2) == (report.intact, report.first_broken_seq, report.events)
    assert "hash" in report.reason


async def test_a_changed_distribution_column_is_caught_even_with_the_body_intact(pg_server, seeded):
    """Widening who may see alert 4 in the indexed columns breaks verification at 4."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "UPDATE relay_events SET dist_all = true WHERE seq = 4")
    report = await verify(dsn)
    assert (False, 4) == (report.intact, report.first_broken_seq)
    assert "distribution" in report.reason


async def test_a_deleted_event_is_reported_missing(pg_server, seeded):
    """Deleting event 5 (and even recomputing nothing) is seen at seq 5."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "DELETE FROM relay_events WHERE seq = 5")
    report = await verify(dsn)
    assert (False, 5) == (report.intact, report.first_broken_seq)
    assert "missing" in report.reason


async def test_a_truncated_tail_is_reported(pg_server, seeded):
    """Deleting the last event leaves the head pointing past the log."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "DELETE FROM relay_events WHERE seq = 8")
    report = await verify(dsn)
    assert (False, 8) == (report.intact, report.first_broken_seq)


async def test_a_receipt_moved_to_another_origin_is_caught(pg_server, seeded):
    """A receipt's origin_unit decides who sees it; it must be its alert's origin."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "UPDATE relay_events SET origin_unit = 'TG-LFW-CAAT' WHERE seq = 7")
    report = await verify(dsn)
    assert (False, 7) == (report.intact, report.first_broken_seq)


async def test_the_relay_role_cannot_update_or_delete_events(pg_server, seeded):
    """As relay_app: UPDATE and DELETE are refused by grants; as owner, by the trigger."""
    dsn = await copy_of(pg_server, seeded)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET ROLE relay_app")
        for statement in ("UPDATE relay_events SET tlp = 'clear' WHERE seq = 1",
                          "DELETE FROM relay_events WHERE seq = 1",
                          "DELETE FROM relay_idempotency",
                          "UPDATE relay_units SET roles = '{admin}'"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        await conn.execute("RESET ROLE")
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("UPDATE relay_events SET tlp = 'clear' WHERE seq = 1")
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("TRUNCATE relay_events CASCADE")
    finally:
        await conn.close()
    assert (await verify(dsn)).intact


def audit_verify(dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relay", "audit", "verify"], cwd=ROOT, text=True,
                          env=dict(os.environ, RELAY_DATABASE_URL=dsn), capture_output=True, timeout=120)


async def test_relay_audit_verify_exits_0_intact_and_1_naming_the_broken_seq(pg_server, seeded):
    """The command line: exit status 0 when intact, 1 with the first broken seq."""
    intact = await asyncio.to_thread(audit_verify, database_url(pg_server, seeded))
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "UPDATE relay_events SET body_json = body_json || ' '::bytea WHERE seq = 2")
    broken = await asyncio.to_thread(audit_verify, dsn)
    assert 0 == intact.returncode and "intact: 8 events" in intact.stdout
    assert 1 == broken.returncode and "broken at seq 2" in broken.stdout
