"""The kinds of value an alert field can hold, each checked and described in one place.

A spec has two renderings of the same rule: :meth:`Spec.check` (used by
:mod:`relay.contract.validation`) returns the value, normalised where the contract says
so, or records a :class:`~relay.contract.problems.Problem` and returns :data:`INVALID`;
:meth:`Spec.schema` gives the JSON Schema (draft 2020-12) of what it accepts, for
:mod:`relay.contract.schema`. Where JSON Schema cannot say a rule (a unit the relay
knows, an airport on the real list, a size measured encoded) the schema accepts more and
the spec's ``beyond_schema`` names the problem codes that only the check can give; the
property tests of tests/test_alert_schema.py hold both renderings to that.

:class:`Record` and :class:`Field` make the table of :mod:`relay.contract.fields`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Final

import msgpack

from relay.contract import reference
from relay.contract.ids import ALERT_ID_PATTERN, UNIT_ID_PATTERN
from relay.contract.problems import Problem
from relay.contract.times import TIMESTAMP_SYNTAX, normalise_timestamp

__all__ = [
    "CONTROL_CHARACTER",
    "FLIGHT_NUMBER_PATTERN",
    "INVALID",
    "UNIT_ID_SCHEMA",
    "Airport",
    "AlertReference",
    "Always",
    "Checker",
    "Choice",
    "Country",
    "Day",
    "Field",
    "FlightNumber",
    "ForKind",
    "FreeMap",
    "LanguageTag",
    "ListOf",
    "Quantity",
    "Record",
    "Spec",
    "Text",
    "Timestamp",
    "check_region",
    "check_unit_id",
    "field_name",
    "join",
    "latest_date_on_earth",
    "non_json_values",
    "ref",
]

INVALID: Final = object()
"""What a check returns for a wrong value (its problem is recorded)."""

FLIGHT_NUMBER_PATTERN: Final = "^([A-Z][A-Z0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$"
_FLIGHT_NUMBER = re.compile(FLIGHT_NUMBER_PATTERN)
_IATA = re.compile(r"[A-Z]{3}")
# C0 control characters other than tab and newline: refused in text (they only serve to
# blow up an alert: each becomes six bytes in JSON). NUL has its own problem.
CONTROL_CHARACTER: Final = re.compile(r"[\x01-\x08\x0b-\x1f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NAIVE_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?")


def ref(name: str) -> dict[str, str]:
    """A JSON Schema reference to the component ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


class Checker:
    """The problems found while walking one alert, and what the checks need to know:
    the units and regions of the relay, the clock, and the alert's kind."""

    __slots__ = ("kind", "known_units", "now", "problems", "regions")

    def __init__(self, *, known_units: Container[str], regions: Mapping[str, frozenset[str]],
                 now: datetime, kind: object) -> None:
        self.known_units = known_units
        self.regions = regions
        self.now = now
        self.kind = kind
        self.problems: list[Problem] = []

    def bad(self, path: str, code: str, **params: Any) -> object:
        """Record a problem; returns INVALID so a check can ``return checker.bad(...)``."""
        self.problems.append(Problem(path, code, params))
        return INVALID


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def field_name(key: object) -> str:
    """The path segment of a key: itself when a plain name, else its repr."""
    if isinstance(key, str) and key and len(key) <= 64 and key.isprintable():
        return key
    return repr(key)[:64]


class Spec:
    """One kind of value. Subclasses implement both renderings of their rule."""

    beyond_schema: ClassVar[frozenset[str]] = frozenset()

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        """The value (normalised) or INVALID; ``parent`` is the map holding it."""
        raise NotImplementedError

    def schema(self, description: str) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Text(Spec):
    """A string of ``low`` to ``high`` characters; ``not_blank``: not only whitespace."""

    high: int
    low: int = 0
    not_blank: bool = False
    beyond_schema: ClassVar[frozenset[str]] = frozenset({"blank"})

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            return checker.bad(path, "not_a_string")
        if not self.low <= len(value) <= self.high:
            return checker.bad(path, "length", low=self.low, high=self.high)
        if self.not_blank and not value.strip():
            return checker.bad(path, "blank")
        control = CONTROL_CHARACTER.search(value)
        if control is not None:
            return checker.bad(path, "control_character", character=f"U+{ord(control[0]):04X}")
        return value

    def schema(self, description: str) -> dict[str, Any]:
        # No C0 control character but tab and newline (NUL cannot even be stored).
        return {"type": "string", "minLength": self.low, "maxLength": self.high,
                "pattern": "^[^\\x00-\\x08\\x0b-\\x1f]*$", "description": description}


@dataclass(frozen=True, slots=True)
class Choice(Spec):
    """One of a fixed list of strings."""

    values: tuple[str, ...]

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if isinstance(value, str) and value in self.values:
            return value
        return checker.bad(path, "not_one_of", allowed=list(self.values))

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values), "description": description}


@dataclass(frozen=True, slots=True)
class Airport(Spec):
    """An IATA airport code on the real list (``airportsdata``)."""

    beyond_schema: ClassVar[frozenset[str]] = frozenset({"unknown_airport"})

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or not _IATA.fullmatch(value):
            return checker.bad(path, "bad_iata")
        if not reference.is_airport(value):
            return checker.bad(path, "unknown_airport", value=value)
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("AirportCode"), "description": description}


@dataclass(frozen=True, slots=True)
class Country(Spec):
    """An ISO 3166-1 alpha-2 country code, upper case."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            return checker.bad(path, "bad_country")
        if not reference.is_country(value):
            return checker.bad(path, "bad_country", value=value[:200])
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("CountryCode"), "description": description}


@dataclass(frozen=True, slots=True)
class Timestamp(Spec):
    """RFC 3339 with an offset; normalised to UTC with ``Z``."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            return checker.bad(path, "bad_timestamp")
        try:
            return normalise_timestamp(value)
        except ValueError:
            if _NAIVE_TIMESTAMP.fullmatch(value):
                return checker.bad(path, "no_time_offset")
            if TIMESTAMP_SYNTAX.fullmatch(value):
                return checker.bad(path, "not_a_real_moment", value=value)
            return checker.bad(path, "bad_timestamp")

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("Timestamp"), "description": description}


@dataclass(frozen=True, slots=True)
class Day(Spec):
    """A calendar date ``YYYY-MM-DD``; ``not_future``: not after today anywhere on earth."""

    not_future: bool = False
    beyond_schema: ClassVar[frozenset[str]] = frozenset({"in_the_future"})

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            return checker.bad(path, "bad_date")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return checker.bad(path, "not_a_real_date", value=value)
        if self.not_future and day > latest_date_on_earth(checker.now):
            return checker.bad(path, "in_the_future")
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("Date"), "description": description}


def latest_date_on_earth(now: datetime) -> date:
    """Today in UTC+14, so that a baby born today anywhere is not "in the future"."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


@dataclass(frozen=True, slots=True)
class FlightNumber(Spec):
    """An IATA flight designator: airline code (not two digits), 1-4 digits, a letter."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if isinstance(value, str) and _FLIGHT_NUMBER.fullmatch(value):
            return value
        return checker.bad(path, "bad_flight_number")

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "string", "pattern": FLIGHT_NUMBER_PATTERN, "description": description,
                "examples": ["AT571"]}


@dataclass(frozen=True, slots=True)
class LanguageTag(Spec):
    """A BCP 47 tag whose subtags are in the IANA registry."""

    beyond_schema: ClassVar[frozenset[str]] = frozenset({"bad_language_tag"})

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            return checker.bad(path, "bad_language_tag")
        if not reference.is_language_tag(value):
            return checker.bad(path, "bad_language_tag", value=value[:200])
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{reference.LANGUAGE_TAG_SYNTAX.pattern}$",
                "maxLength": reference.MAX_LANGUAGE_TAG, "description": description}


@dataclass(frozen=True, slots=True)
class AlertReference(Spec):
    """The alert_id of another alert (a whole lower-case UUID)."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        # An alert may not reference at all: that is the one problem then (fields.py).
        if parent.get("msg_type") == "alert" or (
                isinstance(value, str) and ALERT_ID_PATTERN.fullmatch(value)):
            return value
        return checker.bad(path, "bad_reference")

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("AlertId"), "description": description}


@dataclass(frozen=True, slots=True)
class Quantity(Spec):
    """A finite number greater than 0 (never a boolean)."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        # bool is an int in Python, never a quantity.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return checker.bad(path, "not_a_number")
        if not math.isfinite(value) or value <= 0:
            return checker.bad(path, "not_positive")
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "number", "exclusiveMinimum": 0, "description": description}


@dataclass(frozen=True, slots=True)
class ListOf(Spec):
    """A list of ``low`` to ``high`` items; ``low_if_required`` when the field is required
    for the alert's kind (subjects of a passenger alert, seizures of a seizure)."""

    item: Spec
    high: int | None = None
    low: int = 0
    low_if_required: int | None = None
    item_description: str = ""

    @property
    def beyond_schema(self) -> frozenset[str]:  # type: ignore[override]
        return self.item.beyond_schema

    def bounds(self, required: bool) -> int:
        return self.low_if_required if required and self.low_if_required is not None else self.low

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any],
              *, required: bool = False) -> Any:
        if not isinstance(value, list):
            return checker.bad(path, "not_a_list")
        low = self.bounds(required)
        if len(value) < low or (self.high is not None and len(value) > self.high):
            return checker.bad(path, "item_count", low=low, high=self.high)
        for index, item in enumerate(value):
            checked = self.item.check(checker, f"{path}[{index}]", item, parent)
            if checked is not INVALID:
                value[index] = checked
        return value

    def schema(self, description: str, *, required: bool = False) -> dict[str, Any]:
        items = self.item.schema(self.item_description)
        if not items.get("description"):
            items.pop("description", None)
        schema: dict[str, Any] = {"type": "array", "items": items, "description": description}
        if self.bounds(required):
            schema["minItems"] = self.bounds(required)
        if self.high is not None:
            schema["maxItems"] = self.high
        return schema


@dataclass(frozen=True, slots=True)
class Always:
    """The field must be present."""


@dataclass(frozen=True, slots=True)
class ForKind:
    """The field must be present in alerts of this kind."""

    kind: str


Requirement = Always | ForKind | None


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record: its name, its spec, when it is required, its default, and
    whether it holds personal data (protection.md "Personal fields")."""

    name: str
    spec: Spec
    description: str
    required: Requirement = None
    default: str | None = None
    personal: bool = False
    # A rule over the whole record, checked right after this field (in its order).
    then: Callable[[Checker, dict[str, Any], str], None] | None = None

    def required_for(self, kind: object) -> bool:
        if isinstance(self.required, Always):
            return True
        return isinstance(self.required, ForKind) and self.required.kind == kind


@dataclass(frozen=True, slots=True)
class Record(Spec):
    """A map with named fields, none other allowed; ``component``: its schema name."""

    fields: tuple[Field, ...]
    component: str = ""
    description: str = ""
    reserved: frozenset[str] = frozenset()  # names the relay sets: refused with their own code
    schema_rules: tuple[dict[str, Any], ...] = ()  # the cross-field rules, as JSON Schema

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    @property
    def beyond_schema(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset().union(*(f.spec.beyond_schema for f in self.fields))

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, dict):
            return checker.bad(path or "alert", "not_a_map")
        self.check_fields(checker, path, value)
        return value

    def check_fields(self, checker: Checker, path: str, record: dict[str, Any]) -> None:
        """Unknown keys first, then each field in the table's order."""
        self.check_keys(checker, path, record)
        self.check_values(checker, path, record)

    def check_keys(self, checker: Checker, path: str, record: Mapping[Any, Any]) -> None:
        """A problem for each key that is not a field of the record."""
        names = self.names
        for key in record:
            if key not in names:
                code = "set_by_relay" if key in self.reserved else "unknown_field"
                checker.bad(join(path, field_name(key)), code)

    def check_values(self, checker: Checker, path: str, record: dict[str, Any]) -> None:
        """Each field in the table's order, with the rule attached to it."""
        for spec_field in self.fields:
            self._check_field(checker, path, record, spec_field)
            if spec_field.then is not None:
                spec_field.then(checker, record, path)

    @staticmethod
    def _check_field(checker: Checker, path: str, record: dict[str, Any], spec_field: Field) -> None:
        name, spec = spec_field.name, spec_field.spec
        inner = join(path, name)
        if name not in record:
            if isinstance(spec_field.required, Always):
                checker.bad(inner, "required")
            elif spec_field.required_for(checker.kind):
                params: dict[str, Any] = {"kind": checker.kind, "field": name}
                if isinstance(spec, ListOf):
                    params.update(low=spec.bounds(True), high=spec.high)
                checker.bad(inner, "required_for_kind", **params)
            return
        if isinstance(spec, ListOf):
            checked = spec.check(checker, inner, record[name], record,
                                 required=spec_field.required_for(checker.kind))
        else:
            checked = spec.check(checker, inner, record[name], record)
        if checked is not INVALID:
            record[name] = checked

    def schema(self, description: str) -> dict[str, Any]:
        if self.component:
            return {**ref(self.component), "description": description}
        return self.definition(description)

    def definition(self, description: str = "", *, kind: str | None = None) -> dict[str, Any]:
        """The object schema itself (components hold it under ``self.component``); with
        ``kind``, the fields required for that kind are required."""
        description = description or self.description
        properties: dict[str, Any] = {}
        required: list[str] = []
        for spec_field in self.fields:
            needed = spec_field.required_for(kind)
            spec = spec_field.spec
            if isinstance(spec, ListOf):
                properties[spec_field.name] = spec.schema(spec_field.description, required=needed)
            else:
                properties[spec_field.name] = spec.schema(spec_field.description)
            if spec_field.default is not None:
                properties[spec_field.name]["default"] = spec_field.default
            if needed:
                required.append(spec_field.name)
        schema: dict[str, Any] = {"type": "object", "description": description,
                                  "properties": properties, "required": required,
                                  "additionalProperties": False}
        if self.schema_rules:
            schema["allOf"] = list(self.schema_rules)
        return schema


@dataclass(frozen=True, slots=True)
class FreeMap(Spec):
    """A free map of JSON values with string keys, at most ``max_bytes`` in MessagePack."""

    max_bytes: int
    beyond_schema: ClassVar[frozenset[str]] = frozenset(
        {"too_large", "string_keys", "not_json_value", "nul_character"})

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, dict):
            return checker.bad(path, "not_a_map")
        if not all(isinstance(key, str) for key in value):
            return checker.bad(path, "string_keys")
        # The whole alert was encoded already, so this map encodes too.
        size = len(msgpack.packb(value))
        if size > self.max_bytes:
            return checker.bad(path, "too_large", size=size, limit=self.max_bytes)
        bad = non_json_values(value, path)
        for inner in bad:
            checker.bad(inner, "not_json_value")
        return INVALID if bad else value

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "object", "description": description}


def non_json_values(value: object, path: str) -> list[str]:
    """Paths inside ``value`` that JSON cannot carry as they are."""
    if value is None or isinstance(value, (bool, str)):
        return []
    if isinstance(value, int):
        return [] if -(2**63) <= value < 2**64 else [path]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [path]
    if isinstance(value, list):
        return [bad for i, item in enumerate(value) for bad in non_json_values(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return [path]  # JSON object keys are strings; a binary key cannot be stored
        return [bad for key, item in value.items() for bad in non_json_values(item, f"{path}.{key}")]
    return [path]


UNIT_ID_SCHEMA: Final = {"type": "string", "pattern": UNIT_ID_PATTERN.pattern,
                         "description": "A unit's id, by convention CC-AAA-KIND",
                         "examples": ["ML-BKO-JAITF"]}


def check_unit_id(checker: Checker, path: str, value: object) -> None:
    """A unit the relay knows (for distributions)."""
    if not isinstance(value, str):
        checker.bad(path, "not_a_unit_id")
    elif value not in checker.known_units:
        checker.bad(path, "unknown_unit", value=value[:200])


def check_region(checker: Checker, path: str, value: object) -> None:
    """A region of the relay's configuration."""
    if not isinstance(value, str):
        checker.bad(path, "not_a_region_name")
    elif value not in checker.regions:
        checker.bad(path, "unknown_region", value=value[:200], known=sorted(checker.regions))

