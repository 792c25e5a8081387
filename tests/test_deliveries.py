"""Delivery records: which units were sent each alert, and when, written in batches."""

from __future__ import annotations

import asyncio

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
    from relay.deliveries import DeliveryRecorder

    dropped = []
    recorder = DeliveryRecorder(None, max_pending=2, on_dropped=dropped.append, clock=lambda: 100.0)  # type: ignore[arg-type]
    for seq, unit in ((1, "A"), (1, "A"), (1, "B"), (2, "A")):
        recorder.record(seq, unit)
    assert (2, [1]) == (recorder.pending, dropped)
