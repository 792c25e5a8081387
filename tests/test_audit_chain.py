"""Tamper evidence: the hash chain, its verification, and a relay role that cannot alter
the log. Events are published through a real relay; tampering is done as a superuser on
copies of that database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from typing import Any

import asyncpg
import msgpack
import orjson
import pytest

from relay.contract.personal import AUDIT_FIELDS
from relay.store.chain import GENESIS, event_hash, sealed_hash, verify_chain
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


def sorted_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def documented_digest(body: dict[str, Any], commitments: list[Any]) -> bytes:
    """migration 010: SHA-256 of what reduction removes, the content and the commitments."""
    content = {name: value for name, value in body.items() if name not in AUDIT_FIELDS}
    return hashlib.sha256(b"relay-content-v2\x00" + sorted_json(
        {"content": content, "commitments": commitments})).digest()


def documented_hash(prev: bytes, row: asyncpg.Record) -> bytes:
    """migrations 004 (relay-chain-v1: over the stored bytes) and 010 (relay-chain-v2:
    over the kept fields' canonical JSON and the digest of the rest), written out again."""
    head = (prev + b"relay-chain-v%d\x00" % row["chain_version"] + row["seq"].to_bytes(8, "big")
            + row["kind"].encode("ascii") + b"\x00")
    if row["chain_version"] == 1:
        return hashlib.sha256(head + bytes(row["body_json"])).digest()
    body = orjson.loads(row["body_json"])
    commitments = [] if row["commitments"] is None else orjson.loads(row["commitments"])
    kept = {name: body[name] for name in AUDIT_FIELDS if name in body}
    return hashlib.sha256(head + sorted_json(kept) + b"\x00"
                          + documented_digest(body, commitments)).digest()


async def test_an_untouched_log_verifies_intact_and_matches_the_documented_formula(pg_server, seeded):
    """8 events, intact: the 6 alerts sealed (relay-chain-v2, their digest kept beside
    them), the 2 receipts in relay-chain-v1; each stored hash is the documented formula
    of its version, recomputed here without the relay's code."""
    dsn = database_url(pg_server, seeded)
    report = await verify(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT seq, kind, chain_version, body_json, commitments,"
                                " content_digest, hash FROM relay_events ORDER BY seq")
    finally:
        await conn.close()
    assert [("alert", 2)] * 6 + [("receipt", 1)] * 2 == [(r["kind"], r["chain_version"]) for r in rows]
    for row in rows:
        digest = None if row["chain_version"] == 1 else documented_digest(
            orjson.loads(row["body_json"]), [])
        assert (digest, None) == (row["content_digest"], row["commitments"])  # a seizure: no personal field
    prev = GENESIS
    for row in rows:
        prev = documented_hash(prev, row)
        assert prev == bytes(row["hash"]), row["seq"]
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
    """As relay_app: UPDATE and DELETE of events, and of what administration must not
    rewrite (unit ids, token digests, the access log), are refused by grants; as owner,
    the events by the trigger."""
    dsn = await copy_of(pg_server, seeded)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET ROLE relay_app")
        for statement in ("UPDATE relay_events SET tlp = 'clear' WHERE seq = 1",
                          "DELETE FROM relay_events WHERE seq = 1",
                          "DELETE FROM relay_idempotency",
                          # administration may change roles and revoke, never rewrite or erase
                          "UPDATE relay_units SET unit_id = 'XX-FORGED', country = 'XX'",
                          "DELETE FROM relay_units",
                          "UPDATE relay_tokens SET token_hash = '\\x00', unit_id = 'XX-FORGED'",
                          "DELETE FROM relay_tokens",
                          "UPDATE relay_access_log SET status = 200",
                          "DELETE FROM relay_access_log"):
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
    """The command line: exit status 0 when intact, 1 with the first broken seq and why. A
    space after a receipt's body changes the bytes its hash covers (chain version 1); after
    a sealed alert's, the value its hash covers is the same, but not the relay's one
    encoding of it (chain version 2)."""
    intact = await asyncio.to_thread(audit_verify, database_url(pg_server, seeded))
    broken = {}
    for seq in (2, 7):
        dsn = await copy_of(pg_server, seeded)
        await as_superuser(dsn, f"UPDATE relay_events SET body_json = body_json || ' '::bytea WHERE seq = {seq}")
        broken[seq] = await asyncio.to_thread(audit_verify, dsn)
    assert 0 == intact.returncode and "intact: 8 events" in intact.stdout
    assert 1 == broken[2].returncode
    assert "broken at seq 2: the stored body is not in the relay's encoding" in broken[2].stdout
    assert 1 == broken[7].returncode
    assert "broken at seq 7: the hash does not match" in broken[7].stdout


# -- tampering that only one line of the verifier catches (issue 8) -------------------------

async def rechain_from(dsn: str, start: int) -> None:
    """As a superuser who knows the formulas: every hash from seq ``start`` on recomputed
    over the edited log, and a sealed alert's digest with it, the head left alone."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE relay_events DISABLE TRIGGER USER")
        prev = bytes(await conn.fetchval("SELECT hash FROM relay_events WHERE seq = $1", start - 1)
                     or GENESIS)
        for row in await conn.fetch("SELECT seq, kind, chain_version, body_json, commitments"
                                    " FROM relay_events WHERE seq >= $1 ORDER BY seq", start):
            digest = None
            if row["chain_version"] == 2:
                commitments = [] if row["commitments"] is None else orjson.loads(row["commitments"])
                prev, digest = sealed_hash(prev, row["seq"], row["kind"], orjson.loads(row["body_json"]),
                                           commitments, None)
            else:
                prev = event_hash(prev, row["seq"], row["kind"], bytes(row["body_json"]))
            # the MessagePack body made again from the edited JSON one, as the relay would
            packed = msgpack.packb(orjson.loads(row["body_json"]), use_bin_type=True)
            await conn.execute("UPDATE relay_events SET hash = $2, body_msgpack = $4,"
                               " content_digest = coalesce($3, content_digest) WHERE seq = $1",
                               row["seq"], prev, digest, packed)
        await conn.execute("ALTER TABLE relay_events ENABLE TRIGGER USER")
    finally:
        await conn.close()


NEW_SUMMARY = ("UPDATE relay_events SET body_json = convert_to(replace(convert_from(body_json, 'UTF8'),"
               " '2.4 kg', '0.4 kg'), 'UTF8') WHERE seq = {seq}")


async def test_a_rewritten_last_event_with_its_hash_recomputed_is_caught_by_the_head(pg_server, seeded):
    """Event 8 rewritten and its hash recomputed: only the head's recorded hash tells."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, "UPDATE relay_events SET body_json = body_json || ' '::bytea WHERE seq = 8")
    await rechain_from(dsn, 8)
    report = await verify(dsn)
    assert (False, 8, 8) == (report.intact, report.first_broken_seq, report.events)
    assert "rewritten" in report.reason


async def test_a_whole_chain_recomputed_after_an_edit_is_caught_by_the_head(pg_server, seeded):
    """Alert 3 (sealed) edited and every hash from 3 on recomputed, its digest too: each
    event matches its hash, only the head's hash no longer matches."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, NEW_SUMMARY.format(seq=3))
    edited = await verify(dsn)
    await rechain_from(dsn, 3)
    report = await verify(dsn)
    assert (False, 3) == (edited.intact, edited.first_broken_seq)
    assert (False, 8, 8) == (report.intact, report.first_broken_seq, report.events)
    assert "rewritten" in report.reason


async def test_an_event_appended_past_the_head_is_caught(pg_server, seeded):
    """A well-chained copy of receipt 8 inserted as seq 9, without moving the head, is seen at 9."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(
        dsn,
        "INSERT INTO relay_events SELECT 9, kind, alert_id, origin_unit, author_unit,"
        " received_at, alert_kind, msg_type, status, priority, tlp, dist_all, dist_units,"
        " dist_countries, dist_regions, airports, countries, commodities, refs, receipt_status,"
        " body_json, body_msgpack, relay_event_hash(hash, 9, kind, body_json)"
        " FROM relay_events WHERE seq = 8")
    report = await verify(dsn)
    assert (False, 9) == (report.intact, report.first_broken_seq)
    assert "past the head" in report.reason


async def test_a_long_log_is_verified_page_after_page(pg_server, seeded):
    """With pages of 3 events, a change in the third page (seq 7) is still found; an
    untouched log verifies every event."""
    dsn = await copy_of(pg_server, seeded)
    conn = await asyncpg.connect(dsn)
    try:
        intact = await verify_chain(conn, page_size=3)
        exact = await verify_chain(conn, page_size=4)
    finally:
        await conn.close()
    await as_superuser(dsn, "UPDATE relay_events SET body_json = body_json || ' '::bytea WHERE seq = 7")
    conn = await asyncpg.connect(dsn)
    try:
        broken = await verify_chain(conn, page_size=3)
    finally:
        await conn.close()
    assert (True, 8) == (intact.intact, intact.events)
    assert (True, 8) == (exact.intact, exact.events)
    assert (False, 7, 6) == (broken.intact, broken.first_broken_seq, broken.events)


@pytest.mark.parametrize(("seq", "statement", "column"), [
    (3, "UPDATE relay_events SET alert_id = gen_random_uuid() WHERE seq = 3", "alert_id"),
    (7, "UPDATE relay_events SET author_unit = 'ML-BKO-JAITF' WHERE seq = 7", "receipt author"),
    (7, "UPDATE relay_events SET receipt_status = 'positive' WHERE seq = 7", "status"),
    (2, "UPDATE relay_events SET origin_unit = 'TG-LFW-CAAT', author_unit = 'TG-LFW-CAAT'"
        " WHERE seq = 2", "origin_unit"),
    (2, "UPDATE relay_events SET author_unit = 'TG-LFW-CAAT' WHERE seq = 2", "origin_unit"),
    (4, "UPDATE relay_events SET tlp = 'clear' WHERE seq = 4", "TLP"),
    (5, "UPDATE relay_events SET alert_kind = 'passenger' WHERE seq = 5", "facts"),
    (6, "UPDATE relay_events SET priority = 'flash' WHERE seq = 6", "facts"),
    (1, "UPDATE relay_events SET status = 'exercise' WHERE seq = 1", "facts"),
    (1, "UPDATE relay_events SET countries = '{FR}' WHERE seq = 1", "facts"),
])
async def test_an_indexed_column_that_disagrees_with_the_hashed_body_is_caught(
        pg_server, seeded, seq, statement, column):
    """The columns that visibility, filters and receipts are read from are checked against
    the hashed body, one by one."""
    dsn = await copy_of(pg_server, seeded)
    await as_superuser(dsn, statement)
    report = await verify(dsn)
    assert (False, seq) == (report.intact, report.first_broken_seq)
    assert column in report.reason


async def test_verify_stays_intact_while_a_relay_keeps_appending(pg_server, seeded, workdir):
    """Events committed during a verification are outside its snapshot, not tampering."""
    dsn = await copy_of(pg_server, seeded)
    _, origin = await create_unit(dsn, "ML-BKO-JAITF-2", country="ML")
    async with running_relay(dsn, workdir / "live-verify", REGIONS_CONFIG) as relay:
        async with stream_client(relay, origin) as client:
            async def publish_many() -> None:
                for _ in range(150):
                    await client.publish(seizure_alert(distribution={"countries": ["TG"]}))
            publishing = asyncio.create_task(publish_many())
            conn = await asyncpg.connect(dsn)
            reports = []
            try:
                while not publishing.done():
                    reports.append(await verify_chain(conn, page_size=2))
            finally:
                await conn.close()
            await publishing
    assert len(reports) >= 2 and all(r.intact for r in reports), [r.reason for r in reports]
