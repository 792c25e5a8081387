"""Validation of a client's alert: every rule of ``shared/spec/alerts.md``, all at once.

:func:`validate_alert` returns a new, normalised alert (defaults applied, timestamps in
UTC with a ``Z``) or raises :class:`relay.errors.InvalidAlert` whose details list every
problem with its dotted path (``subjects[0].document.issuing_country``). Pure: the known
units and the regions are passed in. Sizes are measured in MessagePack, the compact
encoding, so an alert valid in one encoding is valid in the other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Mapping
from datetime import UTC, date, datetime
from typing import Any

import msgpack

from relay import reference
from relay.errors import InvalidAlert
from relay.model import (
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

__all__ = ["MAX_ALERT_BYTES", "MAX_EXT_BYTES", "normalise_timestamp", "validate_alert"]

MAX_ALERT_BYTES = 65_536
MAX_EXT_BYTES = 4_096
MAX_ITEMS = 50

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FLIGHT = re.compile(r"^(?![0-9]{2})[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_IATA = re.compile(r"^[A-Z]{3}$")

_TOP = {
    "kind", "msg_type", "status", "references", "priority", "tlp", "distribution", "sent_at",
    "expires_at", "summary", "language", "flight", "subjects", "indicators",
    "requested_action", "seizures", "concealment", "detection", "location", "occurred_at",
    "grading", "ext",
}
_FLIGHT_KEYS = {"number", "date", "origin", "destination", "route", "scheduled_arrival"}
_SUBJECT_KEYS = {"role", "surname", "given_names", "birth_date", "nationality", "document",
                 "seat", "pnr_locator", "bag_tags"}
_DOCUMENT_KEYS = {"type", "number", "issuing_country"}
_SEIZURE_KEYS = {"commodity", "quantity", "unit", "description"}


def normalise_timestamp(value: str) -> str:
    """An RFC 3339 timestamp with offset, as UTC with ``Z`` (microseconds when not zero)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("z", "Z").replace("Z", "+00:00"))
    moment = datetime.fromisoformat(text).astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


class _Checker:
    """Collects problems while walking one alert; ``out`` is the normalised copy."""

    def __init__(self, known_units: Container[str], regions: Mapping[str, frozenset[str]]) -> None:
        self.known_units = known_units
        self.regions = regions
        self.problems: list[Problem] = []

    def bad(self, path: str, problem: str) -> None:
        self.problems.append(Problem(path, problem))

    # -- primitive checks; each returns the (normalised) value or None ---------------
    def unknown_keys(self, obj: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.bad(f"{prefix}{key}", "unknown field")

    def text(self, path: str, value: object, *, low: int = 0, high: int) -> str | None:
        if not isinstance(value, str):
            self.bad(path, "must be a string")
            return None
        if len(value) > high or len(value) < low or (low and not value.strip()):
            self.bad(path, f"must be {low} to {high} characters" if low else
                     f"must be at most {high} characters")
            return None
        return value

    def choice(self, path: str, value: object, allowed: tuple[str, ...]) -> str | None:
        if not isinstance(value, str) or value not in allowed:
            self.bad(path, f"must be one of {', '.join(allowed)}")
            return None
        return value

    def coded(self, path: str, value: object, test: Callable[[str], bool], what: str) -> str | None:
        if not isinstance(value, str):
            self.bad(path, f"must be {what} (a string)")
            return None
        if not test(value):
            self.bad(path, f"{value[:40]!r} is not {what}")
            return None
        return value

    def airport(self, path: str, value: object) -> str | None:
        if isinstance(value, str) and _IATA.match(value) and not reference.is_airport(value):
            self.bad(path, f"unknown IATA airport code {value!r}")
            return None
        return self.coded(path, value, reference.is_airport, "an IATA airport code (3 upper-case letters)")

    def country(self, path: str, value: object) -> str | None:
        return self.coded(path, value, reference.is_country, "an ISO 3166-1 alpha-2 country code")

    def timestamp(self, path: str, value: object) -> str | None:
        if not isinstance(value, str) or not _TIMESTAMP.match(value):
            self.bad(path, "must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-23T08:00:00Z")
            return None
        try:
            return normalise_timestamp(value)
        except ValueError:
            self.bad(path, "is not a real date and time")
            return None

    def day(self, path: str, value: object) -> date | None:
        if not isinstance(value, str) or not _DATE.match(value):
            self.bad(path, "must be a date YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(path, "is not a real calendar date")
            return None

    def items(self, path: str, value: object, *, low: int, high: int) -> list[Any] | None:
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return None
        if not low <= len(value) <= high:
            self.bad(path, f"must have {low} to {high} items")
            return None
        return value

    def mapping(self, path: str, value: object) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(path, "must be a map")
            return None
        return value


def validate_alert(
    raw: object, *, known_units: Container[str], regions: Mapping[str, frozenset[str]]
) -> dict[str, Any]:
    """Check ``raw`` against alerts.md; the normalised alert, or :class:`InvalidAlert`."""
    check = _Checker(known_units, regions)
    if not isinstance(raw, dict):
        raise InvalidAlert("the alert must be a map", [Problem("alert", "must be a map")])
    try:
        size = len(msgpack.packb(raw, use_bin_type=True))
    except (TypeError, ValueError, OverflowError):
        raise InvalidAlert("the alert cannot be encoded",
                           [Problem("alert", "holds a value that cannot be encoded")]) from None
    if size > MAX_ALERT_BYTES:
        raise InvalidAlert("the alert is too large",
                           [Problem("alert", f"is {size} bytes encoded; at most {MAX_ALERT_BYTES}")])
    out = dict(raw)
    check.unknown_keys(raw, _TOP, "")
    _check_envelope(check, raw, out)
    _check_times(check, raw, out)
    kind = raw.get("kind")
    _check_flight(check, raw, out, required=kind == "passenger")
    _check_subjects(check, raw, out, required=kind == "passenger")
    _check_seizures(check, raw, out, required=kind == "seizure")
    _check_passenger_fields(check, raw, kind)
    _check_seizure_fields(check, raw, out, kind)
    _check_extras(check, raw)
    if check.problems:
        count = len(check.problems)
        raise InvalidAlert(f"the alert has {count} problem{'s' if count > 1 else ''}", check.problems)
    return out


def _required(check: _Checker, raw: Mapping[str, Any], key: str, why: str = "") -> bool:
    if key in raw:
        return True
    check.bad(key, f"is required{why}")
    return False


def _check_envelope(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any]) -> None:
    for key, allowed in (("kind", KINDS), ("priority", PRIORITIES), ("tlp", TLP_LEVELS)):
        if _required(check, raw, key):
            check.choice(key, raw[key], allowed)
    out["msg_type"] = raw.get("msg_type", "alert")
    out["status"] = raw.get("status", "actual")
    msg_type = check.choice("msg_type", out["msg_type"], MSG_TYPES)
    check.choice("status", out["status"], STATUSES)
    if msg_type in ("update", "cancel"):
        if _required(check, raw, "references", f" for a {msg_type}"):
            ref = raw["references"]
            if not isinstance(ref, str) or not _UUID.match(ref):
                check.bad("references", "must be an alert id (a lower-case UUID)")
    elif "references" in raw:
        check.bad("references", "is only allowed with msg_type update or cancel")
    if _required(check, raw, "summary"):
        check.text("summary", raw["summary"], low=1, high=2000)
    if "language" in raw:
        check.coded("language", raw["language"], reference.is_language_tag, "a BCP 47 language tag")
    if _required(check, raw, "distribution"):
        _check_distribution(check, raw["distribution"], raw.get("tlp"))


def _check_distribution(check: _Checker, value: object, tlp: object) -> None:
    dist = check.mapping("distribution", value)
    if dist is None:
        return
    check.unknown_keys(dist, {"all", "units", "countries", "regions"}, "distribution.")
    if "all" in dist:
        if dist["all"] is not True:
            check.bad("distribution.all", "must be true (or left out)")
        elif set(dist) != {"all"}:
            check.bad("distribution", '{"all": true} cannot be combined with units, countries or regions')
        if tlp == "red":
            check.bad("distribution.all", "a red alert may only be distributed to named units")
        return
    total = 0
    tests: dict[str, Callable[[str, object], object]] = {
        "units": lambda p, v: _known_unit(check, p, v),
        "countries": check.country,
        "regions": lambda p, v: _known_region(check, p, v),
    }
    for key, test in tests.items():
        if key not in dist:
            continue
        if tlp == "red" and key != "units":
            check.bad(f"distribution.{key}", "a red alert may only be distributed to named units")
        entries = check.items(f"distribution.{key}", dist[key], low=0, high=1000)
        for index, entry in enumerate(entries or ()):
            test(f"distribution.{key}[{index}]", entry)
        total += len(entries or ())
    if total == 0:
        check.bad("distribution", "must name at least one unit, country or region, or be {\"all\": true}")


def _known_unit(check: _Checker, path: str, value: object) -> None:
    if not isinstance(value, str):
        check.bad(path, "must be a unit id (a string)")
    elif value not in check.known_units:
        check.bad(path, f"unknown unit {value[:40]!r}")


def _known_region(check: _Checker, path: str, value: object) -> None:
    if not isinstance(value, str):
        check.bad(path, "must be a region name (a string)")
    elif value not in check.regions:
        known = ", ".join(sorted(check.regions)) or "none configured"
        check.bad(path, f"unknown region {value[:40]!r} (known: {known})")


def _check_times(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any]) -> None:
    sent = check.timestamp("sent_at", raw["sent_at"]) if _required(check, raw, "sent_at") else None
    if sent is not None:
        out["sent_at"] = sent
    if "expires_at" in raw:
        expires = check.timestamp("expires_at", raw["expires_at"])
        if expires is not None:
            out["expires_at"] = expires
            if sent is not None and _moment(expires) <= _moment(sent):
                check.bad("expires_at", "must be after sent_at")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_flight(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any], *, required: bool) -> None:
    if "flight" not in raw:
        if required:
            check.bad("flight", "is required for a passenger alert")
        return
    flight = check.mapping("flight", raw["flight"])
    if flight is None:
        return
    normalised = dict(flight)
    check.unknown_keys(flight, _FLIGHT_KEYS, "flight.")
    if "number" not in flight:
        check.bad("flight.number", "is required")
    elif not isinstance(flight["number"], str) or not _FLIGHT.match(flight["number"]):
        check.bad("flight.number", "must be an IATA flight designator: 2-character airline code, "
                                   "1-4 digits, optional letter (e.g. AT571)")
    if "date" in flight:
        check.day("flight.date", flight["date"])
    for key in ("origin", "destination"):
        if key not in flight:
            check.bad(f"flight.{key}", "is required")
        else:
            check.airport(f"flight.{key}", flight[key])
    if "route" in flight:
        _check_route(check, flight)
    if "scheduled_arrival" in flight:
        stamp = check.timestamp("flight.scheduled_arrival", flight["scheduled_arrival"])
        if stamp is not None:
            normalised["scheduled_arrival"] = stamp
    out["flight"] = normalised


def _check_route(check: _Checker, flight: Mapping[str, Any]) -> None:
    route = check.items("flight.route", flight["route"], low=2, high=20)
    if route is None:
        return
    valid = [check.airport(f"flight.route[{i}]", code) is not None for i, code in enumerate(route)]
    if not all(valid):
        return
    if "origin" in flight and route[0] != flight["origin"]:
        check.bad("flight.route[0]", "must be the flight's origin")
    if "destination" in flight and route[-1] != flight["destination"]:
        check.bad(f"flight.route[{len(route) - 1}]", "must be the flight's destination")


def _check_subjects(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any], *, required: bool) -> None:
    if "subjects" not in raw:
        if required:
            check.bad("subjects", "is required for a passenger alert (1 to 50 subjects)")
        return
    subjects = check.items("subjects", raw["subjects"], low=1 if required else 0, high=MAX_ITEMS)
    for index, subject in enumerate(subjects or ()):
        _check_subject(check, f"subjects[{index}]", subject)


def _check_subject(check: _Checker, path: str, value: object) -> None:
    subject = check.mapping(path, value)
    if subject is None:
        return
    check.unknown_keys(subject, _SUBJECT_KEYS, f"{path}.")
    for key in ("role", "surname"):
        if key not in subject:
            check.bad(f"{path}.{key}", "is required")
    if "role" in subject:
        check.choice(f"{path}.role", subject["role"], SUBJECT_ROLES)
    if "surname" in subject:
        check.text(f"{path}.surname", subject["surname"], low=1, high=200)
    if "given_names" in subject:
        check.text(f"{path}.given_names", subject["given_names"], high=200)
    if "birth_date" in subject:
        born = check.day(f"{path}.birth_date", subject["birth_date"])
        if born is not None and born > datetime.now(UTC).date():
            check.bad(f"{path}.birth_date", "is in the future")
    if "nationality" in subject:
        check.country(f"{path}.nationality", subject["nationality"])
    if "document" in subject:
        _check_document(check, f"{path}.document", subject["document"])
    for key, high in (("seat", 8), ("pnr_locator", 16)):
        if key in subject:
            check.text(f"{path}.{key}", subject[key], low=1, high=high)
    if "bag_tags" in subject:
        tags = check.items(f"{path}.bag_tags", subject["bag_tags"], low=0, high=MAX_ITEMS)
        for index, tag in enumerate(tags or ()):
            check.text(f"{path}.bag_tags[{index}]", tag, low=1, high=32)


def _check_document(check: _Checker, path: str, value: object) -> None:
    document = check.mapping(path, value)
    if document is None:
        return
    check.unknown_keys(document, _DOCUMENT_KEYS, f"{path}.")
    if "type" not in document:
        check.bad(f"{path}.type", "is required")
    else:
        check.choice(f"{path}.type", document["type"], DOCUMENT_TYPES)
    if "number" not in document:
        check.bad(f"{path}.number", "is required")
    else:
        check.text(f"{path}.number", document["number"], low=1, high=64)
    if "issuing_country" in document:
        check.country(f"{path}.issuing_country", document["issuing_country"])


def _check_seizures(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any], *, required: bool) -> None:
    if "seizures" not in raw:
        if required:
            check.bad("seizures", "is required for a seizure alert (1 to 50 items)")
        return
    seizures = check.items("seizures", raw["seizures"], low=1 if required else 0, high=MAX_ITEMS)
    for index, item in enumerate(seizures or ()):
        _check_seizure(check, f"seizures[{index}]", item)


def _check_seizure(check: _Checker, path: str, value: object) -> None:
    item = check.mapping(path, value)
    if item is None:
        return
    check.unknown_keys(item, _SEIZURE_KEYS, f"{path}.")
    for key in ("commodity", "quantity", "unit"):
        if key not in item:
            check.bad(f"{path}.{key}", "is required")
    commodity = check.choice(f"{path}.commodity", item["commodity"], COMMODITIES) if "commodity" in item else None
    if "quantity" in item:
        quantity = item["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) \
                or not math.isfinite(quantity) or quantity <= 0:
            check.bad(f"{path}.quantity", "must be a number greater than 0")
    if "unit" in item:
        unit = item["unit"]
        is_currency = isinstance(unit, str) and reference.is_currency(unit)
        if not (unit in MASS_VOLUME_COUNT_UNITS or is_currency):
            check.bad(f"{path}.unit", "must be kg, g, l, pcs or an ISO 4217 currency code")
        elif is_currency and commodity not in (None, "cash"):
            check.bad(f"{path}.unit", "a currency is only a unit for cash")
    if "description" in item:
        check.text(f"{path}.description", item["description"], high=500)


def _check_passenger_fields(check: _Checker, raw: Mapping[str, Any], kind: object) -> None:
    if "requested_action" in raw:
        check.choice("requested_action", raw["requested_action"], REQUESTED_ACTIONS)
    elif kind == "passenger":
        check.bad("requested_action", "is required for a passenger alert")
    if "indicators" in raw:
        indicators = check.items("indicators", raw["indicators"], low=0, high=30)
        for index, indicator in enumerate(indicators or ()):
            check.text(f"indicators[{index}]", indicator, low=1, high=64)


def _check_seizure_fields(check: _Checker, raw: Mapping[str, Any], out: dict[str, Any], kind: object) -> None:
    for key, allowed in (("concealment", CONCEALMENTS), ("detection", DETECTIONS)):
        if key in raw:
            check.choice(key, raw[key], allowed)
    if "location" in raw:
        check.airport("location", raw["location"])
    elif kind == "seizure":
        check.bad("location", "is required for a seizure alert (the IATA code where it happened)")
    if "occurred_at" in raw:
        stamp = check.timestamp("occurred_at", raw["occurred_at"])
        if stamp is not None:
            out["occurred_at"] = stamp
    elif kind == "seizure":
        check.bad("occurred_at", "is required for a seizure alert")


def _check_extras(check: _Checker, raw: Mapping[str, Any]) -> None:
    if "grading" in raw:
        grading = check.mapping("grading", raw["grading"])
        if grading is not None:
            check.unknown_keys(grading, {"source", "information"}, "grading.")
            for key, allowed in (("source", tuple("ABCDEF")), ("information", tuple("123456"))):
                if key not in grading:
                    check.bad(f"grading.{key}", "is required")
                else:
                    check.choice(f"grading.{key}", grading[key], allowed)
    if "ext" in raw:
        ext = check.mapping("ext", raw["ext"])
        if ext is not None:
            if not all(isinstance(key, str) for key in ext):
                check.bad("ext", "keys must be strings")
            elif len(msgpack.packb(ext, use_bin_type=True)) > MAX_EXT_BYTES:
                check.bad("ext", f"must be at most {MAX_EXT_BYTES} bytes encoded")
