"""An export of 100,000 alerts streams with flat memory (issue 3).

The alerts are appended through the writer's own path (sealed as it seals them, then
relay_append() in batches of 5,000) to keep the test short; the export is then read over
HTTP while the relay's resident memory is sampled. They are passenger alerts, so that
each row's personal fields are opened to be shown (protection.md)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import aiohttp
import asyncpg
import orjson
import psutil
import pytest

from relay.contract.facts import alert_facts
from relay.contract.times import rfc3339
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent
from relay.store.chain_export import verify_export
from relay.store.writer import _APPEND, new_events
from tests.alert_examples import passenger_alert
from tests.support import create_unit, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")
COUNT = 100_000


async def append_alerts(dsn: str, origin: str, count: int) -> None:
    alert = validate_alert(passenger_alert(distribution={"countries": ["TG"]}), known_units=set(),
                           regions={})
    facts = alert_facts(alert)
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, count, 5000):
            batch = []
            for n in range(start, min(count, start + 5000)):
                alert_id, now = str(uuid.uuid4()), datetime.now(UTC)
                body = {**alert, "alert_id": alert_id, "origin_unit": origin, "received_at": rfc3339(now)}
                as_json, as_msgpack = encode_body(body)
                batch.append(PendingEvent(origin, f"bulk-{n}", "alert", alert_id, origin, now, facts,
                                          None, as_json, as_msgpack, future=None))  # type: ignore[arg-type]
            await conn.fetch(_APPEND, new_events(batch))
    finally:
        await conn.close()


async def test_an_export_of_100000_alerts_streams_with_flat_memory(relay, dsn):
    """Every row arrives, and the relay's RSS grows by less than 20 MB while it streams."""
    origin, _ = await create_unit(dsn, unique_unit("TG"), country="TG")
    _, auditor = await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit")
    await append_alerts(dsn, origin, COUNT)
    process = psutil.Process(relay.process.pid)
    baseline = process.memory_info().rss
    peak, lines, tail = baseline, 0, b""
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.http}/v1/audit/export", params={"format": "ndjson", "origin_unit": origin},
            headers={"Authorization": f"Bearer {auditor}"}) as response:
        assert 200 == response.status
        async for chunk in response.content.iter_chunked(65536):
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-65536:]
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0)
    last = tail.splitlines()[-1]
    assert COUNT == lines
    # the last line whole, down to its content digest: a sealed alert's line, shown with
    # its personal fields opened, that verifies
    sealed = orjson.loads(last)
    assert (True, 2, True, True, None) == (
        tail.endswith(b"\n"), sealed["chain"], bool(sealed["commitments"]),
        "surname" in sealed["alert"]["subjects"][0], verify_export([last], filtered=True).problem)
    assert peak - baseline < 20 * 2**20, f"RSS grew by {(peak - baseline) / 2**20:.1f} MB"
