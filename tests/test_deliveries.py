"""Delivery records: which units were sent each alert, and when, written in batches."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.alert_examples import seizure_alert
from tests.support import create_unit, stream_client, unique_unit


async def deliveries_of(dsn: str, seq: int, expected: int, timeout: float = 5.0) -> dict[str, object]:
    """The delivery rows of ``seq`` once ``expected`` are there (flushes run every second)."""
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(int(timeout / 0.1)):
            rows = await conn.fetch("SELECT unit_id, delivered_at FROM relay_deliveries WHERE seq = $1", seq)
            if len(rows) >= expected:
                return {r["unit_id"]: r["delivered_at"] for r in rows}
            await asyncio.sleep(0.1)
        return {r["unit_id"]: r["delivered_at"] for r in rows}
    finally:
        await conn.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_live_and_replayed_deliveries_are_recorded_once_per_unit(relay, dsn):
    """Two connections of one unit count once; a replaying unit is recorded too; a unit
    that never received the alert is not."""
    origin_id, origin = await create_unit(dsn, unique_unit("ML"), country="ML")
    live_id, live = await create_unit(dsn, unique_unit("TG"), country="TG")
    late_id, late = await create_unit(dsn, unique_unit("TG"), country="TG")
    await create_unit(dsn, unique_unit("TG"), country="TG")  # subscribed nowhere
    async with stream_client(relay, live) as first, stream_client(relay, live) as second:
        await first.subscribe()
        await second.subscribe()
        async with stream_client(relay, origin) as publisher:
            ack = await publisher.publish(seizure_alert(distribution={"countries": ["TG"]}))
        await first.events(1)
        await second.events(1)
    async with stream_client(relay, late) as replayer:
        await replayer.subscribe(since=ack["seq"] - 1)
        await replayer.events(1)
    recorded = await deliveries_of(dsn, ack["seq"], expected=2)
    assert {live_id, late_id} == set(recorded)
    assert all(moment.microsecond == 0 for moment in recorded.values())
    assert origin_id not in recorded


def test_the_pending_records_are_bounded_and_deduplicated():
    """Past max_pending new records are dropped and counted; a repeat is not a new record."""
    from relay.store.deliveries import DeliveryRecorder

    dropped = []
    recorder = DeliveryRecorder(None, max_pending=2, on_dropped=dropped.append, clock=lambda: 100.0)  # type: ignore[arg-type]
    for seq, unit in ((1, "A"), (1, "A"), (1, "B"), (2, "A")):
        recorder.record(seq, [unit])
    assert (2, [1]) == (recorder.pending, dropped)


@pytest.mark.asyncio(loop_scope="session")
async def test_records_that_cannot_be_written_are_kept_and_written_by_a_later_flush(dsn):
    """A flush against a database that is gone keeps the records; once it is back, one
    row per alert and second holds every unit, and the view gives each unit once."""
    from relay.store.deliveries import DeliveryRecorder

    now = [1_800_000_000.0]
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    recorder = DeliveryRecorder(pool, clock=lambda: now[0])
    seq = 10**12  # far beyond any seq the module's relay writes
    recorder.record(seq, ["A", "B"])
    await pool.close()
    await recorder.flush()  # the pool is closed: the write fails
    assert 2 == recorder.pending
    now[0] += 1
    recorder.record(seq, ["A"])  # a second connection of A, a second later
    recorder._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        await recorder.flush()
        groups = await recorder._pool.fetch(
            "SELECT delivered_at, units FROM relay_delivery_groups WHERE seq = $1 ORDER BY delivered_at", seq)
        view = await recorder._pool.fetch(
            "SELECT unit_id, delivered_at FROM relay_deliveries WHERE seq = $1 ORDER BY unit_id", seq)
    finally:
        await recorder._pool.close()
    assert 0 == recorder.pending
    assert [["A", "B"], ["A"]] == [row["units"] for row in groups]
    first = groups[0]["delivered_at"]
    assert [("A", first), ("B", first)] == [(row["unit_id"], row["delivered_at"]) for row in view]


@pytest.mark.asyncio(loop_scope="session")
async def test_migration_007_moves_the_rows_of_the_old_table_into_groups(pg_server):
    """Delivery rows stored before sql/007 are still there after it, through the view."""
    from datetime import UTC, datetime

    from relay.store.migrations import apply_migrations, discover_migrations
    from tests.conftest import database_url

    name = f"relay_migration_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server.dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    conn = await asyncpg.connect(database_url(pg_server, name))
    try:
        migrations = discover_migrations()
        await apply_migrations(conn, [m for m in migrations if m.version <= 6])
        moment = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        await conn.executemany("INSERT INTO relay_deliveries (seq, unit_id, delivered_at) VALUES ($1, $2, $3)",
                               [(1, "A", moment), (1, "B", moment), (2, "A", moment)])
        await apply_migrations(conn, migrations)
        rows = await conn.fetch("SELECT seq, unit_id, delivered_at FROM relay_deliveries ORDER BY seq, unit_id")
        groups = await conn.fetchval("SELECT count(*) FROM relay_delivery_groups")
    finally:
        await conn.close()
    assert [(1, "A", moment), (1, "B", moment), (2, "A", moment)] == [tuple(row) for row in rows]
    assert 2 == groups
