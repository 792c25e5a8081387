"""relay.contract.frames and relay.contract.wire: each bad frame's exact problems, the
decoded values of both encodings, and the frames the relay builds."""

from __future__ import annotations

import msgpack
import orjson
import pytest

from relay.contract.errors import BadFrame, UnknownType
from relay.contract.frames import (
    MAX_ID_LENGTH,
    MAX_NOTE_LENGTH,
    ReceiptFrame,
    SubscribeFrame,
    frame_id,
    parse_auth_frame,
    parse_client_frame,
)
from relay.contract.wire import (
    Encoding,
    decode_frame,
    encode_body,
    encode_frame,
    event_frame,
    websocket_frame,
)

ALERT_ID = "01234567-89ab-7def-8123-456789abcdef"


def refusal(frame: dict[str, object]) -> tuple[str, str, list[tuple[str, str, dict[str, object]]]]:
    """(error code, message, [(field, problem code, params)]) of a refused frame."""
    with pytest.raises((BadFrame, UnknownType)) as refused:
        parse_client_frame(frame)
    error = refused.value
    return error.code, error.message, [(p.field, p.code, dict(p.params)) for p in error.details]


@pytest.mark.parametrize(("frame", "expected"), [
    ({"id": "x"}, ("bad_frame", "the frame has no type", [("type", "required", {})])),
    ({"type": 3, "id": "x"}, ("bad_frame", "the frame type must be a string",
                              [("type", "not_a_string", {})])),
    ({"type": "publish"}, ("bad_frame", "the publish frame is not valid",
                           [("id", "required", {}), ("alert", "required", {})])),
    ({"type": "publish", "id": "", "alert": {}},
     ("bad_frame", "the publish frame is not valid",
      [("id", "string_length", {"low": 1, "high": MAX_ID_LENGTH})])),
    ({"type": "publish", "id": "a\x00b", "alert": {}},
     ("bad_frame", "the publish frame is not valid", [("id", "nul_character", {})])),
    ({"type": "publish", "id": "p", "alert": {}, 7: "x", "": 1},
     ("bad_frame", "the publish frame is not valid",
      [("7", "unknown_field", {}), ("''", "unknown_field", {})])),
    ({"type": "subscribe", "id": "s", "since": -1},
     ("bad_frame", "the subscribe frame is not valid", [("since", "min_integer", {"low": 0})])),
    ({"type": "subscribe", "id": "s", "since": 1.0},
     ("bad_frame", "the subscribe frame is not valid", [("since", "min_integer", {"low": 0})])),
    ({"type": "receipt", "id": "r", "alert_id": ALERT_ID.upper(), "status": "seen",
      "note": "n" * (MAX_NOTE_LENGTH + 1)},
     ("bad_frame", "the receipt frame is not valid",
      [("alert_id", "bad_alert_id", {}),
       ("status", "not_one_of", {"allowed": ["received", "in_progress", "positive", "negative",
                                             "not_located"]}),
       ("note", "string_length", {"high": MAX_NOTE_LENGTH})])),
    ({"type": "receipt", "id": "r", "alert_id": ALERT_ID + "\n", "status": "received",
      "note": "a\x00"},
     ("bad_frame", "the receipt frame is not valid",
      [("alert_id", "bad_alert_id", {}), ("note", "nul_character", {})])),
])
def test_each_bad_frame_names_its_problems_with_code_and_params(frame, expected):
    """Every problem of a frame, in order, each with its field, code and params."""
    assert expected == refusal(frame)


def test_an_unknown_type_names_the_types_it_could_be():
    """unknown_type: the type given (cut to 64 characters) and the expected ones."""
    code, message, details = refusal({"type": "t" * 70, "id": "x"})
    assert ("unknown_type", []) == (code, details)
    assert message == f"unknown frame type {'t' * 64!r}; expected one of publish, subscribe, receipt"


def test_an_id_of_64_characters_is_echoed_and_one_of_65_is_not():
    """frame_id: the limit included; a NUL or a non-string is never echoed."""
    assert ("i" * MAX_ID_LENGTH, None, None, None) == (
        frame_id({"id": "i" * MAX_ID_LENGTH}), frame_id({"id": "i" * (MAX_ID_LENGTH + 1)}),
        frame_id({"id": "a\x00"}), frame_id({"id": ""}))
    assert "i" * MAX_ID_LENGTH == parse_client_frame(
        {"type": "publish", "id": "i" * MAX_ID_LENGTH, "alert": {}}).id


def test_a_receipt_and_a_subscribe_carry_what_they_were_given():
    """The typed frames hold the frame's values (a note of exactly the maximum length)."""
    note = "n" * MAX_NOTE_LENGTH
    assert ReceiptFrame("r", ALERT_ID, "positive", note) == parse_client_frame(
        {"type": "receipt", "id": "r", "alert_id": ALERT_ID, "status": "positive", "note": note})
    assert SubscribeFrame("s", parse_client_frame(
        {"type": "subscribe", "id": "s"}).filter, 0) == parse_client_frame(
        {"type": "subscribe", "id": "s", "since": 0})


@pytest.mark.parametrize(("frame", "message", "details"), [
    ({"type": "publish", "id": "p"}, "the first frame must be an auth frame", []),
    ({"type": "auth"}, "the auth frame needs a token", [("token", "required")]),
    ({"type": "auth", "token": 5}, "the auth frame needs a token", [("token", "required")]),
])
def test_a_bad_auth_frame_says_what_is_missing(frame, message, details):
    with pytest.raises(BadFrame) as refused:
        parse_auth_frame(frame)
    assert (message, details) == (refused.value.message,
                                  [(p.field, p.code) for p in refused.value.details])


@pytest.mark.parametrize("encoding", list(Encoding))
def test_frames_decode_to_the_same_map_in_both_encodings(encoding):
    """Strings stay strings (not bytes), numbers and nesting as sent."""
    frame = {"type": "publish", "id": "p1", "alert": {"n": 1.5, "list": [1, "été", None]}}
    data = orjson.dumps(frame).decode() if encoding is Encoding.JSON else msgpack.packb(frame)
    assert frame == decode_frame(encoding, data)


@pytest.mark.parametrize(("encoding", "data", "message"), [
    (Encoding.JSON, b"{}", "relay.v1.json frames must be text frames"),
    (Encoding.MSGPACK, "{}", "relay.v1.msgpack frames must be binary frames"),
    (Encoding.JSON, "[1]", "the frame must be a map, not an array"),
    (Encoding.JSON, "null", "the frame must be a map, not null"),
    (Encoding.JSON, "3", "the frame must be a map, not a int"),
    (Encoding.JSON, "{", "the frame is not valid JSON: "),
    (Encoding.MSGPACK, b"\xc1", "the frame is not valid MessagePack: "),
])
def test_undecodable_frames_say_why_in_their_message(encoding, data, message):
    with pytest.raises(BadFrame) as refused:
        decode_frame(encoding, data)
    assert refused.value.message.startswith(message)
    assert len(refused.value.message) < 300 and "\n" not in refused.value.message


def test_a_msgpack_timestamp_extension_stays_a_timestamp_object():
    """MessagePack's timestamp extension is not turned into a number or a date: validation
    then refuses it where a string is due, and as a non-JSON value inside ext."""
    packed = msgpack.packb({"type": "publish", "when": msgpack.Timestamp(1, 0)})
    assert msgpack.Timestamp(1, 0) == decode_frame(Encoding.MSGPACK, packed)["when"]


def test_replies_and_bodies_are_text_in_json_and_binary_in_msgpack():
    """encode_frame: str for JSON, bytes for MessagePack; encode_body: both, once."""
    frame = {"type": "ack", "id": "p", "seq": 3, "blob": "é"}
    as_json, as_msgpack = encode_frame(Encoding.JSON, frame), encode_frame(Encoding.MSGPACK, frame)
    assert isinstance(as_json, str) and frame == orjson.loads(as_json)
    assert isinstance(as_msgpack, bytes) and frame == msgpack.unpackb(as_msgpack)
    body_json, body_msgpack = encode_body({"s": "é", "b": True})
    assert ({"s": "é", "b": True}, {"s": "é", "b": True}) == (
        orjson.loads(body_json), msgpack.unpackb(body_msgpack, raw=False))
    assert b"\xa2\xc3\xa9" in body_msgpack  # a str, not bin, in MessagePack


@pytest.mark.parametrize(("size", "header"), [
    (0, b"\x81\x00"), (125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"),
    (65535, b"\x81\x7e\xff\xff"), (65536, b"\x81\x7f" + (65536).to_bytes(8, "big")),
])
def test_websocket_frame_headers_follow_rfc_6455_for_each_length(size, header):
    """FIN + text opcode, then the 7-bit, 16-bit or 64-bit length (RFC 6455 §5.2)."""
    frame = websocket_frame(b"x" * size, text=True)
    assert (header, size) == (frame[: len(header)], len(frame) - len(header))


def test_a_binary_websocket_frame_has_the_binary_opcode():
    assert b"\x82\x03abc" == websocket_frame(b"abc", text=False)


def test_an_event_frame_in_json_is_the_spliced_text_of_its_body():
    """The exact bytes: type, seq, then the body under the kind's name."""
    body, _ = encode_body({"alert_id": "a"})
    assert b'{"type":"receipt","seq":7,"receipt":{"alert_id":"a"}}' == event_frame(
        Encoding.JSON, "receipt", 7, body)
