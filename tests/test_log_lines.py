"""What the relay's log says of connections: enough to trace a bad token to the terminal
that sent it (its address and port), the public token id of an open connection, and
never a token."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.support import TIMEOUT, create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


def log_lines(relay, event: str) -> list[dict]:
    lines = [json.loads(line) for line in relay.log_path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


async def until_logged(relay, event: str, predicate) -> dict:
    for _ in range(100):
        found = [line for line in log_lines(relay, event) if predicate(line)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event} line matching: {log_lines(relay, event)[-3:]}")


async def test_refused_tokens_are_logged_with_the_client_address_and_port(relay):
    wrong = "relay_" + "x" * 43
    with pytest.raises(websockets.InvalidStatus):
        async with connect(relay.url, additional_headers={"Authorization": f"Bearer {wrong}"},
                           open_timeout=TIMEOUT) as ws:
            await ws.recv()
    header = await until_logged(relay, "auth_refused", lambda line: line.get("how") == "header")
    assert header["client"].startswith("127.0.0.1:") and header["client"].split(":")[1].isdigit()
    async with connect(relay.url, subprotocols=["relay.v1.json"], open_timeout=TIMEOUT) as ws:
        port = ws.local_address[1]
        await ws.send(json.dumps({"type": "auth", "token": wrong}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    frame = await until_logged(relay, "auth_refused", lambda line: line.get("how") == "frame")
    assert f"127.0.0.1:{port}" == frame["client"]
    async with connect(relay.url, subprotocols=["relay.v1.json"], open_timeout=TIMEOUT) as ws:
        port = ws.local_address[1]
        await ws.send("not even json")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    garbled = await until_logged(relay, "auth_refused", lambda line: line.get("how") == "bad_auth_frame")
    assert f"127.0.0.1:{port}" == garbled["client"]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {wrong}"}) as http, \
            http.get(f"{relay.http}/v1/alerts", timeout=aiohttp.ClientTimeout(TIMEOUT)) as response:
        assert 401 == response.status
    over_http = await until_logged(relay, "auth_refused", lambda line: line.get("how") == "http")
    assert "127.0.0.1" == over_http["client"] and "/v1/alerts" == over_http["path"]
    assert wrong not in relay.log_path.read_text()


async def test_an_open_connection_is_logged_with_its_address_and_public_token_id(relay, dsn):
    unit_id, token = await create_unit(dsn, unique_unit("CV"), country="CV")
    async with stream_client(relay, token) as client:
        port = client.ws.local_address[1]
    opened = await until_logged(relay, "connection_open", lambda line: line.get("unit") == unit_id)
    assert f"127.0.0.1:{port}" == opened["client"] and opened["token_id"].startswith("tok_")
    closed = await until_logged(relay, "connection_close", lambda line: line.get("unit") == unit_id)
    assert opened["client"] == closed["client"]
    assert token not in relay.log_path.read_text()
