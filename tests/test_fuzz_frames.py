"""Hypothesis-generated frames never crash the relay nor leak an exception to the client.

Every generated frame gets exactly one well-formed reply (an error with a contract code,
an ack, or subscribed), the connection stays open, and another connection is untouched.
"""

from __future__ import annotations

import asyncio

import msgpack
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from relay.contract.errors import ERROR_CODES
from relay.contract.problems import PROBLEM_CODES
from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import TIMEOUT, create_unit, stream_client, unique_unit

scalars = st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.floats() | st.text(max_size=30)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
types = st.sampled_from(["publish", "subscribe", "receipt", "auth", "ack", "", "PUBLISH"]) | st.text(max_size=8)
frames = st.fixed_dictionaries({"type": types}, optional={
    "id": st.text(max_size=70) | st.integers(),
    "alert": values | st.builds(passenger_alert),
    "filter": values,
    "since": values,
    "alert_id": st.uuids().map(str) | st.text(max_size=40),
    "status": st.sampled_from(["received", "positive", "maybe"]),
    "note": values,
})
REPLIES = {"error", "ack", "subscribed"}


@pytest.fixture(scope="module")
def token(dsn) -> str:
    return asyncio.run(create_unit(dsn, unique_unit("ML"), country="ML"))[1]


def reply_is_well_formed(reply: dict) -> None:
    assert reply["type"] in REPLIES, reply
    if reply["type"] == "error":
        assert reply["code"] in ERROR_CODES, reply
        assert isinstance(reply["message"], str) and reply["message"]
        assert "Traceback" not in reply["message"]
        assert all(set(d) == {"field", "problem", "code", "params"} for d in reply["details"])
        assert all(d["code"] in PROBLEM_CODES for d in reply["details"])


@pytest.mark.parametrize("encoding", ["relay.v1.json", "relay.v1.msgpack"])
def test_generated_frames_get_one_clean_reply_each(relay, token, encoding):
    """Whatever the frame, one reply with a contract code, and the connection lives on."""
    headers = {"Authorization": f"Bearer {token}"}
    with connect(relay.url, subprotocols=[encoding], additional_headers=headers) as ws:
        ws.recv(TIMEOUT)

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(frame=frames)
        def one_frame(frame):
            try:
                data = (orjson.dumps(frame).decode() if encoding == "relay.v1.json"
                        else msgpack.packb(frame, use_bin_type=True))
            except (TypeError, ValueError, OverflowError):
                return  # not representable in this encoding (e.g. NaN in JSON is fine, huge ints are not)
            ws.send(data)
            while True:
                raw = ws.recv(TIMEOUT)
                reply = orjson.loads(raw) if encoding == "relay.v1.json" else msgpack.unpackb(raw)
                if reply["type"] in REPLIES:
                    break
            reply_is_well_formed(reply)

        one_frame()
        ws.send(orjson.dumps({"type": "subscribe", "id": "still-here"}).decode()
                if encoding == "relay.v1.json" else msgpack.packb({"type": "subscribe", "id": "still-here"}))
        raw = ws.recv(TIMEOUT)
        last = orjson.loads(raw) if encoding == "relay.v1.json" else msgpack.unpackb(raw)
        while last.get("id") != "still-here":
            raw = ws.recv(TIMEOUT)
            last = orjson.loads(raw) if encoding == "relay.v1.json" else msgpack.unpackb(raw)
    assert "subscribed" == last["type"]


@pytest.mark.asyncio(loop_scope="session")
async def test_the_relay_is_still_serving_after_the_fuzzing(relay, token):
    """The relay process is alive and a fresh connection works."""
    assert relay.process.poll() is None
    async with stream_client(relay, token) as client:
        ack = await client.publish(seizure_alert())
    assert "ack" == ack["type"]
