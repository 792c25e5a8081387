"""The query of the HTTP history (``GET /v1/alerts``, exports): parameters and cursors.

:func:`parse_history_query` turns query parameters into a :class:`HistoryQuery` (all
problems at once, as :class:`relay.contract.errors.InvalidQuery`); the store renders it
as SQL (:mod:`relay.store.history`). Pages are keyed by seq (``seq < cursor``), so a page
never moves while new alerts arrive; the cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from relay.contract import reference
from relay.contract.errors import InvalidQuery
from relay.contract.model import COMMODITIES, KINDS, Problem
from relay.contract.validation import normalise_timestamp

__all__ = [
    "DEFAULT_LIMIT",
    "FILTER_PARAMS",
    "MAX_LIMIT",
    "HistoryQuery",
    "decode_cursor",
    "encode_cursor",
    "parse_history_query",
]

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
FILTER_PARAMS = ("kind", "origin_unit", "airport", "country", "flight", "commodity", "from",
                 "to", "q")


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    filters: dict[str, Any] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    before_seq: int | None = None


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the page after the alert ``seq``."""
    return base64.urlsafe_b64encode(orjson.dumps({"v": 1, "before": seq})).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    """The seq a cursor points before; ValueError if it is not one of ours."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(data, dict) or data.get("v") != 1 or type(data.get("before")) is not int \
            or data["before"] < 1:
        raise ValueError("not a cursor")
    return int(data["before"])


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(normalise_timestamp(value).replace("Z", "+00:00"))
    except ValueError:
        return None


_CHECKS: dict[str, tuple[Any, str]] = {
    "kind": (lambda v: v in KINDS, f"must be one of {', '.join(KINDS)}"),
    "origin_unit": (lambda v: 3 <= len(v) <= 40, "must be a unit id"),
    "airport": (reference.is_airport, "must be a known IATA airport code"),
    "country": (reference.is_country, "must be an ISO 3166-1 alpha-2 code"),
    "flight": (lambda v: 3 <= len(v) <= 8, "must be a flight designator such as AT571"),
    "commodity": (lambda v: v in COMMODITIES, "must be a commodity of the alert model"),
    "q": (lambda v: 1 <= len(v) <= 200, "must be 1 to 200 characters"),
}


def parse_history_query(params: Mapping[str, str], *, paged: bool = True,
                        extra: tuple[str, ...] = ()) -> HistoryQuery:
    """Check every parameter; unknown ones are refused (a typo must not widen a query)."""
    problems: list[Problem] = []
    filters: dict[str, Any] = {}
    allowed = set(FILTER_PARAMS) | set(extra) | ({"limit", "cursor"} if paged else set())
    for key in params:
        if key not in allowed:
            problems.append(Problem(key, "unknown query parameter"))
    for key, (check, message) in _CHECKS.items():
        if key in params:
            if check(params[key]):
                filters[key] = params[key]
            else:
                problems.append(Problem(key, message))
    for key in ("from", "to"):
        if key in params:
            moment = _moment(params[key])
            if moment is None:
                problems.append(Problem(key, "must be an RFC 3339 timestamp with a time zone"))
            else:
                filters[key] = moment
    limit, before = _page(params, problems) if paged else (DEFAULT_LIMIT, None)
    if problems:
        raise InvalidQuery(f"the query has {len(problems)} problem(s)", problems)
    return HistoryQuery(filters, limit, before)


def _page(params: Mapping[str, str], problems: list[Problem]) -> tuple[int, int | None]:
    limit, before = DEFAULT_LIMIT, None
    if "limit" in params:
        text = params["limit"]
        if text.isdigit() and 1 <= int(text) <= MAX_LIMIT:
            limit = int(text)
        else:
            problems.append(Problem("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
    if "cursor" in params:
        try:
            before = decode_cursor(params["cursor"])
        except ValueError:
            problems.append(Problem("cursor", "is not a cursor this relay gave out"))
    return limit, before
