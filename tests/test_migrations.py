"""The schema: a database made by the migrations of an earlier release upgrades cleanly.

tests/legacy_schema/ holds the migrations as they stood before relay_append() moved to
sql/functions/ (their three copies of it taking 22 parallel arrays). A database built by
them, with events written by that old function, is upgraded by the current migrations:
its schema is then the same as a fresh database's, its chain still verifies, its keys
still deduplicate, and the new function stores exactly the rows the old one stored (but
for the chain: an alert is sealed since migration 010, hashed with relay-chain-v2).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from relay.contract.facts import alert_facts
from relay.contract.personal import content_digest
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent
from relay.store.chain import GENESIS, event_hash, sealed_hash, verify_chain
from relay.store.migrations import (
    Migration,
    apply_migrations,
    discover_functions,
    discover_migrations,
)
from relay.store.writer import EventWriter
from tests.alert_examples import seizure_alert
from tests.conftest import database_url

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEGACY = Path(__file__).resolve().parent / "legacy_schema"
ALERT_ID = "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
RECEIVED = datetime(2026, 11, 23, 8, 0, 1, 204000, tzinfo=UTC)


async def new_database(pg_server: Any) -> str:
    name = f"relay_upgrade_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_server.dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return database_url(pg_server, name)


async def migrated_database(pg_server: Any) -> str:
    """A new database with the current schema."""
    dsn = await new_database(pg_server)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, discover_migrations())
    finally:
        await conn.close()
    return dsn


async def apply_legacy(conn: asyncpg.Connection) -> None:
    """The earlier release's runner: each numbered file once, recorded, no functions."""
    await conn.execute("CREATE TABLE IF NOT EXISTS relay_schema_migrations (version integer"
                       " PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL"
                       " DEFAULT now())")
    for path in sorted(LEGACY.glob("*.sql")):
        version, name = path.stem.split("_", 1)
        async with conn.transaction():
            await conn.execute(path.read_text())
            await conn.execute("INSERT INTO relay_schema_migrations (version, name) VALUES ($1, $2)",
                               int(version), name)


def pending(key: str, alert_id: str, *, receipt_of: str | None = None) -> PendingEvent:
    """A validated alert (or a receipt for ``receipt_of``) as the publisher makes it."""
    if receipt_of is not None:
        body = {"alert_id": receipt_of, "unit": "TG-LFW-CAAT", "status": "received",
                "at": "2026-11-23T08:00:02.000Z"}
        return PendingEvent("TG-LFW-CAAT", key, "receipt", receipt_of, "ML-BKO-JAITF", RECEIVED,
                            None, "received", *encode_body(body))
    alert = validate_alert(seizure_alert(distribution={"countries": ["TG", "ET"]}),
                           known_units=set(), regions={})
    body = {**alert, "alert_id": alert_id, "origin_unit": "ML-BKO-JAITF",
            "received_at": "2026-11-23T08:00:01.204Z"}
    return PendingEvent("ML-BKO-JAITF", key, "alert", alert_id, "ML-BKO-JAITF", RECEIVED,
                        alert_facts(alert), None, *encode_body(body))


async def legacy_append(conn: asyncpg.Connection, batch: list[PendingEvent]) -> None:
    """The earlier writer: relay_append() with its 22 parallel arrays (jsonb lists)."""
    def listed(values: frozenset[str] | None) -> str | None:
        return None if values is None else orjson.dumps(sorted(values)).decode()
    rows = []
    for p in batch:
        f = p.facts
        d = f.distribution if f else None
        rows.append((
            p.unit_id, p.key, p.kind, uuid.UUID(p.alert_id), p.origin_unit, p.received_at,
            f.kind if f else None, f.msg_type if f else None, f.status if f else None,
            f.priority if f else None, f.tlp if f else None, d.all if d else None,
            listed(d.units if d else None), listed(d.countries if d else None),
            listed(d.regions if d else None), listed(f.airports if f else None),
            listed(f.countries if f else None), listed(f.commodities if f else None),
            uuid.UUID(f.references) if f and f.references else None,
            p.receipt_status, p.body_json, p.body_msgpack))
    columns = [list(column) for column in zip(*rows, strict=True)]
    await conn.fetch("SELECT * FROM relay_append(" + ", ".join(f"${n}" for n in range(1, 23))
                     + ")", *columns)


async def current_append(dsn: str, batch: list[PendingEvent]) -> None:
    """The current writer, as the relay runs it."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        writer = EventWriter(pool, on_committed=lambda events: None)
        writer.start()
        for p in batch:
            await writer.submit(p)
        await writer.drain_and_stop()
    finally:
        await pool.close()


SCHEMA_QUERIES = {
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default,"
               " is_generated, generation_expression FROM information_schema.columns"
               " WHERE table_schema = 'public' ORDER BY 1, 2",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "functions": "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc"
                 " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                 " WHERE n.nspname = 'public' ORDER BY 1, 2",
    "types": "SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnum"
             " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
             " JOIN pg_class c ON c.oid = t.typrelid JOIN pg_attribute a ON a.attrelid = c.oid"
             " WHERE n.nspname = 'public' AND c.relkind = 'c' ORDER BY 1, 4",
    "triggers": "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    "grants": "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
              " WHERE grantee = 'relay_app' ORDER BY 1, 2",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                   " FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
}


async def schema_of(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: [tuple(row) for row in await conn.fetch(sql)]
                for name, sql in SCHEMA_QUERIES.items()}
    finally:
        await conn.close()


async def events_of(dsn: str, columns: str = "*") -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await conn.fetch(f"SELECT {columns} FROM relay_events ORDER BY seq")]
    finally:
        await conn.close()


async def column_names(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [row["column_name"] for row in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'relay_events'"
            " ORDER BY ordinal_position")]
    finally:
        await conn.close()


async def test_a_legacy_database_upgrades_to_the_schema_of_a_fresh_one(pg_server):
    """Legacy migrations + events, then the current ones: the same tables, columns,
    indexes, functions, types, triggers, views, grants and constraints as a fresh database."""
    legacy = await new_database(pg_server)
    conn = await asyncpg.connect(legacy)
    try:
        await apply_legacy(conn)
        await legacy_append(conn, [pending("k1", ALERT_ID)])
        applied = await apply_migrations(conn, discover_migrations())
    finally:
        await conn.close()
    fresh = await migrated_database(pg_server)
    legacy_count = len(list(LEGACY.glob("*.sql")))
    newer = [m.version for m in discover_migrations() if m.version > legacy_count]
    assert (newer, ["relay_append"]) == (applied.migrations, applied.functions)
    assert await schema_of(fresh) == await schema_of(legacy)


async def test_the_upgraded_database_verifies_deduplicates_and_appends(pg_server):
    """Events written by the old function verify after the upgrade; a key it recorded is
    still a duplicate for the new one; new events extend the same chain."""
    dsn = await new_database(pg_server)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_legacy(conn)
        await legacy_append(conn, [pending("k1", ALERT_ID),
                                   pending("r1", str(uuid.uuid4()), receipt_of=ALERT_ID)])
        await apply_migrations(conn, discover_migrations())
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        writer = EventWriter(pool, on_committed=lambda events: None)
        writer.start()
        again = await writer.submit(pending("k1", str(uuid.uuid4())))
        new = await writer.submit(pending("k2", str(uuid.uuid4())))
        await writer.drain_and_stop()
        async with pool.acquire() as conn:
            report = await verify_chain(conn)
    finally:
        await pool.close()
    assert (1, ALERT_ID, True) == (again.seq, again.alert_id, again.duplicate)
    assert (3, False) == (new.seq, new.duplicate)
    assert (True, 3) == (report.intact, report.events)


async def test_the_current_function_stores_exactly_the_rows_the_old_one_stored(pg_server):
    """The same alert and receipt, through the old function on a legacy database and through
    the current writer on a fresh one: every column of the old schema is identical (seq,
    bodies and facts included) but the hashes. The alert is sealed now (migration 010:
    relay-chain-v2 over its kept fields and its content digest); the receipt keeps
    relay-chain-v1 over the same bytes, chained on the alert's new hash. The columns
    added since (federation: where an event came from; protection: its sealed form and
    states) hold, for a seizure that originated here, only its chain version and digest."""
    batch = [pending("k1", ALERT_ID), pending("r1", str(uuid.uuid4()), receipt_of=ALERT_ID)]
    legacy = await new_database(pg_server)
    conn = await asyncpg.connect(legacy)
    try:
        await apply_legacy(conn)
        await legacy_append(conn, batch)
    finally:
        await conn.close()
    fresh = await migrated_database(pg_server)
    await current_append(fresh, [pending("k1", ALERT_ID), batch[1]])
    names = await column_names(legacy)
    old, new = await events_of(legacy), await events_of(fresh, ", ".join(names))
    at = names.index("hash")

    def unhashed(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [row[:at] + row[at + 1:] for row in rows]

    assert unhashed(old) == unhashed(new)
    body = names.index("body_json")
    alert_body, receipt_body = orjson.loads(new[0][body]), bytes(new[1][body])
    digest = content_digest(alert_body, [])
    alert_hash, _ = sealed_hash(GENESIS, 1, "alert", alert_body, [], None)
    assert (old[0][at], old[1][at]) == (event_hash(GENESIS, 1, "alert", bytes(old[0][body])),
                                        event_hash(old[0][at], 2, "receipt", receipt_body))
    assert (alert_hash, event_hash(alert_hash, 2, "receipt", receipt_body)) == (new[0][at], new[1][at])
    assert old[0][at] != new[0][at]
    added = sorted(set(await column_names(fresh)) - set(names))
    assert ["alert_relay", "chain_version", "commitments", "content_digest", "key_id",
            "origin_relay", "origin_seq", "personal", "reduced_at", "sealed_at",
            "wrapped_key"] == added
    nothing = dict.fromkeys(added)
    assert [{**nothing, "chain_version": 2, "content_digest": digest},
            {**nothing, "chain_version": 1}] == [
        dict(zip(added, row, strict=True)) for row in await events_of(fresh, ", ".join(added))]
    conn = await asyncpg.connect(fresh)
    try:
        report = await verify_chain(conn)
    finally:
        await conn.close()
    assert (True, 2) == (report.intact, report.events)


async def test_a_function_file_is_applied_again_only_when_it_changes(pg_server):
    """Re-running the schema changes nothing; an edited function file is applied once."""
    dsn = await new_database(pg_server)
    conn = await asyncpg.connect(dsn)
    try:
        first = await apply_migrations(conn, discover_migrations())
        second = await apply_migrations(conn, discover_migrations())
        functions = discover_functions()
        edited = [type(f)(f.name, f.sql + "\n-- edited\n") for f in functions]
        third = await apply_migrations(conn, discover_migrations(), edited)
    finally:
        await conn.close()
    assert (len(discover_migrations()), ["relay_append"]) == (len(first.migrations), first.functions)
    assert ([], []) == (second.migrations, second.functions)
    assert ([], ["relay_append"]) == (third.migrations, third.functions)


async def test_migrations_are_numbered_without_gaps_and_define_no_function_twice():
    """sql/migrations is 001, 002, ... and no migration (re)defines a function of
    sql/functions: each function has one definition."""
    migrations = discover_migrations()
    assert list(range(1, len(migrations) + 1)) == [m.version for m in migrations]
    for function in discover_functions():
        assert not [m.name for m in migrations if f"FUNCTION {function.name}(" in m.sql]
    assert isinstance(migrations[0], Migration)
