"""Passengers' personal data across a link (docs/federation.md "Passengers' personal
data"): a peer's alert is sealed at rest here as well and masked by this relay's own
schedule; an alert the origin has masked no longer crosses, even on a catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests import protection_support
from tests.alert_examples import passenger_alert
from tests.conftest import fresh_database
from tests.federation import build_federation, read_replay, wait_for
from tests.support import stream_client
from tests.test_protection import subject

pytestmark = pytest.mark.asyncio(loop_scope="module")



@pytest.fixture(scope="module")
async def pair(pg_server, template_db, workdir):
    dsns = {rid: await fresh_database(pg_server, template_db) for rid in ("ML", "SN")}
    async with build_federation(dsns, workdir, countries={"ML": "ML", "SN": "SN"}) as federation:
        await federation["ML"].add_unit("ML-BKO-PAXF")
        await federation["SN"].add_unit("SN-DSS-PAXF")
        await federation["SN"].process.log_lines(
            lambda line: line.get("event") == "peer_directory" and line.get("peer") == "ML")
        yield federation, dsns


async def mask(dsn: str) -> int:
    done = await protection_support.run_jobs(dsn, datetime.now(UTC) + timedelta(days=200))
    return done.masked


async def stored_row(dsn: str, alert_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchrow("SELECT chain_version, body_json, personal,"
                                   " (SELECT masked_at FROM relay_masks m WHERE m.seq = e.seq) AS masked_at"
                                   " FROM relay_events e"
                                   " WHERE alert_id = $1::uuid AND kind = 'alert'", alert_id)
    finally:
        await conn.close()


async def publish(federation, tag: str) -> str:
    ml = federation["ML"]
    async with stream_client(ml.process, ml.units["ML-BKO-PAXF"]) as client:
        ack = await client.publish(passenger_alert(subjects=[subject(tag)],
                                                   distribution={"countries": ["SN"]}))
    return ack["alert_id"]


async def sn_alerts(federation) -> dict[str, dict]:
    events = await read_replay(federation["SN"], "SN-DSS-PAXF")
    return {e["alert"]["alert_id"]: e["alert"] for e in events if e["type"] == "alert"}


async def test_a_peers_alert_is_sealed_here_and_masked_by_this_relays_schedule(pair):
    federation, dsns = pair
    alert_id = await publish(federation, "FEDA")
    seen = await wait_for(lambda: _has(federation, alert_id), what="the alert at SN")
    assert seen["subjects"][0]["surname"] == "SURNAMEFEDA" and seen["origin_relay"] == "ML"
    row = await stored_row(dsns["SN"], alert_id)
    assert row["chain_version"] == 2 and row["personal"] is not None
    assert b"SURNAMEFEDA" not in bytes(row["body_json"]) and b"DOCFEDA77" not in bytes(row["body_json"])
    assert 1 == await mask(dsns["SN"])  # SN's own job, SN's own stored state
    shown = (await sn_alerts(federation))[alert_id]
    assert "masked_at" in shown and "surname" not in shown["subjects"][0]


async def test_an_alert_masked_at_the_origin_does_not_cross_on_a_catch_up(pair):
    federation, dsns = pair
    sn = federation["SN"]
    await sn.process.stop()
    masked_id = await publish(federation, "FEDB")
    assert 2 == await mask(dsns["ML"])  # FEDB, and FEDA (masked at SN only so far)
    fresh_id = await publish(federation, "FEDC")
    await sn.process.start()
    seen = await wait_for(lambda: _has(federation, fresh_id), what="the alert after it at SN")
    assert seen["subjects"][0]["surname"] == "SURNAMEFEDC"
    assert masked_id not in await sn_alerts(federation)
    assert await stored_row(dsns["SN"], masked_id) is None
    assert "peer_event_refused" not in sn.process.log()  # never sent, not sent and refused


async def _has(federation, alert_id: str) -> dict | None:
    return (await sn_alerts(federation)).get(alert_id)
