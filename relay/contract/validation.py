"""Validation of a client's alert: every rule of alerts.md "Fields the client sends".

:func:`validate_alert` returns a new, normalised alert or raises
:class:`relay.errors.InvalidAlert` whose details name every problem found, each with the
field's dotted path (``subjects[0].document.issuing_country``) and a plain sentence
(alerts.md: "Validation reports every problem it finds at once").

Pure: the known units and the regions are passed in; the only outside input is the clock,
read to refuse birth dates in the future. Sizes are measured in MessagePack, the compact
encoding, so that an alert valid on one sub-protocol is valid on the other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import msgpack

from relay.contract import reference
from relay.contract.errors import InvalidAlert
from relay.contract.model import (
    COMMODITIES,
    CONCEALMENTS,
    DETECTIONS,
    DOCUMENT_TYPES,
    KINDS,
    MASS_VOLUME_COUNT_UNITS,
    MSG_TYPES,
    PRIORITIES,
    REQUESTED_ACTIONS,
    STATUSES,
    SUBJECT_ROLES,
    TLP_LEVELS,
    Problem,
)

__all__ = [
    "ALERT_FIELDS",
    "GRADING_INFORMATION",
    "GRADING_SOURCES",
    "MAX_ALERT_BYTES",
    "MAX_EXT_BYTES",
    "RELAY_FIELDS",
    "normalise_timestamp",
    "validate_alert",
]

MAX_ALERT_BYTES: Final = 65_536  # alerts.md: "An encoded alert is at most 64 KiB"
MAX_EXT_BYTES: Final = 4_096  # alerts.md: ext "≤ 4 KiB encoded"
MAX_ITEMS: Final = 50  # subjects, seizures, bag tags
MAX_INDICATORS: Final = 30
GRADING_SOURCES: Final = ("A", "B", "C", "D", "E", "F")  # Admiralty source reliability
GRADING_INFORMATION: Final = ("1", "2", "3", "4", "5", "6")  # Admiralty credibility

ALERT_FIELDS: Final = frozenset({
    "kind", "msg_type", "status", "references", "priority", "tlp", "distribution", "sent_at",
    "expires_at", "summary", "language", "flight", "subjects", "indicators",
    "requested_action", "seizures", "concealment", "detection", "location", "occurred_at",
    "grading", "ext",
})
RELAY_FIELDS: Final = frozenset({"alert_id", "origin_unit", "received_at", "seq"})
_FLIGHT_FIELDS = frozenset({"number", "date", "origin", "destination", "route",
                            "scheduled_arrival"})
_SUBJECT_FIELDS = frozenset({"role", "surname", "given_names", "birth_date", "nationality",
                             "document", "seat", "pnr_locator", "bag_tags"})
_DOCUMENT_FIELDS = frozenset({"type", "number", "issuing_country"})
_SEIZURE_FIELDS = frozenset({"commodity", "quantity", "unit", "description"})
_DISTRIBUTION_FIELDS = frozenset({"all", "units", "countries", "regions"})
_GRADING_FIELDS = frozenset({"source", "information"})

# RFC 3339 section 5.6, strictly: "T" and "Z" may be lower case, the offset is required.
# Leap seconds (:60) are refused: Python cannot represent them.
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_OFFSET = r"[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
_TIMESTAMP = re.compile(rf"(?P<day>{_DAY})[Tt](?P<time>{_TIME})(?:\.(?P<fraction>[0-9]+))?"
                        rf"(?P<offset>{_OFFSET})")
_NAIVE_TIMESTAMP = re.compile(rf"{_DAY}[Tt ]{_TIME}(?:\.[0-9]+)?")
_DATE = re.compile(_DAY)
_FLIGHT_NUMBER = re.compile(r"(?![0-9]{2})[A-Z0-9]{2}[0-9]{1,4}[A-Z]?")
_IATA = re.compile(r"[A-Z]{3}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_TIMESTAMP_EXPECTED = "an RFC 3339 timestamp with a time offset, e.g. 2026-11-23T08:00:00Z"
_IATA_EXPECTED = "an IATA airport code (3 upper-case letters, e.g. CDG)"
_COUNTRY_EXPECTED = "an ISO 3166-1 alpha-2 country code (2 upper-case letters, e.g. ML)"


def normalise_timestamp(value: str) -> str:
    """An RFC 3339 timestamp with an offset, as UTC with a ``Z`` suffix.

    Microseconds are kept only when not zero; digits beyond the microsecond are dropped.
    Raises ValueError if ``value`` is not such a timestamp or not a representable moment.
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"not {_TIMESTAMP_EXPECTED}")
    fraction = ((match["fraction"] or "") + "000000")[:6]
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    try:
        moment = datetime.fromisoformat(f"{match['day']}T{match['time']}.{fraction}{offset}")
        moment = moment.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("out of the representable range") from exc
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def validate_alert(
    raw: object, *, known_units: Container[str], regions: Mapping[str, frozenset[str]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check ``raw`` against alerts.md; return the normalised alert or raise InvalidAlert.

    The result is a new dict, sharing nothing mutable with ``raw``: the client's fields
    only, ``msg_type`` and ``status`` defaulted, timestamps in UTC with ``Z``. Otherwise
    InvalidAlert lists every problem, except that an alert that cannot be encoded or is
    over 64 KiB encoded gets that one problem only. Never raises anything else.
    ``now`` is the clock for birth dates (default: the current time).
    """
    if not isinstance(raw, dict):
        raise InvalidAlert("the alert must be a map", [Problem("alert", "must be a map")])
    _check_size(raw)
    alert: dict[str, Any] = _copy(raw)
    alert.setdefault("msg_type", "alert")
    alert.setdefault("status", "actual")
    check = _Check(known_units, regions, now or datetime.now(UTC))
    check.unknown_fields(alert, ALERT_FIELDS, "")
    for path in _nul_paths(alert, ""):
        check.bad(path or "alert", "must not contain the NUL character (U+0000), which cannot be stored")
    for section in _SECTIONS:
        section(check, alert)
    if check.problems:
        count = len(check.problems)
        noun = "problem" if count == 1 else "problems"
        raise InvalidAlert(f"the alert has {count} {noun}", check.problems)
    return alert


def _check_size(raw: dict[Any, Any]) -> None:
    """The whole alert must encode, in at most MAX_ALERT_BYTES; else that is the only problem."""
    try:
        size = len(msgpack.packb(raw))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidAlert("the alert cannot be encoded", [
            Problem("alert", f"holds a value that cannot be encoded ({exc})")]) from None
    if size > MAX_ALERT_BYTES:
        raise InvalidAlert("the alert is too large", [
            Problem("alert", f"is {size} bytes encoded; it must be at most {MAX_ALERT_BYTES}")])


def _copy(value: Any) -> Any:
    """A copy of the maps and lists of ``value``; the depth is bounded by msgpack's limit."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


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
            inner = _join(path, _field_name(key))
            if isinstance(key, str) and "\x00" in key:
                found.append(inner)
            else:
                found += _nul_paths(item, inner)
        return found
    if isinstance(value, list):
        return [bad for index, item in enumerate(value) for bad in _nul_paths(item, f"{path}[{index}]")]
    return []


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _show(value: str) -> str:
    """A client's string quoted for a problem sentence, cut to a readable length."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"


def _field_name(key: object) -> str:
    """The path segment of an unknown key: itself when a plain name, else its repr."""
    if isinstance(key, str) and key and len(key) <= 64 and key.isprintable():
        return key
    return repr(key)[:64]


class _Check:
    """The problems found while walking one alert, and the primitive checks.

    Each primitive records a problem and returns None when the value is wrong; otherwise
    it returns the value, normalised where the spec says so.
    """

    __slots__ = ("known_units", "now", "problems", "regions")

    def __init__(self, known_units: Container[str], regions: Mapping[str, frozenset[str]],
                 now: datetime) -> None:
        self.known_units = known_units
        self.regions = regions
        self.now = now
        self.problems: list[Problem] = []

    def bad(self, path: str, problem: str) -> None:
        self.problems.append(Problem(path, problem))

    def unknown_fields(self, obj: Mapping[Any, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in obj:
            if key in allowed:
                continue
            name = _join(prefix, _field_name(key))
            if not prefix and key in RELAY_FIELDS:
                self.bad(name, "unknown field: the relay sets it, a client may not")
            else:
                self.bad(name, "unknown field")

    def required(self, obj: Mapping[str, Any], key: str, prefix: str) -> bool:
        """True if ``key`` is in ``obj``; else records that it is required."""
        if key in obj:
            return True
        self.bad(_join(prefix, key), "is required")
        return False

    def mapping(self, path: str, value: object) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.bad(path, "must be a map")
        return None

    def items(self, path: str, value: object, *, low: int = 0, high: int | None = None
              ) -> list[Any] | None:
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return None
        if len(value) < low or (high is not None and len(value) > high):
            if high is None:
                span = f"at least {low}"
            else:
                span = f"{low} to {high}" if low else f"at most {high}"
            self.bad(path, f"must have {span} items")
            return None
        return value

    def text(self, path: str, value: object, *, low: int = 0, high: int) -> str | None:
        if not isinstance(value, str):
            self.bad(path, "must be a string")
            return None
        if not low <= len(value) <= high:
            span = f"{low} to {high}" if low else f"at most {high}"
            self.bad(path, f"must be {span} characters long")
            return None
        return value

    def choice(self, path: str, value: object, allowed: tuple[str, ...]) -> str | None:
        if isinstance(value, str) and value in allowed:
            return value
        self.bad(path, f"must be one of {', '.join(allowed)}")
        return None

    def airport(self, path: str, value: object) -> str | None:
        if not isinstance(value, str) or not _IATA.fullmatch(value):
            self.bad(path, f"must be {_IATA_EXPECTED}")
            return None
        if not reference.is_airport(value):
            self.bad(path, f"unknown IATA airport code {value!r}")
            return None
        return value

    def country(self, path: str, value: object) -> str | None:
        if not isinstance(value, str):
            self.bad(path, f"must be {_COUNTRY_EXPECTED}")
            return None
        if not reference.is_country(value):
            self.bad(path, f"{_show(value)} is not {_COUNTRY_EXPECTED}")
            return None
        return value

    def timestamp(self, path: str, value: object) -> str | None:
        if not isinstance(value, str):
            self.bad(path, f"must be {_TIMESTAMP_EXPECTED}")
            return None
        try:
            return normalise_timestamp(value)
        except ValueError:
            self.bad(path, _timestamp_problem(value))
            return None

    def day(self, path: str, value: object) -> date | None:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.bad(path, "must be a date YYYY-MM-DD, e.g. 2026-11-23")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(path, f"{value!r} is not a real calendar date")
            return None


def _timestamp_problem(value: str) -> str:
    if _NAIVE_TIMESTAMP.fullmatch(value):
        return "has no time offset: end it with Z (UTC) or ±hh:mm"
    if _TIMESTAMP.fullmatch(value):
        return f"{_show(value)} is not a real date and time"
    return f"must be {_TIMESTAMP_EXPECTED}"


# -- sections, in the order of alerts.md -------------------------------------------------

def _check_envelope(check: _Check, alert: dict[str, Any]) -> None:
    """kind, msg_type, status, priority, tlp and references."""
    for key, allowed in (("kind", KINDS), ("priority", PRIORITIES), ("tlp", TLP_LEVELS)):
        if check.required(alert, key, ""):
            check.choice(key, alert[key], allowed)
    msg_type = check.choice("msg_type", alert["msg_type"], MSG_TYPES)
    check.choice("status", alert["status"], STATUSES)
    if msg_type == "alert":
        if "references" in alert:
            check.bad("references", "must be absent when msg_type is alert: only an update "
                                    "or a cancel references an alert")
    elif msg_type is not None and "references" not in alert:
        article = "an" if msg_type == "update" else "a"
        check.bad("references", f"is required for {article} {msg_type}")
    elif "references" in alert:
        reference_id = alert["references"]
        if not isinstance(reference_id, str) or not _UUID.fullmatch(reference_id):
            check.bad("references", "must be the alert_id of the referenced alert: a UUID in "
                                    "lower-case hex, 8-4-4-4-12")


def _check_distribution(check: _Check, alert: dict[str, Any]) -> None:
    """``{"all": true}``, or units/countries/regions; red allows only named units."""
    if not check.required(alert, "distribution", ""):
        return
    dist = check.mapping("distribution", alert["distribution"])
    if dist is None:
        return
    check.unknown_fields(dist, _DISTRIBUTION_FIELDS, "distribution")
    red = alert.get("tlp") == "red"
    if "all" in dist:
        _check_distribution_all(check, dist, red=red)
    named = 0
    for key, entry_check in _DISTRIBUTION_LISTS:
        if key not in dist:
            continue
        if red and key != "units":
            check.bad(f"distribution.{key}", "is not allowed for a red alert: name the units")
        entries = check.items(f"distribution.{key}", dist[key])
        for index, entry in enumerate(entries or ()):
            entry_check(check, f"distribution.{key}[{index}]", entry)
        # A list already reported as malformed counts as naming someone: one problem is enough.
        named += 1 if entries is None else len(entries)
    if red and dist.get("units", []) == []:
        check.bad("distribution.units", "must name at least one unit for a red alert")
    elif not red and "all" not in dist and named == 0:
        check.bad("distribution", 'must name at least one unit, country or region, '
                                  'or be {"all": true}')


def _check_distribution_all(check: _Check, dist: Mapping[str, Any], *, red: bool) -> None:
    if dist["all"] is not True:
        check.bad("distribution.all", 'must be true ({"all": true} addresses every unit)')
    elif red:
        check.bad("distribution.all", "is not allowed for a red alert: name the units")
    if len(dist) > 1:
        check.bad("distribution.all", "cannot be combined with units, countries or regions")


def _distribution_unit(check: _Check, path: str, value: object) -> None:
    if not isinstance(value, str):
        check.bad(path, "must be a unit id (a string)")
    elif value not in check.known_units:
        check.bad(path, f"unknown unit {_show(value)}")


def _distribution_country(check: _Check, path: str, value: object) -> None:
    check.country(path, value)


def _distribution_region(check: _Check, path: str, value: object) -> None:
    if not isinstance(value, str):
        check.bad(path, "must be a region name (a string)")
    elif value not in check.regions:
        known = ", ".join(sorted(check.regions)) or "none"
        check.bad(path, f"unknown region {_show(value)} (known regions: {known})")


_DISTRIBUTION_LISTS: tuple[tuple[str, Callable[[_Check, str, object], None]], ...] = (
    ("units", _distribution_unit),
    ("countries", _distribution_country),
    ("regions", _distribution_region),
)


def _check_times(check: _Check, alert: dict[str, Any]) -> None:
    """sent_at required, expires_at optional and after sent_at; both normalised."""
    sent = None
    if check.required(alert, "sent_at", ""):
        sent = check.timestamp("sent_at", alert["sent_at"])
        if sent is not None:
            alert["sent_at"] = sent
    if "expires_at" not in alert:
        return
    expires = check.timestamp("expires_at", alert["expires_at"])
    if expires is None:
        return
    alert["expires_at"] = expires
    # As moments, not as text: "08:00:00.5Z" sorts before "08:00:00Z" as a string.
    if sent is not None and _moment(expires) <= _moment(sent):
        check.bad("expires_at", "must be after sent_at")


def _moment(normalised: str) -> datetime:
    return datetime.fromisoformat(normalised.replace("Z", "+00:00"))


def _check_texts(check: _Check, alert: dict[str, Any]) -> None:
    """summary (1-2000 characters, not blank) and language (BCP 47)."""
    if check.required(alert, "summary", ""):
        summary = check.text("summary", alert["summary"], low=1, high=2000)
        if summary is not None and not summary.strip():
            check.bad("summary", "must not be only whitespace")
    if "language" not in alert:
        return
    language = alert["language"]
    if not isinstance(language, str):
        check.bad("language", "must be a BCP 47 language tag (a string, e.g. fr, en, pt-BR)")
    elif not reference.is_language_tag(language):
        check.bad("language", f"{_show(language)} is not a valid BCP 47 language tag "
                              "(e.g. fr, en, pt-BR)")


def _check_flight(check: _Check, alert: dict[str, Any]) -> None:
    """Required for a passenger alert: number, date, origin, destination, route, arrival."""
    if "flight" not in alert:
        if alert.get("kind") == "passenger":
            check.bad("flight", "is required for a passenger alert")
        return
    flight = check.mapping("flight", alert["flight"])
    if flight is None:
        return
    check.unknown_fields(flight, _FLIGHT_FIELDS, "flight")
    if check.required(flight, "number", "flight"):
        number = flight["number"]
        if not isinstance(number, str) or not _FLIGHT_NUMBER.fullmatch(number):
            check.bad("flight.number", "must be an IATA flight designator: a 2-character airline "
                                       "code (not two digits), 1 to 4 digits and an optional "
                                       "letter, e.g. AT571")
    if "date" in flight:
        check.day("flight.date", flight["date"])
    for key in ("origin", "destination"):
        if check.required(flight, key, "flight"):
            check.airport(f"flight.{key}", flight[key])
    if "route" in flight:
        _check_route(check, flight)
    if "scheduled_arrival" in flight:
        arrival = check.timestamp("flight.scheduled_arrival", flight["scheduled_arrival"])
        if arrival is not None:
            flight["scheduled_arrival"] = arrival


def _check_route(check: _Check, flight: Mapping[str, Any]) -> None:
    """At least two known airports, from the flight's origin to its destination."""
    route = check.items("flight.route", flight["route"], low=2)
    if route is None:
        return
    known = [check.airport(f"flight.route[{index}]", code) is not None
             for index, code in enumerate(route)]
    ends = (("origin", 0), ("destination", len(route) - 1))
    for key, index in ends:
        expected = flight.get(key)
        if known[index] and isinstance(expected, str) and reference.is_airport(expected) \
                and route[index] != expected:
            check.bad(f"flight.route[{index}]", f"must be the flight's {key} {expected!r}")


def _check_item_list(
    check: _Check, alert: dict[str, Any], key: str, *, required_for: str, noun: str,
    check_item: Callable[[_Check, str, object], None],
) -> None:
    """A list of 1-50 items required for one kind, at most 50 for the other."""
    required = alert.get("kind") == required_for
    if key not in alert:
        if required:
            check.bad(key, f"is required for a {required_for} alert (1 to {MAX_ITEMS} {noun})")
        return
    items = check.items(key, alert[key], low=int(required), high=MAX_ITEMS)
    for index, item in enumerate(items or ()):
        check_item(check, f"{key}[{index}]", item)


def _check_subjects(check: _Check, alert: dict[str, Any]) -> None:
    """Passenger: 1-50 subjects required; seizure: at most 50."""
    _check_item_list(check, alert, "subjects", required_for="passenger", noun="subjects",
                     check_item=_check_subject)


def _check_subject(check: _Check, path: str, value: object) -> None:
    subject = check.mapping(path, value)
    if subject is None:
        return
    check.unknown_fields(subject, _SUBJECT_FIELDS, path)
    if check.required(subject, "role", path):
        check.choice(f"{path}.role", subject["role"], SUBJECT_ROLES)
    if check.required(subject, "surname", path):
        check.text(f"{path}.surname", subject["surname"], low=1, high=200)
    if "given_names" in subject:
        check.text(f"{path}.given_names", subject["given_names"], high=200)
    if "birth_date" in subject:
        born = check.day(f"{path}.birth_date", subject["birth_date"])
        if born is not None and born > _latest_date_on_earth(check.now):
            check.bad(f"{path}.birth_date", "must not be in the future")
    if "nationality" in subject:
        check.country(f"{path}.nationality", subject["nationality"])
    if "document" in subject:
        _check_document(check, f"{path}.document", subject["document"])
    for key, high in (("seat", 8), ("pnr_locator", 16)):
        if key in subject:
            check.text(f"{path}.{key}", subject[key], high=high)
    if "bag_tags" in subject:
        tags = check.items(f"{path}.bag_tags", subject["bag_tags"], high=MAX_ITEMS)
        for index, tag in enumerate(tags or ()):
            check.text(f"{path}.bag_tags[{index}]", tag, low=1, high=32)


def _latest_date_on_earth(now: datetime) -> date:
    """Today in UTC+14, so that a baby born today anywhere is not "in the future"."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


def _check_document(check: _Check, path: str, value: object) -> None:
    document = check.mapping(path, value)
    if document is None:
        return
    check.unknown_fields(document, _DOCUMENT_FIELDS, path)
    if check.required(document, "type", path):
        check.choice(f"{path}.type", document["type"], DOCUMENT_TYPES)
    if check.required(document, "number", path):
        check.text(f"{path}.number", document["number"], low=1, high=64)
    if "issuing_country" in document:
        check.country(f"{path}.issuing_country", document["issuing_country"])


def _check_indicators(check: _Check, alert: dict[str, Any]) -> None:
    """At most 30 strings of 1-64 characters."""
    if "indicators" not in alert:
        return
    indicators = check.items("indicators", alert["indicators"], high=MAX_INDICATORS)
    for index, indicator in enumerate(indicators or ()):
        check.text(f"indicators[{index}]", indicator, low=1, high=64)


def _check_action(check: _Check, alert: dict[str, Any]) -> None:
    """requested_action: required for a passenger alert."""
    if "requested_action" in alert:
        check.choice("requested_action", alert["requested_action"], REQUESTED_ACTIONS)
    elif alert.get("kind") == "passenger":
        check.bad("requested_action", "is required for a passenger alert")


def _check_seizures(check: _Check, alert: dict[str, Any]) -> None:
    """Seizure: 1-50 items required; passenger: at most 50."""
    _check_item_list(check, alert, "seizures", required_for="seizure", noun="items",
                     check_item=_check_seizure)


def _check_seizure(check: _Check, path: str, value: object) -> None:
    item = check.mapping(path, value)
    if item is None:
        return
    check.unknown_fields(item, _SEIZURE_FIELDS, path)
    commodity = None
    if check.required(item, "commodity", path):
        commodity = check.choice(f"{path}.commodity", item["commodity"], COMMODITIES)
    if check.required(item, "quantity", path):
        quantity = item["quantity"]
        # bool is an int in Python, never a quantity.
        if isinstance(quantity, bool) or not isinstance(quantity, int | float):
            check.bad(f"{path}.quantity", "must be a number")
        elif not math.isfinite(quantity) or quantity <= 0:
            check.bad(f"{path}.quantity", "must be a finite number greater than 0")
    if check.required(item, "unit", path):
        _check_seizure_unit(check, f"{path}.unit", item["unit"], commodity)
    if "description" in item:
        check.text(f"{path}.description", item["description"], high=500)


def _check_seizure_unit(check: _Check, path: str, unit: object, commodity: str | None) -> None:
    """kg, g, l, pcs, or an ISO 4217 currency when the commodity is cash."""
    if isinstance(unit, str) and unit in MASS_VOLUME_COUNT_UNITS:
        return
    if not isinstance(unit, str) or not reference.is_currency(unit):
        check.bad(path, f"must be one of {', '.join(MASS_VOLUME_COUNT_UNITS)}, "
                        "or an ISO 4217 currency code (e.g. EUR) for cash")
    elif commodity is not None and commodity != "cash":
        check.bad(path, f"a currency ({unit}) is a unit only for cash; "
                        f"use one of {', '.join(MASS_VOLUME_COUNT_UNITS)}")


def _check_circumstances(check: _Check, alert: dict[str, Any]) -> None:
    """concealment, detection; location and occurred_at are required for a seizure."""
    for key, allowed in (("concealment", CONCEALMENTS), ("detection", DETECTIONS)):
        if key in alert:
            check.choice(key, alert[key], allowed)
    seizure = alert.get("kind") == "seizure"
    if "location" in alert:
        check.airport("location", alert["location"])
    elif seizure:
        check.bad("location", "is required for a seizure alert (the IATA airport code "
                              "where it happened)")
    if "occurred_at" in alert:
        occurred = check.timestamp("occurred_at", alert["occurred_at"])
        if occurred is not None:
            alert["occurred_at"] = occurred
    elif seizure:
        check.bad("occurred_at", "is required for a seizure alert")


def _check_grading(check: _Check, alert: dict[str, Any]) -> None:
    """The Admiralty code: source "A".."F" and information "1".."6", both required."""
    if "grading" not in alert:
        return
    grading = check.mapping("grading", alert["grading"])
    if grading is None:
        return
    check.unknown_fields(grading, _GRADING_FIELDS, "grading")
    if check.required(grading, "source", "grading"):
        check.choice("grading.source", grading["source"], GRADING_SOURCES)
    if check.required(grading, "information", "grading"):
        check.choice("grading.information", grading["information"], GRADING_INFORMATION)


def _check_ext(check: _Check, alert: dict[str, Any]) -> None:
    """A free map with string keys, at most MAX_EXT_BYTES encoded."""
    if "ext" not in alert:
        return
    ext = check.mapping("ext", alert["ext"])
    if ext is None:
        return
    if not all(isinstance(key, str) for key in ext):
        check.bad("ext", "must have string keys")
        return
    # The whole alert was encoded already, so ext encodes too.
    size = len(msgpack.packb(ext))
    if size > MAX_EXT_BYTES:
        check.bad("ext", f"is {size} bytes encoded; it must be at most {MAX_EXT_BYTES}")
        return
    for path in _non_json_values(ext, "ext"):
        check.bad(path, "must hold only JSON values: no binary data, non-finite numbers "
                        "or integers beyond 64 bits (the alert travels in both encodings)")


def _non_json_values(value: object, path: str) -> list[str]:
    """Paths inside ``value`` that JSON cannot carry as they are."""
    if value is None or isinstance(value, (bool, str)):
        return []
    if isinstance(value, int):
        return [] if -(2**63) <= value < 2**64 else [path]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [path]
    if isinstance(value, list):
        return [bad for i, item in enumerate(value) for bad in _non_json_values(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return [path]  # JSON object keys are strings; a binary key cannot be stored
        return [bad for key, item in value.items() for bad in _non_json_values(item, f"{path}.{key}")]
    return [path]


_SECTIONS: tuple[Callable[[_Check, dict[str, Any]], None], ...] = (
    _check_envelope,
    _check_distribution,
    _check_times,
    _check_texts,
    _check_flight,
    _check_subjects,
    _check_indicators,
    _check_action,
    _check_seizures,
    _check_circumstances,
    _check_grading,
    _check_ext,
)
