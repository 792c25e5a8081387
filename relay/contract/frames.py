"""Client frames (protocol.md "Frames"): a decoded map in, a typed request out.

Pure: no I/O. Every failure is a :class:`relay.errors.RelayError` whose details name
the field. The frame's ``id`` is read separately (:func:`frame_id`) so that an error
reply can echo it even when the rest of the frame is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relay.contract.errors import BadFrame, UnknownType
from relay.contract.filters import Filter, parse_filter
from relay.contract.ids import is_alert_id
from relay.contract.model import RECEIPT_STATUSES
from relay.contract.problems import Problem
from relay.contract.specs import CONTROL_CHARACTER

__all__ = [
    "CLIENT_FRAME_TYPES",
    "CLOSE_ROLES_CHANGED",
    "CLOSE_TOO_SLOW",
    "CLOSE_UNAUTHORIZED",
    "MAX_ID_LENGTH",
    "MAX_NOTE_LENGTH",
    "AuthFrame",
    "ClientFrame",
    "FederateFrame",
    "PublishFrame",
    "ReceiptFrame",
    "SubscribeFrame",
    "frame_id",
    "parse_auth_frame",
    "parse_client_frame",
]

MAX_NOTE_LENGTH = 2000
# Close codes of the stream (protocol.md): 4401 token refused or revoked; 4408 too slow;
# 1012 (service restart) when the unit's roles changed: reconnect to get the new ones.
CLOSE_UNAUTHORIZED = 4401
CLOSE_ROLES_CHANGED = 1012
CLOSE_TOO_SLOW = 4408
MAX_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class AuthFrame:
    token: str


@dataclass(frozen=True, slots=True)
class PublishFrame:
    id: str
    alert: Any


@dataclass(frozen=True, slots=True)
class SubscribeFrame:
    id: str
    filter: Filter
    since: int | None


@dataclass(frozen=True, slots=True)
class ReceiptFrame:
    id: str
    alert_id: str
    status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class FederateFrame:
    """A peer relay's link asks for what it may receive after ``since`` (federation.md)."""

    id: str
    since: int


ClientFrame = PublishFrame | SubscribeFrame | ReceiptFrame | FederateFrame
UNIT_FRAME_TYPES = ("publish", "subscribe", "receipt")
CLIENT_FRAME_TYPES = (*UNIT_FRAME_TYPES, "federate")  # federate: a peer relay's link only


def frame_id(frame: dict[str, Any]) -> str | None:
    """The frame's ``id`` when it is a valid one (a string of 1-64 characters)."""
    value = frame.get("id")
    if isinstance(value, str) and 1 <= len(value) <= MAX_ID_LENGTH and "\x00" not in value:
        return value
    return None


def parse_auth_frame(frame: dict[str, Any]) -> AuthFrame:
    """The first frame of a connection authenticated in-band: ``{"type":"auth","token":...}``."""
    if frame.get("type") != "auth":
        raise BadFrame("the first frame must be an auth frame")
    token = frame.get("token")
    if not isinstance(token, str) or not token:
        raise BadFrame("the auth frame needs a token", [Problem("token", "required")])
    return AuthFrame(token)


def parse_client_frame(frame: dict[str, Any]) -> ClientFrame:
    """Check the envelope and the fields of one frame after authentication."""
    kind = frame.get("type")
    if kind is None:
        raise BadFrame("the frame has no type", [Problem("type", "required")])
    if not isinstance(kind, str):
        raise BadFrame("the frame type must be a string", [Problem("type", "not_a_string")])
    if kind not in CLIENT_FRAME_TYPES:
        raise UnknownType(
            f"unknown frame type {kind[:64]!r}; expected one of {', '.join(UNIT_FRAME_TYPES)}"
        )
    problems: list[Problem] = []
    ident = _check_id(frame, problems)
    parsed = _PARSERS[kind](frame, ident, problems)
    if problems:
        raise BadFrame(f"the {kind} frame is not valid", problems)
    return parsed


def _check_id(frame: dict[str, Any], problems: list[Problem]) -> str:
    value = frame.get("id")
    if value is None:
        problems.append(Problem("id", "required"))
    elif not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH:
        problems.append(Problem("id", "string_length", {"low": 1, "high": MAX_ID_LENGTH}))
    elif "\x00" in value:  # it is stored as the idempotency key; PostgreSQL text has no NUL
        problems.append(Problem("id", "nul_character"))
    return value if isinstance(value, str) else ""


def _unknown_keys(frame: dict[str, Any], allowed: set[str], problems: list[Problem]) -> None:
    for key in frame:
        if key not in allowed:
            problems.append(Problem(key if isinstance(key, str) and key else repr(key), "unknown_field"))


def _parse_publish(frame: dict[str, Any], ident: str, problems: list[Problem]) -> PublishFrame:
    _unknown_keys(frame, {"type", "id", "alert"}, problems)
    if "alert" not in frame:
        problems.append(Problem("alert", "required"))
    return PublishFrame(ident, frame.get("alert"))


def _parse_subscribe(frame: dict[str, Any], ident: str, problems: list[Problem]) -> SubscribeFrame:
    _unknown_keys(frame, {"type", "id", "filter", "since"}, problems)
    since = frame.get("since")
    if since is not None and (type(since) is not int or since < 0):
        problems.append(Problem("since", "min_integer", {"low": 0}))
        since = None
    if problems:
        return SubscribeFrame(ident, Filter(), None)
    return SubscribeFrame(ident, parse_filter(frame.get("filter")), since)


def _parse_receipt(frame: dict[str, Any], ident: str, problems: list[Problem]) -> ReceiptFrame:
    _unknown_keys(frame, {"type", "id", "alert_id", "status", "note"}, problems)
    alert_id = frame.get("alert_id")
    if not is_alert_id(alert_id):
        problems.append(Problem("alert_id", "bad_alert_id"))
    status = frame.get("status")
    if status not in RECEIPT_STATUSES:
        problems.append(Problem("status", "not_one_of", {"allowed": list(RECEIPT_STATUSES)}))
    note = frame.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        problems.append(Problem("note", "string_length", {"high": MAX_NOTE_LENGTH}))
    elif isinstance(note, str) and "\x00" in note:
        problems.append(Problem("note", "nul_character"))
    elif isinstance(note, str) and (control := CONTROL_CHARACTER.search(note)) is not None:
        problems.append(Problem("note", "control_character",
                                {"character": f"U+{ord(control[0]):04X}"}))
    return ReceiptFrame(
        ident,
        alert_id if isinstance(alert_id, str) else "",
        status if isinstance(status, str) else "",
        note if isinstance(note, str) else None,
    )


def _parse_federate(frame: dict[str, Any], ident: str, problems: list[Problem]) -> FederateFrame:
    _unknown_keys(frame, {"type", "id", "since"}, problems)
    since = frame.get("since", 0)
    if type(since) is not int or since < 0:
        problems.append(Problem("since", "min_integer", {"low": 0}))
        since = 0
    return FederateFrame(ident, since)


_PARSERS: dict[str, Callable[[dict[str, Any], str, list[Problem]], ClientFrame]] = {
    "federate": _parse_federate,
    "publish": _parse_publish,
    "subscribe": _parse_subscribe,
    "receipt": _parse_receipt,
}
