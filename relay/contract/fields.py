"""The alert field table: every field of alerts.md "Fields the client sends", once.

:data:`ALERT` is the table. :mod:`relay.contract.validation` checks an alert by walking
it, :mod:`relay.contract.schema` publishes it as JSON Schema, and the personal fields of
``protection.md`` are marked in it. The fields are listed in the order their problems are
reported. The rules that span several fields (alerts.md) sit beside the field they are
checked after, each with its JSON Schema rendering where JSON Schema can say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from relay.contract import reference
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
)
from relay.contract.specs import (
    INVALID,
    Airport,
    AlertReference,
    Always,
    Checker,
    Choice,
    Country,
    Day,
    Field,
    FlightNumber,
    ForKind,
    FreeMap,
    LanguageTag,
    ListOf,
    Quantity,
    Record,
    Spec,
    Text,
    Timestamp,
    check_region,
    check_unit_id,
    field_name,
    join,
    ref,
)
from relay.contract.times import moment

__all__ = [
    "ALERT",
    "ALERT_FIELDS",
    "GRADING_INFORMATION",
    "GRADING_SOURCES",
    "INVALID",
    "MAX_ALERT_BYTES",
    "MAX_DEPTH",
    "MAX_EXT_BYTES",
    "MAX_INDICATORS",
    "MAX_ITEMS",
    "RECORDS",
    "RELAY_FIELDS",
    "SHOWN_STATE_FIELDS",
    "DistributionSpec",
    "SeizureUnit",
    "personal_fields",
]

MAX_ALERT_BYTES: Final = 65_536  # alerts.md: "An encoded alert is at most 64 KiB"
MAX_EXT_BYTES: Final = 4_096  # alerts.md: ext "≤ 4 KiB encoded"
# The relay's limit: maps and lists nested at most this deep (an alert itself is level 1;
# the deepest field of the model, subjects[].document.number, is at level 4).
MAX_DEPTH: Final = 32
MAX_ITEMS: Final = 50  # subjects, seizures, bag tags
MAX_INDICATORS: Final = 30
GRADING_SOURCES: Final = ("A", "B", "C", "D", "E", "F")  # Admiralty source reliability
GRADING_INFORMATION: Final = ("1", "2", "3", "4", "5", "6")  # Admiralty credibility
RELAY_FIELDS: Final = frozenset({"alert_id", "origin_unit", "received_at", "seq",
                                 "origin_relay", "origin_seq", "audience"})
# What the relay adds to an alert it shows, from its stored protection state
# (docs/protection.md): never stored in the hashed body, never accepted from a client or a peer.
SHOWN_STATE_FIELDS: Final = frozenset({"masked_at", "reduced_at", "personal_unavailable"})


class SeizureUnit(Spec):
    """kg, g, l, pcs, or an ISO 4217 currency when the commodity is cash."""

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if isinstance(value, str) and value in MASS_VOLUME_COUNT_UNITS:
            return value
        units = list(MASS_VOLUME_COUNT_UNITS)
        if not isinstance(value, str) or not reference.is_currency(value):
            return checker.bad(path, "bad_seizure_unit", units=units)
        commodity = parent.get("commodity")
        if commodity in COMMODITIES and commodity != "cash":
            return checker.bad(path, "currency_only_for_cash", unit=value, units=units)
        return value

    def schema(self, description: str) -> dict[str, Any]:
        return {"type": "string", "enum": [*MASS_VOLUME_COUNT_UNITS, *reference.currency_codes()],
                "description": description}


_CURRENCY_FOR_CASH_ONLY: Final = {
    "if": {"properties": {"commodity": {"const": "cash"}}},
    "else": {"properties": {"unit": {"enum": list(MASS_VOLUME_COUNT_UNITS)}}},
}


class DistributionSpec(Spec):
    """``{"all": true}``, or units, countries and regions naming at least one; a red
    alert names units only (alerts.md ``distribution``)."""

    beyond_schema = frozenset({"unknown_unit", "unknown_region"})
    _LISTS: Final = ("units", "countries", "regions")

    def check(self, checker: Checker, path: str, value: object, parent: Mapping[str, Any]) -> Any:
        if not isinstance(value, dict):
            return checker.bad(path, "not_a_map")
        for key in value:
            if key not in ("all", *self._LISTS):
                checker.bad(join(path, field_name(key)), "unknown_field")
        red = parent.get("tlp") == "red"
        if "all" in value:
            if value["all"] is not True:
                checker.bad(f"{path}.all", "all_must_be_true")
            elif red:
                checker.bad(f"{path}.all", "not_for_red")
            if len(value) > 1:
                checker.bad(f"{path}.all", "all_alone")
        named = 0
        for key in self._LISTS:
            if key not in value:
                continue
            if red and key != "units":
                checker.bad(f"{path}.{key}", "not_for_red")
            entries = value[key]
            if not isinstance(entries, list):
                checker.bad(f"{path}.{key}", "not_a_list")
                named += 1  # one problem is enough: it counts as naming someone
                continue
            for index, entry in enumerate(entries):
                self._check_entry(checker, key, f"{path}.{key}[{index}]", entry)
            named += len(entries)
        if red and value.get("units", []) == []:
            checker.bad(f"{path}.units", "red_needs_units")
        elif not red and "all" not in value and named == 0:
            checker.bad(path, "no_recipient")
        return value

    @staticmethod
    def _check_entry(checker: Checker, key: str, path: str, entry: object) -> None:
        if key == "units":
            check_unit_id(checker, path, entry)
        elif key == "countries":
            Country().check(checker, path, entry, {})
        else:
            check_region(checker, path, entry)

    def schema(self, description: str) -> dict[str, Any]:
        return {**ref("Distribution"), "description": description}

    @staticmethod
    def definition() -> dict[str, Any]:
        named = {"type": "object", "additionalProperties": False, "required": [],
                 "description": "Named units, countries and regions",
                 "properties": {
                     "units": {"type": "array", "items": ref("UnitId"), "description": "Units"},
                     "countries": {"type": "array", "items": ref("CountryCode"),
                                   "description": "Every unit of these countries"},
                     "regions": {"type": "array", "items": {"type": "string"},
                                 "description": "Every unit of the countries of these regions "
                                                "of the relay's configuration (e.g. G5-SAHEL)"}},
                 "anyOf": [{"required": [key], "properties": {key: {"minItems": 1}}}
                           for key in ("units", "countries", "regions")]}
        return {
            "description": 'Who the alert is addressed to: {"all": true}, or units, countries '
                           "and regions, naming at least one. Units and regions must be known "
                           "to the relay. A red alert names units only.",
            "oneOf": [{"type": "object", "additionalProperties": False, "required": ["all"],
                       "description": "Every unit",
                       "properties": {"all": {"type": "boolean", "const": True}}}, named],
        }


# -- rules across fields, each checked right after the field it is attached to ------------

def _references_rule(checker: Checker, alert: dict[str, Any], path: str) -> None:
    """references: absent from an alert, required for an update or a cancel."""
    msg_type = alert.get("msg_type")
    if msg_type == "alert" and "references" in alert:
        checker.bad("references", "references_not_allowed")
    elif msg_type in ("update", "cancel") and "references" not in alert:
        checker.bad("references", "references_required", msg_type=msg_type)


_REFERENCES_ONLY_FOR_UPDATES: Final = {
    "if": {"properties": {"msg_type": {"enum": ["update", "cancel"]}}, "required": ["msg_type"]},
    "then": {"required": ["references"]},
    "else": {"not": {"required": ["references"]}},
}
_RED_FOR_NAMED_UNITS: Final = {
    "if": {"properties": {"tlp": {"const": "red"}}, "required": ["tlp"]},
    "then": {"properties": {"distribution": {
        "required": ["units"], "propertyNames": {"const": "units"},
        "properties": {"units": {"minItems": 1}}}}},
}


def _expires_after_sent(checker: Checker, alert: dict[str, Any], path: str) -> None:
    """expires_at after sent_at, as moments (08:00:00.5Z sorts before 08:00:00Z as text)."""
    sent, expires = alert.get("sent_at"), alert.get("expires_at")
    if not (isinstance(sent, str) and isinstance(expires, str)) or _refused(checker, "sent_at") \
            or _refused(checker, "expires_at"):
        return
    if moment(expires) <= moment(sent):
        checker.bad("expires_at", "not_after", other="sent_at")


def _refused(checker: Checker, path: str) -> bool:
    return any(problem.field == path for problem in checker.problems)


def _route_ends(checker: Checker, flight: dict[str, Any], path: str) -> None:
    """A route runs from the flight's origin to its destination."""
    route = flight.get("route")
    if not isinstance(route, list) or len(route) < 2 or _refused(checker, f"{path}.route"):
        return
    for key, index in (("origin", 0), ("destination", len(route) - 1)):
        expected, given = flight.get(key), route[index]
        if reference.is_airport(given) and isinstance(expected, str) \
                and reference.is_airport(expected) and given != expected:
            checker.bad(f"{path}.route[{index}]", "route_end", end=key, expected=expected)


# -- the table -----------------------------------------------------------------------------

_FLIGHT: Final = Record(component="Flight", description="The flight", fields=(
    Field("number", FlightNumber(), "IATA flight designator: a 2-character airline code "
          "(not two digits), 1 to 4 digits and an optional letter", required=Always()),
    Field("date", Day(), "Local departure date"),
    Field("origin", Airport(), "IATA code of the airport of departure", required=Always()),
    Field("destination", Airport(), "IATA code of the airport of arrival", required=Always()),
    Field("route", ListOf(Airport(), low=2), "Full routing, from origin to destination",
          then=_route_ends),
    Field("scheduled_arrival", Timestamp(), "Scheduled arrival"),
))
_DOCUMENT: Final = Record(component="TravelDocument", description="An identity or travel document", fields=(
    Field("type", Choice(DOCUMENT_TYPES), "Kind of document", required=Always()),
    Field("number", Text(low=1, high=64), "Document number", required=Always(), personal=True),
    Field("issuing_country", Country(), "ISO 3166-1 alpha-2 code of the issuing country"),
))
_SUBJECT: Final = Record(component="Subject", description="A person the alert is about", fields=(
    Field("role", Choice(SUBJECT_ROLES), "The person's part in the case", required=Always()),
    Field("surname", Text(low=1, high=200), "Surname", required=Always(), personal=True),
    Field("given_names", Text(high=200), "Given names", personal=True),
    Field("birth_date", Day(not_future=True), "Not in the future", personal=True),
    Field("nationality", Country(), "ISO 3166-1 alpha-2 code of the nationality"),
    Field("document", _DOCUMENT, "An identity or travel document"),
    Field("seat", Text(high=8), "Seat, e.g. 23C", personal=True),
    Field("pnr_locator", Text(high=16), "Booking reference", personal=True),
    Field("bag_tags", ListOf(Text(low=1, high=32), high=MAX_ITEMS, item_description="Bag tag number"),
          "Bag tags", personal=True),
))
_SEIZED_ITEM: Final = Record(component="SeizedItem", description="One seized commodity", schema_rules=(_CURRENCY_FOR_CASH_ONLY,), fields=(
    Field("commodity", Choice(COMMODITIES), "What was seized", required=Always()),
    Field("quantity", Quantity(), "How much, in unit", required=Always()),
    Field("unit", SeizureUnit(), "kg, g, l, pcs, or an ISO 4217 currency code for cash",
          required=Always()),
    Field("description", Text(high=500), "Free description"),
))
_GRADING: Final = Record(component="Grading", description="The Admiralty (NATO) code", fields=(
    Field("source", Choice(GRADING_SOURCES), "Source reliability, A (reliable) to F",
          required=Always()),
    Field("information", Choice(GRADING_INFORMATION), "Information credibility, 1 (confirmed) to 6",
          required=Always()),
))

ALERT: Final = Record(
    reserved=RELAY_FIELDS,
    schema_rules=(_REFERENCES_ONLY_FOR_UPDATES, _RED_FOR_NAMED_UNITS),
    fields=(
        Field("kind", Choice(KINDS), "passenger or seizure", required=Always()),
        Field("priority", Choice(PRIORITIES), "routine < urgent < flash", required=Always()),
        Field("tlp", Choice(TLP_LEVELS), "Traffic Light Protocol 2.0", required=Always()),
        Field("msg_type", Choice(MSG_TYPES), "alert, or an update or cancel of an earlier alert",
              default="alert"),
        Field("status", Choice(STATUSES), "Exercise and test alerts must be shown as such",
              default="actual", then=_references_rule),
        Field("references", AlertReference(), "For an update or a cancel only: an alert of the "
              "same unit and kind"),
        Field("distribution", DistributionSpec(), "Who the alert is addressed to",
              required=Always()),
        Field("sent_at", Timestamp(), "The sending terminal's clock", required=Always()),
        Field("expires_at", Timestamp(), "After sent_at; no longer actionable after it",
              then=_expires_after_sent),
        Field("summary", Text(low=1, high=2000, not_blank=True),
              "What happened and what is asked; not only whitespace", required=Always()),
        Field("language", LanguageTag(), "BCP 47 language tag, e.g. fr, en, pt-BR"),
        Field("flight", _FLIGHT, "The flight", required=ForKind("passenger")),
        Field("subjects", ListOf(_SUBJECT, high=MAX_ITEMS, low_if_required=1),
              "People the alert is about", required=ForKind("passenger")),
        Field("indicators", ListOf(Text(low=1, high=64), high=MAX_INDICATORS,
                                   item_description="e.g. cash_ticket, one_way"),
              "Risk indicators"),
        Field("requested_action", Choice(REQUESTED_ACTIONS),
              "What the receiving units are asked to do", required=ForKind("passenger")),
        Field("seizures", ListOf(_SEIZED_ITEM, high=MAX_ITEMS, low_if_required=1),
              "What was seized", required=ForKind("seizure")),
        Field("concealment", Choice(CONCEALMENTS), "How it was hidden"),
        Field("detection", Choice(DETECTIONS), "How it was found"),
        Field("location", Airport(), "Where the seizure happened", required=ForKind("seizure")),
        Field("occurred_at", Timestamp(), "When the seizure happened", required=ForKind("seizure")),
        Field("grading", _GRADING, "The Admiralty (NATO) code"),
        Field("ext", FreeMap(MAX_EXT_BYTES), f"Free extension: JSON values, at most "
              f"{MAX_EXT_BYTES} bytes encoded in MessagePack"),
    ),
)

ALERT_FIELDS: Final = ALERT.names
RECORDS: Final = (_FLIGHT, _DOCUMENT, _SUBJECT, _SEIZED_ITEM, _GRADING)


def personal_fields(record: Record = ALERT, prefix: str = "") -> tuple[str, ...]:
    """protection.md "Personal fields", as paths of the table: ``subjects[].surname``,
    ``subjects[].document.number``... (``[]``: each item of a list)."""
    paths: list[str] = []
    for spec_field in record.fields:
        path = f"{prefix}{spec_field.name}"
        spec = spec_field.spec
        if isinstance(spec, ListOf):
            spec, path = spec.item, f"{path}[]"
        if spec_field.personal:
            paths.append(path.removesuffix("[]") if not isinstance(spec, Record) else path)
        if isinstance(spec, Record):
            paths += personal_fields(spec, f"{path}.")
    return tuple(paths)
