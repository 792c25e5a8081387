"""The alert of alerts.md as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1).

:data:`ALERT_SCHEMAS` holds the named schemas that :mod:`relay.openapi` puts under
``components/schemas``: ``NewAlert`` (what a client publishes: a ``PassengerAlert`` or a
``SeizureAlert``, told apart by ``kind``) and ``Alert`` (a stored alert as the relay
answers it, with its own ``alert_id``, ``origin_unit`` and ``received_at``), and the parts
they share. They reference each other as ``#/components/schemas/<name>``;
:func:`alert_json_schema` wraps them into one standalone document.

Built from the vocabulary that :mod:`relay.validation` checks against, so the two cannot
drift. The contract (tests/test_alert_schema.py): the schema accepts every alert that
:func:`relay.validation.validate_alert` accepts. It refuses most of what the validator
refuses, including the cross-field rules of alerts.md (the fields each kind requires,
``references`` for an update or a cancel only, a red alert for named units only, a currency
for cash only); what JSON Schema cannot say is left to the validator and written in the
descriptions: units, regions and airports the relay knows, sizes measured encoded, a
summary of only whitespace, ``expires_at`` after ``sent_at``, route ends, birth dates in
the future.
"""

from __future__ import annotations

from typing import Any, Final

import pycountry

from relay.contract.ids import UNIT_ID_PATTERN
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
from relay.contract.validation import (
    GRADING_INFORMATION,
    GRADING_SOURCES,
    MAX_ALERT_BYTES,
    MAX_EXT_BYTES,
    MAX_INDICATORS,
    MAX_ITEMS,
)

__all__ = [
    "ALERT_EXAMPLES",
    "ALERT_ID_PATTERN",
    "ALERT_SCHEMAS",
    "COUNTRY_CODES",
    "CURRENCY_CODES",
    "alert_json_schema",
    "ref",
]

ALERT_ID_PATTERN: Final = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# The codes relay.reference accepts, from the same library.
COUNTRY_CODES: Final = tuple(sorted(country.alpha_2 for country in pycountry.countries))
CURRENCY_CODES: Final = tuple(sorted(currency.alpha_3 for currency in pycountry.currencies))

# Lengths relay.validation checks, in characters.
_SUMMARY_MAX = 2000
_NAME_MAX = 200
_DOCUMENT_NUMBER_MAX = 64
_SEAT_MAX = 8
_PNR_MAX = 16
_BAG_TAG_MAX = 32
_INDICATOR_MAX = 64
_DESCRIPTION_MAX = 500
# RFC 5646 syntax, as relay.reference checks it before looking the subtags up.
_LANGUAGE_TAG = "^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$"
_LANGUAGE_TAG_MAX = 35
# relay.validation's designator without its look-ahead: an airline code that is not two digits.
_FLIGHT_NUMBER = "^([A-Z][A-Z0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$"


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _text(low: int, high: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": low, "maxLength": high, "description": description}


def _choice(values: tuple[str, ...], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description}


def _array(items: dict[str, Any], high: int, description: str, *, low: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": low, "maxItems": high,
            "description": description}


def _object(properties: dict[str, Any], required: list[str], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": properties,
            "required": required, "additionalProperties": False}


_PARTS: dict[str, Any] = {
    "Timestamp": {
        "type": "string", "format": "date-time",
        "description": "RFC 3339 with a time offset (Z or ±hh:mm); the relay stores and "
                       "answers it in UTC with Z. Leap seconds (:60) are refused.",
        "examples": ["2026-11-23T08:00:00Z"],
    },
    "Date": {"type": "string", "format": "date", "description": "YYYY-MM-DD",
             "examples": ["2026-11-23"]},
    "AirportCode": {"type": "string", "pattern": "^[A-Z]{3}$",
                    "description": "IATA airport code, one the relay's airport list knows",
                    "examples": ["CDG"]},
    "CountryCode": {"type": "string", "enum": list(COUNTRY_CODES),
                    "description": "ISO 3166-1 alpha-2 country code, upper case"},
    "UnitId": {"type": "string", "pattern": UNIT_ID_PATTERN.pattern,
               "description": "A unit's id, by convention CC-AAA-KIND",
               "examples": ["ML-BKO-JAITF"]},
    "AlertId": {"type": "string", "pattern": ALERT_ID_PATTERN,
                "description": "An alert_id given by the relay: a UUIDv7 in lower-case hex",
                "examples": ["019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"]},
    "Distribution": {
        "description": 'Who the alert is addressed to: {"all": true}, or units, countries '
                       "and regions, naming at least one. Units and regions must be known "
                       "to the relay. A red alert names units only.",
        "oneOf": [
            _object({"all": {"type": "boolean", "const": True}}, ["all"], "Every unit"),
            {**_object({
                "units": {"type": "array", "items": ref("UnitId"), "description": "Units"},
                "countries": {"type": "array", "items": ref("CountryCode"),
                              "description": "Every unit of these countries"},
                "regions": {"type": "array", "items": {"type": "string"},
                            "description": "Every unit of the countries of these regions "
                                           "of the relay's configuration (e.g. G5-SAHEL)"},
            }, [], "Named units, countries and regions"),
             "anyOf": [{"required": [key], "properties": {key: {"minItems": 1}}}
                       for key in ("units", "countries", "regions")]},
        ],
    },
    "Flight": _object({
        "number": {"type": "string", "pattern": _FLIGHT_NUMBER,
                   "description": "IATA flight designator: a 2-character airline code (not "
                                  "two digits), 1 to 4 digits and an optional letter",
                   "examples": ["AT571"]},
        "date": {**ref("Date"), "description": "Local departure date"},
        "origin": ref("AirportCode"),
        "destination": ref("AirportCode"),
        "route": {"type": "array", "items": ref("AirportCode"), "minItems": 2,
                  "description": "Full routing, from origin to destination"},
        "scheduled_arrival": ref("Timestamp"),
    }, ["number", "origin", "destination"], "The flight"),
    "TravelDocument": _object({
        "type": _choice(DOCUMENT_TYPES, "Kind of document"),
        "number": _text(1, _DOCUMENT_NUMBER_MAX, "Document number"),
        "issuing_country": ref("CountryCode"),
    }, ["type", "number"], "An identity or travel document"),
    "Subject": _object({
        "role": _choice(SUBJECT_ROLES, "The person's part in the case"),
        "surname": _text(1, _NAME_MAX, "Surname"),
        "given_names": _text(0, _NAME_MAX, "Given names"),
        "birth_date": {**ref("Date"), "description": "Not in the future"},
        "nationality": ref("CountryCode"),
        "document": ref("TravelDocument"),
        "seat": _text(0, _SEAT_MAX, "Seat, e.g. 23C"),
        "pnr_locator": _text(0, _PNR_MAX, "Booking reference"),
        "bag_tags": _array(_text(1, _BAG_TAG_MAX, "Bag tag number"), MAX_ITEMS, "Bag tags"),
    }, ["role", "surname"], "A person the alert is about"),
    "SeizedItem": {
        **_object({
            "commodity": _choice(COMMODITIES, "What was seized"),
            "quantity": {"type": "number", "exclusiveMinimum": 0,
                         "description": "How much, in unit"},
            "unit": _choice(MASS_VOLUME_COUNT_UNITS + CURRENCY_CODES,
                            "kg, g, l, pcs, or an ISO 4217 currency code for cash"),
            "description": _text(0, _DESCRIPTION_MAX, "Free description"),
        }, ["commodity", "quantity", "unit"], "One seized commodity"),
        # A currency is a unit only for cash.
        "if": {"properties": {"commodity": {"const": "cash"}}},
        "else": {"properties": {"unit": {"enum": list(MASS_VOLUME_COUNT_UNITS)}}},
    },
    "Grading": _object({
        "source": _choice(GRADING_SOURCES, "Source reliability, A (reliable) to F"),
        "information": _choice(GRADING_INFORMATION, "Information credibility, 1 (confirmed) to 6"),
    }, ["source", "information"], "The Admiralty (NATO) code"),
}

_COMMON: dict[str, Any] = {
    "msg_type": {**_choice(MSG_TYPES, "alert, or an update or cancel of an earlier alert"),
                 "default": "alert"},
    "status": {**_choice(STATUSES, "Exercise and test alerts must be shown as such"),
               "default": "actual"},
    "references": {**ref("AlertId"),
                   "description": "For an update or a cancel only: an alert of the same unit "
                                  "and kind"},
    "priority": _choice(PRIORITIES, "routine < urgent < flash"),
    "tlp": _choice(TLP_LEVELS, "Traffic Light Protocol 2.0"),
    "distribution": ref("Distribution"),
    "sent_at": {**ref("Timestamp"), "description": "The sending terminal's clock"},
    "expires_at": {**ref("Timestamp"), "description": "After sent_at; no longer actionable "
                                                      "after it"},
    "summary": _text(1, _SUMMARY_MAX, "What happened and what is asked; not only whitespace"),
    "language": {"type": "string", "pattern": _LANGUAGE_TAG, "maxLength": _LANGUAGE_TAG_MAX,
                 "description": "BCP 47 language tag, e.g. fr, en, pt-BR"},
    "flight": ref("Flight"),
    "indicators": _array(_text(1, _INDICATOR_MAX, "e.g. cash_ticket, one_way"),
                         MAX_INDICATORS, "Risk indicators"),
    "requested_action": _choice(REQUESTED_ACTIONS, "What the receiving units are asked to do"),
    "concealment": _choice(CONCEALMENTS, "How it was hidden"),
    "detection": _choice(DETECTIONS, "How it was found"),
    "location": {**ref("AirportCode"), "description": "Where the seizure happened"},
    "occurred_at": {**ref("Timestamp"), "description": "When the seizure happened"},
    "grading": ref("Grading"),
    "ext": {"type": "object",
            "description": f"Free extension: JSON values, at most {MAX_EXT_BYTES} bytes "
                           "encoded in MessagePack"},
}

_RELAY: dict[str, Any] = {
    "alert_id": {**ref("AlertId"), "readOnly": True},
    "origin_unit": {**ref("UnitId"), "readOnly": True,
                    "description": "The unit that published it"},
    "received_at": {**ref("Timestamp"), "readOnly": True,
                    "description": "The relay's clock when it received the alert"},
}

# alerts.md: references for an update or a cancel, never for an alert (the default);
# a red alert reaches named units only.
_CROSS_FIELD_RULES: list[dict[str, Any]] = [
    {"if": {"properties": {"msg_type": {"enum": ["update", "cancel"]}}, "required": ["msg_type"]},
     "then": {"required": ["references"]},
     "else": {"not": {"required": ["references"]}}},
    {"if": {"properties": {"tlp": {"const": "red"}}, "required": ["tlp"]},
     "then": {"properties": {"distribution": {
         "required": ["units"], "propertyNames": {"const": "units"},
         "properties": {"units": {"minItems": 1}}}}}},
]

_KIND_REQUIRED = {
    "passenger": ["flight", "subjects", "requested_action"],
    "seizure": ["seizures", "location", "occurred_at"],
}


def _alert(kind: str, *, stored: bool) -> dict[str, Any]:
    """One kind of alert: as a client sends it, or as the relay stores it."""
    properties = {
        "kind": {"type": "string", "const": kind},
        **_COMMON,
        "subjects": _array(ref("Subject"), MAX_ITEMS, "People the alert is about",
                           low=int(kind == "passenger")),
        "seizures": _array(ref("SeizedItem"), MAX_ITEMS, "What was seized",
                           low=int(kind == "seizure")),
    }
    required = ["kind", "priority", "tlp", "distribution", "sent_at", "summary",
                *_KIND_REQUIRED[kind]]
    if stored:
        properties.update(_RELAY)
        required += ["msg_type", "status", *_RELAY]
    which = "stored by the relay" if stored else f"at most {MAX_ALERT_BYTES} bytes encoded"
    return {**_object(properties, required, f"A {kind} alert ({which})"),
            "allOf": _CROSS_FIELD_RULES}


def _one_of_kinds(prefix: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [ref(f"{prefix}{kind.capitalize()}Alert") for kind in KINDS],
        "discriminator": {"propertyName": "kind", "mapping": {
            kind: ref(f"{prefix}{kind.capitalize()}Alert")["$ref"] for kind in KINDS}},
    }


ALERT_SCHEMAS: Final[dict[str, Any]] = {
    **_PARTS,
    "PassengerAlert": _alert("passenger", stored=False),
    "SeizureAlert": _alert("seizure", stored=False),
    "NewAlert": _one_of_kinds("", "An alert as a client publishes it (alerts.md)"),
    "StoredPassengerAlert": _alert("passenger", stored=True),
    "StoredSeizureAlert": _alert("seizure", stored=True),
    "Alert": _one_of_kinds("Stored", "An alert as the relay stores and answers it"),
}


# Valid alerts for the document's readers (and for schemathesis, which publishes them).
ALERT_EXAMPLES: Final[dict[str, dict[str, Any]]] = {
    "passenger": {
        "kind": "passenger", "priority": "flash", "tlp": "amber",
        "distribution": {"countries": ["MA", "FR"]},
        "sent_at": "2026-11-23T08:00:00Z",
        "summary": "Suspected cocaine courier (ingestion) boarding AT571 BKO-CMN, "
                   "connecting to CDG.",
        "language": "en",
        "flight": {"number": "AT571", "date": "2026-11-23", "origin": "BKO",
                   "destination": "CDG", "route": ["BKO", "CMN", "CDG"],
                   "scheduled_arrival": "2026-11-23T16:40:00Z"},
        "subjects": [{"role": "courier", "surname": "DOE", "given_names": "John",
                      "nationality": "ML", "seat": "23C",
                      "document": {"type": "passport", "number": "AA0000000",
                                   "issuing_country": "ML"}}],
        "indicators": ["cash_ticket", "one_way", "ingestion_signs"],
        "requested_action": "intercept",
        "grading": {"source": "B", "information": "2"},
    },
    "seizure": {
        "kind": "seizure", "priority": "urgent", "tlp": "green",
        "distribution": {"all": True},
        "sent_at": "2026-11-23T09:30:00Z",
        "summary": "2.4 kg of cocaine in ingested pellets, passenger arriving from GRU via ADD.",
        "location": "LFW", "occurred_at": "2026-11-23T07:55:00Z",
        "seizures": [{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"}],
        "concealment": "ingested", "detection": "body_scanner",
    },
}


def alert_json_schema(*, stored: bool = False) -> dict[str, Any]:
    """A standalone JSON Schema of a new alert (or, ``stored``, of a stored one)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ref("Alert" if stored else "NewAlert"),
        "components": {"schemas": ALERT_SCHEMAS},
    }
