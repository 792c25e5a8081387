"""Configured limits: rate limiting, the auth frame deadline, the frame size, and logs
that never carry a token or a passenger's personal data."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.alert_examples import passenger_alert, seizure_alert
from tests.conftest import running_relay
from tests.support import TIMEOUT, create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIG = """
[limits]
publish_per_second = 1.0
publish_burst = 3
[stream]
auth_timeout = 1.0
max_frame_bytes = 65536
"""


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    async with running_relay(dsn, workdir, CONFIG) as process:
        yield process


async def test_a_unit_publishing_past_its_rate_gets_rate_limited(relay, dsn):
    """After the burst, publishes are refused with rate_limited (retriable), id echoed."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        replies = [await client.publish(seizure_alert(), ident=f"r{i}") for i in range(5)]
    assert ["ack"] * 3 == [r["type"] for r in replies[:3]]
    assert ("rate_limited", "r4") == (replies[4]["code"], replies[4]["id"])


async def test_no_auth_frame_within_the_deadline_closes_with_4401(relay):
    """Connected without a header and silent: closed with 4401 after auth_timeout."""
    async with connect(relay.url, subprotocols=["relay.v1.json"]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert 4401 == closed.value.rcvd.code


async def test_the_configured_frame_maximum_applies(relay, dsn):
    """A 70 KB frame passes the default but not this relay's 64 KiB maximum: 1009."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        await client.ws.send(orjson.dumps({"type": "publish", "id": "big", "alert": {"x": "y" * 70_000}}).decode())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.recv()
    assert 1009 == closed.value.rcvd.code


async def test_logs_name_units_but_never_tokens_or_passenger_data(relay, dsn):
    """Connection, publish and error lines carry the unit; no token, name or document."""
    unit_id, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, receiver = await create_unit(dsn, "MA-CMN-BNPJ", country="MA")
    await create_unit(dsn, "FR-CDG-OFAST", country="FR")
    alert = passenger_alert()
    alert["subjects"][0].update(surname="OUEDRAOGO-SECRET", given_names="Awa")
    async with stream_client(relay, token) as client:
        ack = await client.publish(alert)
        await client.publish({**alert, "kind": "bogus"})
    async with stream_client(relay, receiver, header_auth=False) as partner:
        await partner.request({"type": "receipt", "alert_id": ack["alert_id"], "status": "received",
                               "note": "passenger OUEDRAOGO-SECRET controlled"})
    for unit in (unit_id, "MA-CMN-BNPJ"):
        closed = await relay.log_lines(lambda line, unit=unit: line.get("unit") == unit
                                       and line["event"] == "connection_close")
    log = relay.log_path.read_text()
    mine = [line for line in closed if line.get("unit") == unit_id]
    assert {"connection_open", "published", "error_sent", "connection_close"} <= {line["event"] for line in mine}
    for secret in (token, receiver, "OUEDRAOGO-SECRET", "AA0000000"):
        assert secret not in log
