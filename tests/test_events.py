"""relay.core.events: an event's frames, built once per encoding, and who may see it."""

from __future__ import annotations

import msgpack
import orjson

from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding, encode_body
from relay.core.events import Event

REGIONS = {"G5-SAHEL": frozenset({"ML", "NE"})}


def event(kind: str = "alert", *, regions: frozenset[str] = frozenset()) -> Event:
    facts = None if kind == "receipt" else AlertFacts(
        kind="seizure", msg_type="alert", status="actual", priority="urgent", tlp="green",
        distribution=Distribution(regions=regions), airports=frozenset(), countries=frozenset(),
        commodities=frozenset(), references=None)
    body_json, body_msgpack = encode_body({"alert_id": "a1", "note": "é"})
    return Event(9, kind, "a1", "ML-BKO-JAITF", "TG-LFW-CAAT" if kind == "receipt" else
                 "ML-BKO-JAITF", facts, body_json, body_msgpack)


def test_each_encoding_gets_its_own_frame_built_once():
    """JSON text and MessagePack binary, each decoding to the event; the same bytes again."""
    e = event()
    as_json, as_msgpack = e.frame(Encoding.JSON), e.frame(Encoding.MSGPACK)
    expected = {"type": "alert", "seq": 9, "alert": {"alert_id": "a1", "note": "é"}}
    assert (expected, expected) == (orjson.loads(as_json), msgpack.unpackb(as_msgpack))
    assert e.frame(Encoding.JSON) is as_json and e.frame(Encoding.MSGPACK) is as_msgpack


def test_the_websocket_frame_is_text_for_json_and_binary_for_msgpack():
    e = event()
    text, binary = e.wire(Encoding.JSON), e.wire(Encoding.MSGPACK)
    assert (0x81, 0x82) == (text[0], binary[0])
    assert text.endswith(e.frame(Encoding.JSON)) and binary.endswith(e.frame(Encoding.MSGPACK))
    assert e.wire(Encoding.JSON) is text


def test_a_receipt_is_seen_by_the_alerts_origin_and_its_author_only():
    receipt = event("receipt")
    origin = Viewer("ML-BKO-JAITF", "ML", frozenset())
    author = Viewer("TG-LFW-CAAT", "TG", frozenset())
    other = Viewer("TG-LFW-OTHER", "TG", frozenset())
    assert (True, True, False) == tuple(receipt.visible_to(v, REGIONS) for v in (origin, author, other))


def test_an_alert_is_seen_through_the_regions_given():
    """The same alert to G5-SAHEL: seen in Niger with the regions, not without them."""
    alert = event(regions=frozenset({"G5-SAHEL"}))
    niger = Viewer("NE-NIM-DOUANE", "NE", frozenset())
    assert (True, False) == (alert.visible_to(niger, REGIONS), alert.visible_to(niger, {}))
