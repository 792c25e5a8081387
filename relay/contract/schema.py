"""The alert of alerts.md as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1).

Generated from the field table of :mod:`relay.contract.fields`, the same table that
:mod:`relay.contract.validation` walks, so the two cannot drift: each spec of
:mod:`relay.contract.specs` renders its own rule, and each cross-field rule carries its
JSON Schema beside its check. tests/test_alert_schema.py holds the two renderings together
in both directions: whatever validation accepts, the schema accepts; whatever the schema
accepts, validation accepts, or refuses only with a problem that JSON Schema cannot say
(:func:`beyond_schema`: units, regions and airports the relay knows, sizes measured
encoded, a summary of only whitespace, ``expires_at`` after ``sent_at``, route ends, birth
dates in the future, language subtags in the IANA registry, and inside the free ``ext``:
string keys, NUL characters and values MessagePack cannot encode).

:func:`alert_schemas` gives the named schemas that the OpenAPI document puts under
``components/schemas``: ``NewAlert`` (what a client publishes: a ``PassengerAlert`` or a
``SeizureAlert``, told apart by ``kind``), ``Alert`` (a stored alert, with the relay's
``alert_id``, ``origin_unit`` and ``received_at``) and the parts they share;
:func:`alert_json_schema` wraps them into one standalone document.
"""

from __future__ import annotations

from typing import Any, Final

from relay.contract import reference
from relay.contract.fields import ALERT, MAX_ALERT_BYTES, RECORDS, DistributionSpec
from relay.contract.ids import ALERT_ID_PATTERN
from relay.contract.model import KINDS
from relay.contract.specs import UNIT_ID_SCHEMA, ref

__all__ = ["ALERT_EXAMPLES", "alert_json_schema", "alert_schemas", "beyond_schema", "ref"]


def beyond_schema() -> frozenset[str]:
    """The problem codes validation may give an alert that the schema accepts."""
    return ALERT.beyond_schema | {"not_after", "route_end", "too_large", "cannot_encode",
                                  "too_deep"}


def _parts() -> dict[str, Any]:
    return {
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
        "CountryCode": {"type": "string", "enum": list(reference.country_codes()),
                        "description": "ISO 3166-1 alpha-2 country code, upper case"},
        "UnitId": UNIT_ID_SCHEMA,
        "AlertId": {"type": "string", "pattern": ALERT_ID_PATTERN.pattern,
                    "description": "An alert_id given by the relay: a UUIDv7 in lower-case hex",
                    "examples": ["019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"]},
        "Distribution": DistributionSpec.definition(),
        **{record.component: record.definition() for record in RECORDS},
    }

_RELAY: dict[str, Any] = {
    "alert_id": {**ref("AlertId"), "readOnly": True},
    "origin_unit": {**ref("UnitId"), "readOnly": True,
                    "description": "The unit that published it"},
    "received_at": {**ref("Timestamp"), "readOnly": True,
                    "description": "The relay's clock when it received the alert"},
}
# Federation (docs/federation.md): set by the origin relay once it has an id, and by a
# relay that received the alert from a peer; never required.
_FEDERATION: dict[str, Any] = {
    "origin_relay": {"type": "string", "pattern": "^[A-Z0-9-]{2,20}$", "readOnly": True,
                     "description": "The relay where the alert was published"},
    "origin_seq": {"type": "integer", "minimum": 1, "readOnly": True,
                   "description": "Its seq at the origin relay (an alert received from a peer)"},
    "audience": {"type": "object", "readOnly": True, "additionalProperties": False,
                 "required": ["countries", "units"],
                 "description": "The countries and units of this relay the origin addressed"
                                " (an alert received from a peer)",
                 "properties": {"countries": {"type": "array", "items": {"type": "string"}},
                                "units": {"type": "array", "items": ref("UnitId")}}},
}


# Personal-data protection (docs/protection.md): the state an alert is shown in.
_PROTECTION: dict[str, Any] = {
    "masked_at": {**ref("Timestamp"), "readOnly": True,
                  "description": "When its personal fields were masked (then absent)"},
    "personal_unavailable": {"type": "boolean", "const": True, "readOnly": True,
                             "description": "Its sealed personal fields could not be opened"},
}


def _alert(kind: str, *, stored: bool) -> dict[str, Any]:
    """One kind of alert: as a client sends it, or as the relay stores it (where a
    subject may lack its personal fields: masked)."""
    which = "stored by the relay" if stored else f"at most {MAX_ALERT_BYTES} bytes encoded"
    schema = ALERT.definition(f"A {kind} alert ({which})", kind=kind)
    schema["properties"]["kind"] = {"type": "string", "const": kind}
    if stored:
        schema["properties"].update(_RELAY)
        schema["properties"].update(_FEDERATION)
        schema["properties"].update(_PROTECTION)
        schema["properties"]["subjects"] = {**schema["properties"]["subjects"],
                                            "items": ref("StoredSubject")}
        schema["required"] += [f.name for f in ALERT.fields if f.default is not None]
        schema["required"] += list(_RELAY)
    return schema


def _stored_subject(subject: dict[str, Any]) -> dict[str, Any]:
    """A subject as the relay answers it: its personal fields absent once masked."""
    relaxed = {**subject, "description": f"{subject['description']}; its personal fields are"
               " absent once the alert is masked (docs/protection.md)"}
    relaxed["required"] = [name for name in subject.get("required", []) if name == "role"]
    relaxed["properties"] = {**subject["properties"], "document": {
        **subject["properties"]["document"], **ref("StoredTravelDocument")}}
    return relaxed


def _stored_document(document: dict[str, Any]) -> dict[str, Any]:
    """A travel document as the relay answers it: without its number once masked."""
    return {**document, "required": [n for n in document.get("required", []) if n != "number"]}


def _reduced_alert() -> dict[str, Any]:
    """An alert reduced to what the audit needs (docs/protection.md "Reduced")."""
    full = _alert("passenger", stored=True)["properties"]
    kept = ("alert_id", "msg_type", "references", "origin_unit", "origin_relay", "distribution",
            "tlp", "status", "sent_at", "received_at", "origin_seq", "audience", "masked_at")
    return {
        "type": "object", "additionalProperties": False,
        "description": "An alert reduced to what the audit needs, after"
                       " [protection] delete_after_days",
        "required": ["alert_id", "kind", "origin_unit", "received_at", "reduced_at"],
        "properties": {
            **{name: full[name] for name in kept if name in full},
            "kind": {"type": "string", "enum": list(KINDS)},
            "reduced_at": {**ref("Timestamp"), "readOnly": True,
                           "description": "When it was reduced"},
        },
    }


def _one_of_kinds(prefix: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [ref(f"{prefix}{kind.capitalize()}Alert") for kind in KINDS],
        "discriminator": {"propertyName": "kind", "mapping": {
            kind: ref(f"{prefix}{kind.capitalize()}Alert")["$ref"] for kind in KINDS}},
    }


def alert_schemas() -> dict[str, Any]:
    """The named schemas (the OpenAPI document's components), built from the table at
    each call: a few milliseconds, once per request for the document."""
    return {
        **_parts(),
        "PassengerAlert": _alert("passenger", stored=False),
        "SeizureAlert": _alert("seizure", stored=False),
        "NewAlert": _one_of_kinds("", "An alert as a client publishes it (alerts.md)"),
        "StoredSubject": _stored_subject(_parts()["Subject"]),
        "StoredTravelDocument": _stored_document(_parts()["TravelDocument"]),
        "StoredPassengerAlert": _alert("passenger", stored=True),
        "StoredSeizureAlert": _alert("seizure", stored=True),
        "ReducedAlert": _reduced_alert(),
        "Alert": {
            "description": "An alert as the relay stores and answers it: whole (its personal"
                           " fields absent once masked), or reduced (with reduced_at)",
            "oneOf": [ref("StoredPassengerAlert"), ref("StoredSeizureAlert"), ref("ReducedAlert")],
        },
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
        "components": {"schemas": alert_schemas()},
    }
