"""What a terminal fills in before an alert is queued, and when two alerts are "the same".

**Filled in** (:func:`fill_in`), so that an alert file does not go stale:

- ``sent_at`` left out of the file, or written ``"now"``: the terminal's clock when the
  alert is queued (alerts.md: "the terminal's clock").
- Any timestamp field (``expires_at``, ``occurred_at``, ``flight.scheduled_arrival``...)
  written ``"now"``, ``"now+8h"``, ``"now-30m"`` or ``"now+1d2h30m"`` (days, hours,
  minutes): that moment, from the same clock.
- Any date field (``flight.date``...) written ``"today"``, ``"today+1d"`` or
  ``"today-2d"``: that day in the terminal's time zone (a flight's date is the local
  departure date, and the officer is normally at the airport of departure).

Which fields are timestamps and dates comes from the contract's field table
(:mod:`relay.contract.fields`), so a summary that says "now" is left alone. Anything
else in the file is sent as written.

**The same alert** (:func:`fingerprint`): two alerts are identical when their content
as written is equal as data, whatever the file's format, key order, spacing or
comments, leaving out ``sent_at`` and comparing every relative time by what is written
(``"now+8h"``), not by the moment it gave. ``relay-post`` refuses to queue an alert
identical to one still queued or already acknowledged, unless ``--again`` is given.

**Worth a warning** (:func:`expired`, :func:`names_no_unit`): an alert whose
``expires_at`` has passed, and a distribution that names no unit (the relay accepts a
country or region where no unit is registered, and then nobody receives the alert).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from relay.contract.fields import ALERT
from relay.contract.specs import Day, ListOf, Record, Spec, Timestamp
from relay.contract.times import moment, rfc3339

__all__ = ["RelativeTimeError", "expired", "fill_in", "fingerprint", "names_no_unit",
           "time_fields"]

_NOW: Final = re.compile(r"now(?:\s*(?P<sign>[+-])\s*(?P<span>(?:[0-9]+[dhm])+))?")
_TODAY: Final = re.compile(r"today(?:\s*(?P<sign>[+-])\s*(?P<days>[0-9]+)d)?")
_PART: Final = re.compile(r"([0-9]+)([dhm])")
_UNITS: Final = {"d": "days", "h": "hours", "m": "minutes"}
_LONGEST: Final = timedelta(days=3660)  # ten years: beyond it, a typo rather than a plan


class RelativeTimeError(ValueError):
    """A relative time too far from now to be meant (``now+99999d``); ``path`` names it."""

    def __init__(self, path: str, value: str) -> None:
        super().__init__(f"{path}: {value!r} is more than ten years away")
        self.path = path
        self.value = value


def _paths(record: Record, prefix: str = "") -> Iterator[tuple[str, type[Spec]]]:
    """``(dotted path with [] for list items, Timestamp or Day)`` of every time field."""
    for field in record.fields:
        spec, path = field.spec, f"{prefix}{field.name}"
        if isinstance(spec, ListOf):
            spec, path = spec.item, f"{path}[]"
        if isinstance(spec, Timestamp | Day):
            yield path, type(spec)
        elif isinstance(spec, Record):
            yield from _paths(spec, f"{path}.")


def time_fields() -> dict[str, type[Spec]]:
    """The alert's timestamp and date fields by path: ``{"flight.date": Day, ...}``."""
    return dict(_paths(ALERT))


_TIME_FIELDS: Final = time_fields()


def _span(sign: str | None, text: str | None) -> timedelta:
    if not text:
        return timedelta()
    span = sum((timedelta(**{_UNITS[unit]: int(count)}) for count, unit in _PART.findall(text)),
               timedelta())
    return -span if sign == "-" else span


def _resolve(value: object, kind: type[Spec], now: datetime, path: str) -> object:
    if not isinstance(value, str):
        return value
    if kind is Timestamp and (match := _NOW.fullmatch(value.strip())):
        span = _span(match["sign"], match["span"])
        if abs(span) > _LONGEST:
            raise RelativeTimeError(path, value)
        return rfc3339(now + span, timespec="seconds")
    if kind is Day and (match := _TODAY.fullmatch(value.strip())):
        days = _span(match["sign"], f"{match['days']}d" if match["days"] else None)
        if abs(days) > _LONGEST:
            raise RelativeTimeError(path, value)
        today: date = now.astimezone().date()  # the terminal's own time zone
        return (today + days).isoformat()
    return value


def _walk(node: Any, pattern: list[str], kind: type[Spec], now: datetime, path: str) -> None:
    """Resolve the value at ``pattern`` (path parts, ``[]`` for every list item) in place."""
    if not pattern or not isinstance(node, dict):
        return
    head, rest = pattern[0], pattern[1:]
    name, many = (head[:-2], True) if head.endswith("[]") else (head, False)
    if name not in node:
        return
    here = f"{path}.{name}" if path else name
    if many:
        items = node[name]
        if isinstance(items, list):
            for index, item in enumerate(items):
                if rest:
                    _walk(item, rest, kind, now, f"{here}[{index}]")
                else:
                    items[index] = _resolve(item, kind, now, f"{here}[{index}]")
    elif rest:
        _walk(node[name], rest, kind, now, here)
    else:
        node[name] = _resolve(node[name], kind, now, here)


def fill_in(alert: object, now: datetime | None = None) -> object:
    """A copy of ``alert`` with ``sent_at`` and its relative times filled in (see the
    module doc). Anything that is not a map is returned as it is, for validation to
    name. Raises :class:`RelativeTimeError` for a relative time over ten years away."""
    if not isinstance(alert, dict):
        return alert
    now = now or datetime.now(UTC)
    filled = copy.deepcopy(alert)
    filled.setdefault("sent_at", "now")
    for dotted, kind in _TIME_FIELDS.items():
        _walk(filled, dotted.split("."), kind, now, "")
    return filled


def fingerprint(alert: object) -> str:
    """The digest of an alert's content as written, ``sent_at`` left out (module doc)."""
    content = {key: value for key, value in alert.items() if key != "sent_at"} \
        if isinstance(alert, dict) else alert
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def expired(alert: dict[str, Any], now: datetime | None = None) -> bool:
    """True when the alert has an ``expires_at`` that is not later than ``now``."""
    expires = alert.get("expires_at")
    if not isinstance(expires, str):
        return False
    try:
        return moment(expires) <= (now or datetime.now(UTC))
    except ValueError:
        return False


def names_no_unit(alert: dict[str, Any]) -> bool:
    """True when the distribution is neither ``{"all": true}`` nor names a unit: the
    relay refuses an unknown unit but accepts a country or region where no unit is
    registered, and tells nobody."""
    distribution = alert.get("distribution")
    if not isinstance(distribution, dict) or distribution.get("all") is True:
        return False
    return not distribution.get("units")
