"""Validation of a client's alert against the field table (alerts.md "Fields the client sends").

:func:`validate_alert` returns a new, normalised alert or raises
:class:`~relay.contract.errors.InvalidAlert` whose details name every problem found, each
with the field's dotted path (``subjects[0].document.issuing_country``), a code and an
English sentence (alerts.md: "Validation reports every problem it finds at once"). The
rules themselves are the table of :mod:`relay.contract.fields`.

Pure: the known units, the regions and the clock are passed in. Sizes are measured in
MessagePack, the compact encoding, so that an alert valid on one sub-protocol is valid on
the other.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import UTC, datetime
from typing import Any

import msgpack
import orjson

from relay.contract.errors import InvalidAlert
from relay.contract.fields import ALERT, MAX_ALERT_BYTES, MAX_DEPTH
from relay.contract.problems import Problem
from relay.contract.specs import Checker, field_name, join

__all__ = ["validate_alert"]


def validate_alert(
    raw: object, *, known_units: Container[str], regions: Mapping[str, frozenset[str]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check ``raw`` against alerts.md; return the normalised alert or raise InvalidAlert.

    The result is a new dict, sharing nothing mutable with ``raw``: the client's fields
    only, ``msg_type`` and ``status`` defaulted, timestamps in UTC with ``Z``. Otherwise
    InvalidAlert lists every problem, except that an alert nested more than MAX_DEPTH
    levels, one that cannot be encoded or one over 64 KiB encoded gets that one problem
    only. Never raises anything else, whatever ``raw`` holds.
    ``now`` is the clock for birth dates (default: the current time).
    """
    if not isinstance(raw, dict):
        raise InvalidAlert("the alert must be a map", [Problem("alert", "not_a_map")])
    if _depth_exceeds(raw, MAX_DEPTH):
        _check_depth(raw)  # raises, naming the path
    encoded = _check_size(raw)
    alert: dict[str, Any] = _copy(encoded)
    for spec_field in ALERT.fields:
        if spec_field.default is not None:
            alert.setdefault(spec_field.name, spec_field.default)
    checker = Checker(known_units=known_units, regions=regions, now=now or datetime.now(UTC),
                      kind=alert.get("kind"))
    ALERT.check_keys(checker, "", alert)
    if _may_hold_nul(alert):
        for path in _nul_paths(alert, ""):
            checker.bad(path or "alert", "nul_character")
    ALERT.check_values(checker, "", alert)
    if checker.problems:
        count = len(checker.problems)
        noun = "problem" if count == 1 else "problems"
        raise InvalidAlert(f"the alert has {count} {noun}", checker.problems)
    return alert


def _depth_exceeds(raw: dict[Any, Any], limit: int) -> bool:
    """Whether ``raw`` nests maps and lists deeper than ``limit`` levels: the walk of
    :func:`_check_depth` without building a path for every value (that is only needed to
    name the culprit, and is done then)."""
    stack: list[tuple[object, int]] = [(raw, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in children
                     if isinstance(item, (dict, list)))
    return False


def _check_depth(raw: dict[Any, Any], limit: int = MAX_DEPTH) -> None:
    """At most ``limit`` levels of maps and lists, else that is the only problem, naming
    the first path found too deep. Walked without recursion, so that no depth a client
    sends can exhaust the stack."""
    stack: list[tuple[object, str, int]] = [(raw, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            children = [(item, join(path, field_name(key))) for key, item in value.items()]
        elif isinstance(value, list):
            children = [(item, f"{path}[{index}]") for index, item in enumerate(value)]
        else:
            continue
        if depth > limit:
            raise InvalidAlert("the alert is nested too deep", [
                Problem((path or "alert")[:200], "too_deep", {"limit": limit})])
        stack.extend((item, inner, depth + 1) for item, inner in children)


def _check_size(raw: dict[Any, Any]) -> bytes:
    """The whole alert must encode, in at most MAX_ALERT_BYTES; else that is the only problem.
    Returns the encoding."""
    try:
        packed: bytes = msgpack.packb(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidAlert("the alert cannot be encoded", [
            Problem("alert", "cannot_encode", {"reason": str(exc)[:200]})]) from None
    size = len(packed)
    if size > MAX_ALERT_BYTES:
        raise InvalidAlert("the alert is too large", [
            Problem("alert", "too_large", {"size": size, "limit": MAX_ALERT_BYTES})])
    return packed


def _copy(packed: bytes) -> Any:
    """A copy sharing nothing with the client's value: decoded again from its MessagePack
    encoding (maps, lists, strings, bytes, numbers and extension values come back as they
    were, and in C rather than by a walk in Python)."""
    return msgpack.unpackb(packed, raw=False, strict_map_key=False, timestamp=0)


def _may_hold_nul(alert: dict[str, Any]) -> bool:
    """False when no string or key of ``alert`` holds U+0000, decided from its JSON
    encoding (where U+0000 can only be written ``\\u0000``); True when it may, or when
    the alert does not encode as JSON (bytes, odd keys): then :func:`_nul_paths` walks it."""
    try:
        return b"\\u0000" in orjson.dumps(alert)
    except (TypeError, orjson.JSONEncodeError):
        return True


def _nul_paths(value: object, path: str) -> list[str]:
    """Paths of the strings and map keys inside ``value`` that hold U+0000.

    PostgreSQL cannot store NUL in text or jsonb, so such an alert must be refused here
    rather than fail at commit (and with it the other alerts of its group commit).
    """
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            inner = join(path, field_name(key))
            if isinstance(key, str) and "\x00" in key:
                found.append(inner)
            else:
                found += _nul_paths(item, inner)
        return found
    if isinstance(value, list):
        return [bad for index, item in enumerate(value) for bad in _nul_paths(item, f"{path}[{index}]")]
    return []
