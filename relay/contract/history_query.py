"""The query of the HTTP history (``GET /v1/alerts``, exports): parameters and cursors.

:func:`parse_history_query` turns query parameters into a :class:`HistoryQuery` (all
problems at once, as :class:`relay.contract.errors.InvalidQuery`); the store renders it
as SQL (:mod:`relay.store.history`). Pages are keyed by seq (``seq < cursor``), so a page
never moves while new alerts arrive; the cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from relay.contract import reference
from relay.contract.errors import InvalidQuery
from relay.contract.ids import is_unit_id
from relay.contract.model import COMMODITIES, KINDS
from relay.contract.problems import Problem
from relay.contract.specs import FLIGHT_NUMBER_PATTERN
from relay.contract.times import moment

__all__ = [
    "DEFAULT_LIMIT",
    "FILTER_PARAMS",
    "MAX_LIMIT",
    "HistoryQuery",
    "decode_cursor",
    "encode_cursor",
    "parse_history_query",
    "parse_page",
]

MAX_LIMIT = 500
MAX_TEXT_QUERY = 200
DEFAULT_LIMIT = 50
_FLIGHT_NUMBER = re.compile(FLIGHT_NUMBER_PATTERN)
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
            or not 1 <= data["before"] < 2**63:
        raise ValueError("not a cursor")
    return int(data["before"])


def _check_value(key: str, value: str) -> Problem | None:
    """The problem of one filter parameter's value, if any."""
    if key == "kind" and value not in KINDS:
        return Problem(key, "not_one_of", {"allowed": list(KINDS)})
    if key == "origin_unit" and not is_unit_id(value):
        return Problem(key, "bad_unit_id")
    if key == "airport" and not reference.is_airport(value):
        return Problem(key, "unknown_airport", {"value": value[:200]})
    if key == "country" and not reference.is_country(value):
        return Problem(key, "bad_country", {"value": value[:200]})
    if key == "flight" and not _FLIGHT_NUMBER.fullmatch(value):
        return Problem(key, "bad_flight_number")
    if key == "commodity" and value not in COMMODITIES:
        return Problem(key, "not_one_of", {"allowed": list(COMMODITIES)})
    if key == "q" and not 1 <= len(value) <= MAX_TEXT_QUERY:
        return Problem(key, "length", {"low": 1, "high": MAX_TEXT_QUERY})
    return None


def parse_history_query(params: Mapping[str, str], *, paged: bool = True,
                        extra: tuple[str, ...] = ()) -> HistoryQuery:
    """Check every parameter; unknown ones are refused (a typo must not widen a query)."""
    problems: list[Problem] = []
    filters: dict[str, Any] = {}
    allowed = set(FILTER_PARAMS) | set(extra) | ({"limit", "cursor"} if paged else set())
    for key in params:
        if key not in allowed:
            problems.append(Problem(key, "unknown_parameter"))
    for key in ("kind", "origin_unit", "airport", "country", "flight", "commodity", "q"):
        if key in params:
            problem = _check_value(key, params[key])
            if problem is None:
                filters[key] = params[key]
            else:
                problems.append(problem)
    for key in ("from", "to"):
        if key in params:
            try:
                filters[key] = moment(params[key])
            except ValueError:
                problems.append(Problem(key, "bad_timestamp"))
    limit, before = parse_page(params, problems) if paged else (DEFAULT_LIMIT, None)
    if problems:
        raise InvalidQuery(f"the query has {len(problems)} problem(s)", problems)
    return HistoryQuery(filters, limit, before)


def parse_page(params: Mapping[str, str], problems: list[Problem]) -> tuple[int, int | None]:
    """``limit`` (1 to MAX_LIMIT, default DEFAULT_LIMIT) and the position of ``cursor``;
    a problem is added for each that is wrong."""
    limit, before = DEFAULT_LIMIT, None
    if "limit" in params:
        text = params["limit"]
        # ASCII digits only: "²" and "٣" are digits to str.isdigit(), not to a client.
        if text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= MAX_LIMIT:
            limit = int(text)
        else:
            problems.append(Problem("limit", "integer_range", {"low": 1, "high": MAX_LIMIT}))
    if "cursor" in params:
        try:
            before = decode_cursor(params["cursor"])
        except ValueError:
            problems.append(Problem("cursor", "bad_cursor"))
    return limit, before
