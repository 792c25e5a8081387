"""The two encodings of the stream (protocol.md "Stream transport").

``relay.v1.msgpack``: every frame binary, one MessagePack map.
``relay.v1.json``: every frame text, one JSON object.

An event frame is built by splicing the stored body of the event into a small
per-encoding prefix, so a body is encoded once and the same bytes go to every recipient.
"""

from __future__ import annotations

import enum
import json
import struct
from collections.abc import Mapping
from typing import Any

import msgpack
import orjson

from relay.contract.errors import BadFrame

__all__ = [
    "SUBPROTOCOLS",
    "Encoding",
    "choose_encoding",
    "decode_frame",
    "encode_body",
    "encode_frame",
    "event_frame",
    "json_value",
    "websocket_frame",
]


class Encoding(enum.Enum):
    MSGPACK = "relay.v1.msgpack"
    JSON = "relay.v1.json"


SUBPROTOCOLS = (Encoding.MSGPACK.value, Encoding.JSON.value)


def choose_encoding(offered: object) -> Encoding:
    """The sub-protocol the relay speaks: the client's choice, msgpack when it offers neither."""
    return Encoding.JSON if offered == Encoding.JSON.value else Encoding.MSGPACK


def decode_frame(encoding: Encoding, data: str | bytes) -> dict[str, Any]:
    """Decode one client frame into a map; :class:`BadFrame` names what is wrong."""
    try:
        if encoding is Encoding.JSON:
            if isinstance(data, bytes):
                raise BadFrame("relay.v1.json frames must be text frames")
            value = json_value(data)
        else:
            if isinstance(data, str):
                raise BadFrame("relay.v1.msgpack frames must be binary frames")
            value = msgpack.unpackb(data, raw=False, strict_map_key=True, timestamp=0,
                                    object_pairs_hook=_unique_keys)
    except BadFrame:
        raise
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException,
            msgpack.ExtraData) as exc:
        raise BadFrame(f"the frame is not valid {_name(encoding)}: {_reason(exc)}") from None
    if not isinstance(value, dict):
        raise BadFrame(f"the frame must be a map, not {_kind(value)}")
    return value


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map from its key/value pairs; a key given twice is refused, not "the last wins"
    (two readers of the same frame could otherwise disagree on what it says)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[Any] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"the key {str(key)[:64]!r} is given twice in one map")
            seen.add(key)
    return value


def json_value(data: str | bytes) -> Any:
    """A JSON document's value; ValueError when it is not strict JSON (orjson: UTF-8, no
    NaN, at most 1024 levels) or a map in it has a key twice (orjson would keep the last
    one silently; the standard parser, given the hook, tells)."""
    value = orjson.loads(data)
    try:
        json.loads(data, object_pairs_hook=_unique_keys)
    except RecursionError:  # deeper than the standard parser's stack: orjson said <= 1024
        raise ValueError("nested too deep") from None
    return value


def encode_frame(encoding: Encoding, frame: Mapping[str, Any]) -> str | bytes:
    """Encode a frame the relay sends: text for JSON, binary for msgpack."""
    if encoding is Encoding.JSON:
        return orjson.dumps(frame).decode("utf-8")
    return msgpack.packb(frame, use_bin_type=True)  # type: ignore[no-any-return]


def encode_body(body: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The (JSON, msgpack) encodings of an event body, computed once and stored."""
    return orjson.dumps(body), msgpack.packb(body, use_bin_type=True)


_MSGPACK_TYPE = msgpack.packb("type")
_MSGPACK_SEQ = msgpack.packb("seq")


def event_frame(encoding: Encoding, kind: str, seq: int, body: bytes) -> bytes:
    """``{"type": kind, "seq": seq, kind: <body>}`` from an already encoded body.

    For JSON the result is UTF-8 text to send in a text frame; for msgpack a binary map.
    """
    if encoding is Encoding.JSON:
        return b'{"type":"%s","seq":%d,"%s":%s}' % (kind.encode(), seq, kind.encode(), body)
    kind_packed = msgpack.packb(kind)
    return b"".join(
        (b"\x83", _MSGPACK_TYPE, kind_packed, _MSGPACK_SEQ, msgpack.packb(seq), kind_packed, body)
    )


def _name(encoding: Encoding) -> str:
    return "JSON" if encoding is Encoding.JSON else "MessagePack"


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def websocket_frame(payload: bytes, *, text: bool) -> bytes:
    """A complete, unmasked, unfragmented server-to-client WebSocket frame (RFC 6455 §5.2).

    Built once per event and encoding, these bytes are written as they are to every
    recipient's transport: the "encode once, send the same bytes to all" of fan-out.
    """
    head = 0x81 if text else 0x82
    size = len(payload)
    if size < 126:
        header = bytes((head, size))
    elif size < 65536:
        header = struct.pack("!BBH", head, 126, size)
    else:
        header = struct.pack("!BBQ", head, 127, size)
    return header + payload
