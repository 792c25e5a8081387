"""Bad input is a client error, never "retry later" (issue 9, item 7).

Deep nesting, numbers that are not ASCII digits or out of range, hand-made cursors, keys
given twice and control characters are refused with a code that names the problem, so
that a client following the contract stops instead of resending forever.
"""

from __future__ import annotations

import base64
import json

import aiohttp
import msgpack
import orjson
import pytest

from tests.alert_examples import seizure_alert
from tests.support import create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("depth", "encoding"), [
    (33, "relay.v1.json"), (256, "relay.v1.json"), (700, "relay.v1.json"),
    (33, "relay.v1.msgpack"), (256, "relay.v1.msgpack"),
])
async def test_deep_nesting_in_ext_is_invalid_alert_naming_the_path(relay, dsn, depth, encoding):
    """32 levels at most; deeper is invalid_alert (too_deep) naming the path, on both
    encodings (it was unavailable, so a client resent it forever)."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    frame = {"type": "publish", "id": f"deep-{depth}", "alert": seizure_alert(ext=nested(depth))}
    async with stream_client(relay, token, encoding=encoding) as client:
        if encoding == "relay.v1.json":
            await client.ws.send(json.dumps(frame))
        else:
            await client.ws.send(msgpack.packb(frame))
        reply = await client.recv()
    assert ("error", "invalid_alert") == (reply["type"], reply["code"]), reply
    assert "too_deep" == reply["details"][0]["code"]
    assert reply["details"][0]["field"].startswith("ext.a.a")


async def test_deep_nesting_anywhere_in_a_frame_is_a_client_error(relay, dsn):
    """1,100 levels in the frame itself: bad_frame (the JSON parser's limit), not
    unavailable, and the connection serves on."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        await client.ws.send('{"type":"publish","id":"deep","alert":' + '[' * 1100 + ']' * 1100 + '}')
        reply = await client.recv()
        again = await client.publish(seizure_alert())
    assert ("error", "bad_frame") == (reply["type"], reply["code"])
    assert "ack" == again["type"]


async def test_a_key_given_twice_in_a_json_frame_is_a_bad_frame(relay, dsn):
    """{"type":"publish",...,"type":"subscribe"} is not taken with the last value."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        await client.ws.send('{"type":"publish","id":"dup","alert":{},"type":"subscribe"}')
        reply = await client.recv()
    assert ("bad_frame", "dup") != (reply["code"], reply.get("id"))
    assert "bad_frame" == reply["code"] and "twice" in reply["message"]


@pytest.mark.parametrize(("field", "value"), [
    ("summary", "cocaine \x01\x01\x01"), ("seizures.0.description", "\x1b[31mred"),
])
async def test_control_characters_in_text_are_refused_naming_the_field(relay, dsn, field, value):
    """C0 control characters other than tab and newline: invalid_alert at the field."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    alert = seizure_alert()
    if field == "summary":
        alert["summary"] = value
    else:
        alert["seizures"][0]["description"] = value
    async with stream_client(relay, token) as client:
        reply = await client.publish(alert)
    path = field.replace(".0.", "[0].")
    assert [(path, "control_character")] == [(d["field"], d["code"]) for d in reply["details"]]


async def test_tab_and_newline_stay_allowed_in_text(relay, dsn):
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        reply = await client.publish(seizure_alert(summary="line one\n\tline two"))
    assert "ack" == reply["type"]


def cursor_of(position: int) -> str:
    return base64.urlsafe_b64encode(f'{{"v":1,"before":{position}}}'.encode()).decode()


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": "9" * 5000}, "limit"), ({"limit": "²"}, "limit"), ({"limit": "٣"}, "limit"),
    ({"limit": "+5"}, "limit"), ({"cursor": cursor_of(2**63)}, "cursor"),
    ({"cursor": cursor_of(2**70)}, "cursor"),
])
async def test_query_numbers_are_ascii_digits_in_range_else_invalid_query(relay, dsn, params, field):
    """Never 503 for a client's number: 400 invalid_query naming the parameter."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for path in ("/v1/alerts", "/v1/audit/access-log"):
            async with http.get(relay.http + path, params=params) as response:
                body = await response.json()
            if path == "/v1/audit/access-log":
                assert 403 == response.status  # checked only for auditors
                continue
            assert (400, "invalid_query", [field]) == (
                response.status, body["code"], [d["field"] for d in body["details"]])


async def test_a_key_given_twice_in_an_http_body_is_refused(relay, dsn):
    """POST /v1/alerts with a duplicated key: 400, not the last value."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    body = orjson.dumps(seizure_alert()).decode()[:-1] + ',"priority":"flash"}'
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}",
                                              "Idempotency-Key": "dup-1"}) as http, \
            http.post(relay.http + "/v1/alerts", data=body) as response:
        error = await response.json()
    assert (400, "invalid_alert") == (response.status, error["code"])
