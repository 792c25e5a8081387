"""The group committer against PostgreSQL: one event the store refuses fails alone, the
others of its group are committed, in order."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import uuid_utils

from relay.config import DatabaseConfig
from relay.contract.errors import Unavailable
from relay.contract.facts import alert_facts
from relay.contract.times import rfc3339
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent
from relay.store.pool import create_pool
from relay.store.writer import EventWriter
from tests.alert_examples import seizure_alert
from tests.support import create_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


def pending_alert(unit_id: str, key: str) -> PendingEvent:
    alert = validate_alert(seizure_alert(), known_units={unit_id}, regions={})
    alert_id = str(uuid_utils.uuid7())
    received_at = datetime.now(UTC)
    body = {**alert, "alert_id": alert_id, "origin_unit": unit_id, "received_at": rfc3339(received_at)}
    body_json, body_msgpack = encode_body(body)
    return PendingEvent(unit_id, key, "alert", alert_id, unit_id, received_at, alert_facts(alert),
                        None, body_json, body_msgpack)


async def test_an_event_the_store_refuses_does_not_fail_the_rest_of_its_group(dsn):
    """A key PostgreSQL cannot store (NUL: the frame checks refuse it, this goes around
    them) fails with unavailable; the events queued with it are committed, in order."""
    unit_id, _ = await create_unit(dsn, country="TG")
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    committed: list[int] = []
    writer = EventWriter(pool, on_committed=lambda events: committed.extend(e.seq for e in events))
    try:
        keys = [f"good-{uuid.uuid4()}", "bad-\x00-key", f"good-{uuid.uuid4()}"]
        batch = [pending_alert(unit_id, key) for key in keys]
        submissions = [asyncio.ensure_future(writer.submit(pending)) for pending in batch]
        writer.start()  # all three are queued before the writer runs: one group
        results = await asyncio.gather(*submissions, return_exceptions=True)
        await writer.drain_and_stop()
    finally:
        await pool.close()
    first, refused, last = results
    assert isinstance(refused, Unavailable)
    assert not isinstance(first, BaseException) and not isinstance(last, BaseException)
    assert [first.seq, last.seq] == committed
    assert first.seq < last.seq


def _kernel_send_buffer_max() -> int:
    return int(Path("/proc/sys/net/core/wmem_max").read_text())


def _send_buffer(conn: asyncpg.Connection) -> int:
    sock = conn._con._transport.get_extra_info("socket")  # what widen_send_buffer set
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


async def test_the_write_pool_sends_a_whole_group_commit_in_one_write(dsn):
    """The write pool's connections get the configured send buffer (the kernel caps it at
    net.core.wmem_max, and Linux reports twice what it grants); other pools keep the
    system's default; commits through the widened connection go on, in order."""
    wanted = 2_097_152
    kernel_max = _kernel_send_buffer_max()
    config = DatabaseConfig(url=dsn, role="", write_send_buffer_bytes=wanted)
    writes = await create_pool(dsn, config, min_size=1, max_size=1, send_buffer_bytes=wanted)
    reads = await create_pool(dsn, config, min_size=1, max_size=1)
    try:
        async with writes.acquire() as widened, reads.acquire() as plain:
            assert _send_buffer(widened) >= 2 * min(wanted, kernel_max)
            assert _send_buffer(plain) < 2 * wanted
            unit_id, _ = await create_unit(dsn, country="TG")
            writer = EventWriter(writes, on_committed=lambda events: None)
    finally:
        await reads.close()
    try:
        writer.start()
        results = await asyncio.gather(*(writer.submit(pending_alert(unit_id, f"w-{i}"))
                                         for i in range(50)))
        await writer.drain_and_stop()
    finally:
        await writes.close()
    assert sorted(r.seq for r in results) == [r.seq for r in results]
