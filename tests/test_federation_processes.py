"""Two relay processes on SN's one database, each running the link from ML (docs/federation.md
"Several relay processes on one database"): every alert from ML is stored once, in ML's
order, and a subscriber on either process receives each once, live."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.federation import FAST, grant_to_file
from tests.support import RelayProcess, create_unit, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="module")
ALERTS = 120


async def test_two_processes_pulling_the_same_link_store_each_event_once(pg_server, template_db, workdir):
    ml_dsn, sn_dsn = await fresh_database(pg_server, template_db), await fresh_database(pg_server, template_db)
    token_file = await grant_to_file(ml_dsn, "SN", ["SN"], workdir / "sn.token")
    _, officer = await create_unit(ml_dsn, "ML-BKO-JAITF", country="ML")
    _, partner = await create_unit(sn_dsn, "SN-DSS-JAITF", country="SN")
    ml = RelayProcess(ml_dsn, workdir / "ml", config_text=f'[relay]\nid = "ML"\n{FAST}')
    await ml.start()
    link = (f'[relay]\nid = "SN"\n{FAST}\n[[federation.peers]]\nid = "ML"\nurl = "{ml.url}"\n'
            f'token_file = "{token_file}"\n')
    first, second = (RelayProcess(sn_dsn, workdir / name, config_text=link) for name in ("sn1", "sn2"))
    try:
        await asyncio.gather(first.start(), second.start())
        for process in (first, second):
            await process.log_lines(lambda line: line.get("event") == "link_up")
        async with stream_client(first, partner) as one, stream_client(second, partner) as two:
            await one.subscribe()
            await two.subscribe()
            acks = []
            async with stream_client(ml, officer) as publisher:
                for number in range(ALERTS):
                    acks.append(await publisher.publish(
                        seizure_alert(distribution={"countries": ["SN"]}, summary=f"alert {number}")))
            sent = [ack["alert_id"] for ack in acks]
            at_one = [frame["alert"]["alert_id"] for frame in await one.events(ALERTS, timeout=30)]
            at_two = [frame["alert"]["alert_id"] for frame in await two.events(ALERTS, timeout=30)]
            await one.no_event(0.5)
        conn = await asyncpg.connect(sn_dsn)
        try:
            rows = await conn.fetch("SELECT alert_id::text, origin_seq FROM relay_events"
                                    " WHERE origin_relay = 'ML' ORDER BY seq")
        finally:
            await conn.close()
        logs = first.log_path.read_text() + second.log_path.read_text()
    finally:
        await asyncio.gather(first.stop(), second.stop(), return_exceptions=True)
        await ml.stop()
    assert "UniqueViolation" not in logs and "link_failed" not in logs  # deduplicated, not refused
    assert sent == at_one == at_two
    assert sent == [row["alert_id"] for row in rows]  # once each, in ML's order
    assert [ack["seq"] for ack in acks] == [row["origin_seq"] for row in rows]
