"""The OpenAPI 3.1 document served at ``GET /v1/openapi.json`` (protocol.md "HTTP API").

It is the reference partners generate clients from, so it declares every answer the relay
can give: each status with the error codes it carries, the headers (``WWW-Authenticate``
on 401, ``Retry-After`` on 429 and 503), the alert as a full JSON Schema
(:mod:`relay.alert_schema`), and links from a publish or a page to the alert's file.
tests/test_openapi_conformance.py runs schemathesis against a live relay with it: every
answer must match what is declared here.
"""

from __future__ import annotations

from typing import Any

from relay import __version__
from relay.contract.errors import HTTP_STATUS
from relay.contract.fields import MAX_ALERT_BYTES
from relay.contract.history_query import DEFAULT_LIMIT, MAX_LIMIT
from relay.contract.model import COMMODITIES, KINDS, RECEIPT_STATUSES
from relay.contract.problems import PROBLEM_CODES
from relay.contract.roles import ROLES
from relay.contract.schema import ALERT_EXAMPLES, alert_schemas, ref
from relay.http.protection import HOLD_ACTION, MAX_REASON
from relay.store.admin import ADMIN_ACTIONS, MAX_EXPIRY_DAYS

__all__ = ["openapi_document"]


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            **extra}


def _error(status: int, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error answer: the error object with the codes of ``status``."""
    codes = sorted(code for code, code_status in HTTP_STATUS.items() if code_status == status)
    schema = {"allOf": [ref("Error"), {"properties": {"code": {"enum": codes}}}]}
    return _json(schema, description, **({"headers": headers} if headers else {}))


def _coded_error(codes: tuple[str, ...], description: str) -> dict[str, Any]:
    """An error answer whose status is not the one of ``codes`` in the contract."""
    return _json({"allOf": [ref("Error"), {"properties": {"code": {"enum": list(codes)}}}]},
                 description)


def _header(ref_name: str) -> dict[str, Any]:
    return {ref_name: {"$ref": f"#/components/headers/{ref_name}"}}


def _responses(max_body_bytes: int) -> dict[str, Any]:
    return {
        "BadRequest": _error(400, "Invalid input: every problem, each with its field. Also for a "
                                  "query parameter given twice or holding a NUL character."),
        "Unauthorized": _error(401, "No token, or an unknown or revoked one",
                               _header("WWW-Authenticate")),
        "Forbidden": _error(403, "The unit lacks the role"),
        "NotFound": _error(404, "No such alert visible to the unit (for a publish: the "
                                "referenced alert)"),
        "Conflict": _error(409, "The Idempotency-Key was used before for a different alert"),
        "TooLarge": _error(413, f"The body is over {max_body_bytes} bytes"),
        "RateLimited": _error(429, "The unit publishes too fast: retry after Retry-After seconds",
                              _header("Retry-After")),
        "Unavailable": _error(503, "The store is unavailable: retry after Retry-After seconds; "
                                   "nothing was stored", _header("Retry-After")),
        # protection.md "Re-identification": a code of the contract under another status,
        # with the problem that says why
        "Gone": _coded_error(("not_found",), "The alert's personal fields are destroyed (its "
                                             "data key, or the alert reduced): detail "
                                             "keys_destroyed"),
        "PersonalUnreadable": _coded_error(("unavailable",), "The sealed personal fields do not "
                                                             "open (a damaged row or a missing "
                                                             "key): detail personal_unreadable; "
                                                             "the relay operator must look"),
    }


def _answers(*statuses: str) -> dict[str, Any]:
    """The error answers every authenticated request can get, and ``statuses``."""
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
             "409": "Conflict", "410": "Gone", "413": "TooLarge", "429": "RateLimited",
             "500": "PersonalUnreadable", "503": "Unavailable"}
    wanted = sorted({"400", "401", "403", "503", *statuses})
    return {status: {"$ref": f"#/components/responses/{names[status]}"} for status in wanted}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


_FILTERS = [
    _query("kind", "Alert kind", {"type": "string", "enum": list(KINDS)}),
    _query("origin_unit", "Publishing unit, e.g. ML-BKO-JAITF",
           {"type": "string", "minLength": 3, "maxLength": 40}),
    _query("airport", "IATA code of the flight's origin, destination or route, or the "
                      "seizure's location", ref("AirportCode")),
    _query("country", "Country of one of those airports", ref("CountryCode")),
    _query("flight", "Flight designator, e.g. AT571",
           {"type": "string", "minLength": 3, "maxLength": 8}),
    _query("commodity", "Seized commodity", {"type": "string", "enum": list(COMMODITIES)}),
    _query("from", "received_at at or after", ref("Timestamp")),
    _query("to", "received_at before", ref("Timestamp")),
    _query("q", "Text in the summary, case-insensitive",
           {"type": "string", "minLength": 1, "maxLength": 200}),
]
_PAGING = [
    _query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                  "default": DEFAULT_LIMIT}),
    _query("cursor", "The next_cursor of the previous page",
           {"type": "string", "minLength": 1, "maxLength": 200}),
]

_NEXT_CURSOR = {"type": ["string", "null"],
                "description": "Pass it as cursor for the next page; null on the last page"}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["type", "code", "message", "details"],
        "description": "The error object of the stream, without id",
        "properties": {
            "type": {"type": "string", "const": "error"},
            "code": {"type": "string", "enum": sorted(HTTP_STATUS)},
            "message": {"type": "string", "description": "A human sentence"},
            "details": {"type": "array", "items": {
                "type": "object", "required": ["field", "problem", "code", "params"],
                "properties": {
                    "field": {"type": "string", "description": "Dotted path"},
                    "problem": {"type": "string", "description": "The English sentence"},
                    "code": {"type": "string", "enum": sorted(PROBLEM_CODES),
                             "description": "What kind of problem: a stable word that a "
                                            "client translates"},
                    "params": {"type": "object", "description": "The values the sentence "
                                                                "needs (allowed, low, high, value...)"}}}},
        },
    },
    "PublishResult": {
        "type": "object", "required": ["alert_id", "seq", "duplicate"],
        "properties": {"alert_id": ref("AlertId"), "seq": {"type": "integer", "minimum": 1},
                       "duplicate": {"type": "boolean"}},
    },
    "AlertItem": {
        "type": "object", "required": ["seq", "alert"],
        "properties": {"seq": {"type": "integer", "minimum": 1}, "alert": ref("Alert")},
    },
    "AlertPage": {
        "type": "object", "required": ["alerts", "next_cursor"],
        "properties": {"alerts": {"type": "array", "maxItems": MAX_LIMIT,
                                  "items": ref("AlertItem"),
                                  "description": "Newest first"},
                       "next_cursor": _NEXT_CURSOR},
    },
    "Receipt": {
        "type": "object", "required": ["alert_id", "unit", "status", "at"],
        "properties": {"alert_id": ref("AlertId"), "unit": ref("UnitId"),
                       "status": {"type": "string", "enum": list(RECEIPT_STATUSES)},
                       "note": {"type": "string"}, "at": ref("Timestamp")},
    },
    "Delivery": {
        "type": "object",
        "required": ["unit", "delivered_at", "acknowledged_at", "receipt_status"],
        "properties": {
            "unit": ref("UnitId"), "delivered_at": ref("Timestamp"),
            "acknowledged_at": {"oneOf": [ref("Timestamp"), {"type": "null"}],
                                "description": "When the unit's first receipt arrived"},
            "receipt_status": {"type": ["string", "null"],
                               "enum": [*RECEIPT_STATUSES, None],
                               "description": "The status of the unit's first receipt"},
        },
    },
    "AlertFile": {
        "type": "object",
        "required": ["seq", "alert", "updates", "cancellation", "receipts", "deliveries"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1}, "alert": ref("Alert"),
            "updates": {"type": "array", "items": ref("AlertItem")},
            "cancellation": {"oneOf": [ref("AlertItem"), {"type": "null"}]},
            "receipts": {"type": "array", "items": {
                "type": "object", "required": ["seq", "receipt"],
                "properties": {"seq": {"type": "integer", "minimum": 1},
                               "receipt": ref("Receipt")}}},
            "deliveries": {"type": "array", "items": ref("Delivery"),
                           "description": "A unit other than the origin sees its own line only"},
            "more_updates": {"type": "boolean",
                             "description": "More than the first 100 updates and cancellations exist"},
            "more_receipts": {"type": "boolean",
                              "description": "More than the first 1,000 receipts exist"},
        },
    },
    "VerifyReport": {"oneOf": [
        {"type": "object", "required": ["intact", "events", "head", "head_hash"],
         "properties": {"intact": {"const": True}, "events": {"type": "integer", "minimum": 0},
                        "head": {"type": "integer", "minimum": 0},
                        "head_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
        {"type": "object", "required": ["intact", "events", "first_broken_seq", "reason"],
         "properties": {"intact": {"const": False}, "events": {"type": "integer", "minimum": 0},
                        "first_broken_seq": {"type": "integer", "minimum": 1},
                        "reason": {"type": "string"}}},
    ]},
    "RemoteUnit": {
        "type": "object", "required": ["unit_id", "country", "airport", "name", "relay"],
        "description": "A unit of a peer relay: it may be named in distributions, never connects here",
        "properties": {"unit_id": {"type": "string"}, "country": {"type": "string"},
                       "airport": {"type": ["string", "null"]}, "name": {"type": "string"},
                       "relay": {"type": "string", "pattern": "^[A-Z0-9-]{2,20}$"}},
    },
    "PeerRelays": {
        "type": "object", "required": ["relay_id", "peers"],
        "properties": {
            "relay_id": {"type": ["string", "null"], "description": "This relay's id"},
            "peers": {"type": "array", "items": ref("PeerRelay")},
        },
    },
    "PeerRelay": {
        "type": "object", "required": ["peer_id", "grant", "units", "link"],
        "properties": {
            "peer_id": {"type": "string", "pattern": "^[A-Z0-9-]{2,20}$"},
            "grant": {"description": "What this relay grants the peer (null: nothing)",
                      "oneOf": [{"type": "null"}, {
                          "type": "object", "required": ["countries", "granted_at", "revoked_at"],
                          "properties": {
                              "countries": {"type": "array", "items": {"type": "string"}},
                              "granted_at": {"type": ["string", "null"], "format": "date-time"},
                              "revoked_at": {"type": ["string", "null"], "format": "date-time"}}}]},
            "units": {"type": "integer", "minimum": 0,
                      "description": "Units of the peer's directory accepted here"},
            "link": {"description": "This relay's link pulling from the peer (null: none)",
                     "oneOf": [{"type": "null"}, {
                         "type": "object",
                         "required": ["state", "state_since", "position", "last_applied_origin_seq",
                                      "last_applied_at", "applied_events", "peer_head", "behind",
                                      "last_error"],
                         "properties": {
                             "state": {"enum": ["up", "down", "refused"]},
                             "state_since": {"type": ["string", "null"], "format": "date-time"},
                             "position": {"type": "integer", "minimum": 0},
                             "last_applied_origin_seq": {"type": ["integer", "null"]},
                             "last_applied_at": {"type": ["string", "null"], "format": "date-time"},
                             "applied_events": {"type": "integer", "minimum": 0},
                             "peer_head": {"type": ["integer", "null"]},
                             "behind": {"type": ["integer", "null"], "minimum": 0},
                             "last_error": {"type": ["string", "null"]}}}]},
        },
    },
    "AccessLogEntry": {
        "type": "object",
        "required": ["id", "at", "unit", "method", "path", "query", "rows", "status"],
        "properties": {"id": {"type": "integer"}, "at": ref("Timestamp"),
                       "unit": ref("UnitId"), "method": {"type": "string"},
                       "path": {"type": "string"},
                       "query": {"type": "object",
                                 "description": "The query parameters; for an admin action, its details"},
                       "rows": {"type": ["integer", "null"]},
                       "status": {"type": "integer", "minimum": 100, "maximum": 599},
                       "action": {"type": "string", "enum": [*ADMIN_ACTIONS, HOLD_ACTION],
                                  "description": "Present for a change to units or tokens, "
                                                 "or a hold placed"},
                       "target": {"type": "string",
                                  "description": "The unit id or token id changed, or the "
                                                 "alert id of a hold (placed or asked for)"},
                       "reason": {"type": "string",
                                  "description": "Present for a hold or a re-identification: "
                                                 "the reason its request gave (its first "
                                                 f"{MAX_REASON} characters)"}},
    },
    "NewHold": {
        "type": "object", "additionalProperties": False, "required": ["alert_id", "reason", "until"],
        "properties": {
            "alert_id": ref("AlertId"),
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                       "description": "The investigation it is linked to; not only whitespace"},
            "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].*)?$",
                      "description": "In the future: a date YYYY-MM-DD (its first moment, UTC) "
                                     "or an RFC 3339 timestamp with a time offset",
                      "examples": ["2027-06-30", "2027-06-30T12:00:00Z"]}},
    },
    "Hold": {
        "type": "object",
        "required": ["hold_id", "alert_id", "reason", "until", "placed_by", "placed_at", "active"],
        "properties": {"hold_id": {"type": "integer", "minimum": 1}, "alert_id": ref("AlertId"),
                       "reason": {"type": "string"}, "until": ref("Timestamp"),
                       "placed_by": ref("UnitId"), "placed_at": ref("Timestamp"),
                       "active": {"type": "boolean", "description": "until is still ahead"}},
    },
    "HoldList": {
        "type": "object", "required": ["holds"],
        "properties": {"holds": {"type": "array", "items": ref("Hold"), "description": "Newest first"}},
    },
    "Reidentification": {
        "type": "object", "additionalProperties": False, "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                                  "description": "Why: recorded in the access log; not only "
                                                 "whitespace"}},
    },
    "Reidentified": {
        "type": "object", "required": ["alert_id", "seq", "masked_at", "fields", "alert"],
        "properties": {
            "alert_id": ref("AlertId"), "seq": {"type": "integer", "minimum": 1},
            "masked_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]},
            "fields": {"type": "array", "description": "Each personal field, by its path",
                       "items": {"type": "object", "required": ["path", "value"],
                                 "properties": {"path": {"type": "string",
                                                         "examples": ["subjects[0].surname"]},
                                                "value": {}}}},
            "alert": {"type": "object", "required": ["alert_id", "kind"],
                      "description": "The alert as it read before masking, with masked_at if "
                                     "it is masked"}},
    },
    "Unit": {
        "type": "object",
        "required": ["unit_id", "country", "airport", "name", "roles", "created_at", "suspended",
                     "suspended_at", "reinstated_at", "active_tokens"],
        "properties": {"unit_id": ref("UnitId"), "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                       "airport": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
                       "name": {"type": "string", "maxLength": 200},
                       "roles": {"type": "array", "items": {"enum": sorted(ROLES)}},
                       "created_at": ref("Timestamp"), "suspended": {"type": "boolean"},
                       "suspended_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]},
                       "reinstated_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]},
                       "active_tokens": {"type": "integer", "minimum": 0}},
    },
    "TokenInfo": {
        "type": "object",
        "required": ["token_id", "unit_id", "label", "created_at", "expires_at", "last_used_at",
                     "revoked_at"],
        "properties": {"token_id": {"type": "string", "pattern": "^tok_[a-z0-9]{12}$"},
                       "unit_id": ref("UnitId"), "label": {"type": "string", "maxLength": 200},
                       "created_at": ref("Timestamp"),
                       "expires_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]},
                       "last_used_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]},
                       "revoked_at": {"oneOf": [ref("Timestamp"), {"type": "null"}]}},
    },
    "NewUnit": {
        "type": "object", "additionalProperties": False, "required": ["unit_id", "country", "roles"],
        "properties": {"unit_id": ref("UnitId"), "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                       "airport": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
                       "name": {"type": "string", "maxLength": 200},
                       "roles": {"type": "array", "minItems": 1, "items": {"enum": sorted(ROLES)}},
                       "label": {"type": "string", "maxLength": 200}},
    },
    "UnitChange": {
        "type": "object", "additionalProperties": False,
        "properties": {"roles": {"type": "array", "minItems": 1, "items": {"enum": sorted(ROLES)}},
                       "name": {"type": "string", "maxLength": 200},
                       "airport": {"type": "string", "pattern": "^[A-Z]{3}$"},
                       "suspended": {"type": "boolean"}},
    },
    "NewToken": {
        "type": "object", "additionalProperties": False,
        "properties": {"label": {"type": "string", "maxLength": 200},
                       "expires_in_days": {"type": ["integer", "null"], "minimum": 1,
                                           "maximum": MAX_EXPIRY_DAYS}},
    },
    "AccessLogPage": {
        "type": "object", "required": ["entries", "next_cursor"],
        "properties": {"entries": {"type": "array", "items": ref("AccessLogEntry")},
                       "next_cursor": _NEXT_CURSOR},
    },
}

_HEADERS = {
    "Retry-After": {"required": True, "description": "Seconds to wait before retrying",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
}

_TO_ALERT_FILE = {"operationId": "getAlert",
                  "description": "The alert's file: updates, cancellation, receipts, deliveries"}


def _alert_paths() -> dict[str, Any]:
    published = {"GetAlert": {**_TO_ALERT_FILE, "parameters": {"alert_id": "$response.body#/alert_id"}}}
    return {
        "/v1/alerts": {
            "post": {
                "operationId": "publishAlert", "tags": ["alerts"],
                "summary": "Publish an alert (role publish)",
                "description": "The same validation, rate limit and idempotency as a publish "
                               f"on the stream. The alert is at most {MAX_ALERT_BYTES} bytes "
                               "encoded in MessagePack. The rules of alerts.md the schema "
                               "cannot express (known units, regions and airports, a "
                               "referenced alert of the same unit and kind...) are answered 400, "
                               "403 or 404 with every problem found.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                                "description": "Chosen by the client; the same key publishes "
                                               "once (shared with stream publishes)",
                                "schema": {"type": "string", "minLength": 1, "maxLength": 64}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref("NewAlert"),
                    "examples": {kind: {"summary": f"A {kind} alert", "value": alert}
                                 for kind, alert in ALERT_EXAMPLES.items()}}}},
                "responses": {
                    "201": _json(ref("PublishResult"), "Stored; duplicate is false",
                                 links=published),
                    "200": _json(ref("PublishResult"), "This key published this alert before; "
                                                       "duplicate is true", links=published),
                    **_answers("404", "409", "413", "429"),
                },
            },
            "get": {
                "operationId": "listAlerts", "tags": ["alerts"],
                "summary": "History, newest first, as far as the unit may see (role audit: all)",
                "parameters": _FILTERS + _PAGING,
                "responses": {"200": _json(ref("AlertPage"), "One page", links={
                    "GetFirstAlert": {**_TO_ALERT_FILE, "parameters": {
                        "alert_id": "$response.body#/alerts/0/alert/alert_id"}},
                    "NextPage": {"operationId": "listAlerts",
                                 "parameters": {"cursor": "$response.body#/next_cursor"}},
                }), **_answers()},
            },
        },
        "/v1/alerts/{alert_id}": {
            "get": {
                "operationId": "getAlert", "tags": ["alerts"],
                "summary": "One alert with its updates, cancellation, receipts and deliveries",
                "parameters": [{"name": "alert_id", "in": "path", "required": True,
                                "schema": ref("AlertId")}],
                "responses": {"200": _json(ref("AlertFile"), "The alert's file"),
                              **_answers("404")},
            },
        },
    }


def _audit_paths() -> dict[str, Any]:
    return {
        "/v1/audit/export": {
            "get": {
                "operationId": "exportAlerts", "tags": ["audit"],
                "summary": "Every matching alert, oldest first, streamed (role audit)",
                "description": 'NDJSON: one line per event, the alerts and their receipts, '
                               '{"seq", "hash", "alert" or "receipt", "kind", "prev_hash", '
                               '"body"} (docs/audit.md "Exporting"); or CSV with a header row, '
                               'one row per alert',
                "parameters": [_query("format", "Output format",
                                      {"type": "string", "enum": ["ndjson", "csv"],
                                       "default": "ndjson"}),
                               *_FILTERS],
                "responses": {"200": {"description": "The rows", "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}}}}, **_answers()},
            },
        },
        "/v1/audit/verify": {
            "get": {"operationId": "verifyChain", "tags": ["audit"],
                    "summary": "Recompute the tamper-evident chain (role audit)",
                    "responses": {"200": _json(ref("VerifyReport"), "The verdict"),
                                  **_answers()}},
        },
        "/v1/federation/peers": {
            "get": {"operationId": "listPeerRelays", "tags": ["federation"],
                    "summary": "The peer relays and the health of each link (roles admin, audit)",
                    "responses": {"200": _json(ref("PeerRelays"), "The peers"), **_answers()}},
        },
        "/v1/protection/holds": {
            "post": {
                "operationId": "placeHold", "tags": ["audit"],
                "summary": "Keep an alert out of masking and reduction until a date (role audit)",
                "description": "For an objective link to an investigation (protection.md "
                               "\"Hold\"); recorded in the access log with its reason",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref("NewHold")}}},
                "responses": {"201": _json(ref("Hold"), "Placed"), **_answers("404")},
            },
            "get": {
                "operationId": "listHolds", "tags": ["audit"],
                "summary": "The holds, newest first, with who, why and until when (role audit)",
                "parameters": [_query("alert_id", "Only this alert's holds", ref("AlertId"))],
                "responses": {"200": _json(ref("HoldList"), "The holds"), **_answers()},
            },
        },
        "/v1/alerts/{alert_id}/reidentify": {
            "post": {
                "operationId": "reidentifyAlert", "tags": ["audit"],
                "summary": "The personal fields of an alert, with a reason (role audit)",
                "description": "protection.md \"Re-identification\": every request, granted or "
                               "refused, is recorded in the access log with its reason, never "
                               "with the fields. Checked in this order: 401, 403, 400 (no "
                               "reason), 404, 410 (the data key destroyed or the alert reduced).",
                "parameters": [{"name": "alert_id", "in": "path", "required": True,
                                "schema": ref("AlertId")}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref("Reidentification")}}},
                "responses": {"200": _json(ref("Reidentified"), "The fields, and the alert "
                                                                "as it read before masking"),
                              **_answers("404", "410", "500")},
            },
        },
        "/v1/audit/access-log": {
            "get": {
                "operationId": "listAccessLog", "tags": ["audit"],
                "summary": "Requests of auditors and exports, newest first (role audit)",
                "parameters": [_query("unit", "Only this unit's requests", {"type": "string"}),
                               *_PAGING],
                "responses": {"200": _json(ref("AccessLogPage"), "One page", links={
                    "NextPage": {"operationId": "listAccessLog",
                                 "parameters": {"cursor": "$response.body#/next_cursor"}}}),
                              **_answers()},
            },
        },
    }


def _admin_paths() -> dict[str, Any]:
    """Units and tokens (admin.md): role admin."""
    unit_id = {"name": "unit_id", "in": "path", "required": True, "schema": ref("UnitId")}
    unit = _json({"type": "object", "required": ["unit"], "properties": {"unit": ref("Unit")}},
                 "The unit")
    secret = {"token": {"type": "string", "pattern": "^relay_"},
              "token_id": {"type": "string", "pattern": "^tok_[a-z0-9]{12}$"}}

    def body(schema: str, *, required: bool = True) -> dict[str, Any]:
        return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}

    return {
        "/v1/admin/units": {
            "get": {"operationId": "listUnits", "tags": ["admin"], "summary": "Every unit",
                    "responses": {"200": _json({"type": "object", "required": ["units"], "properties": {
                        "units": {"type": "array", "items": ref("Unit")},
                        "remote_units": {"type": "array", "items": ref("RemoteUnit"),
                                         "description": "Units published by peer relays"}}},
                        "The units"),
                        **_answers()}},
            "post": {"operationId": "addUnit", "tags": ["admin"],
                     "summary": "Add a unit and its first token (shown once)",
                     "requestBody": body("NewUnit"),
                     "responses": {"201": _json({"type": "object", "required": ["unit", *secret],
                                                 "properties": {"unit": ref("Unit"), **secret}},
                                                "Added"), **_answers("409")}},
        },
        "/v1/admin/units/{unit_id}": {
            "get": {"operationId": "getUnit", "tags": ["admin"], "summary": "One unit",
                    "parameters": [unit_id], "responses": {"200": unit, **_answers("404")}},
            "patch": {"operationId": "changeUnit", "tags": ["admin"],
                      "summary": "Change roles, name or airport; suspend (true) or reinstate (false)",
                      "parameters": [unit_id], "requestBody": body("UnitChange", required=False),
                      "responses": {"200": unit, **_answers("404", "409")}},
        },
        "/v1/admin/units/{unit_id}/tokens": {
            "get": {"operationId": "listTokens", "tags": ["admin"],
                    "summary": "The unit's tokens, never their secrets", "parameters": [unit_id],
                    "responses": {"200": _json({"type": "object", "required": ["tokens"], "properties": {
                        "tokens": {"type": "array", "items": ref("TokenInfo")}}}, "The tokens"),
                        **_answers("404")}},
            "post": {"operationId": "issueToken", "tags": ["admin"],
                     "summary": "Issue another token (shown once)", "parameters": [unit_id],
                     "requestBody": body("NewToken", required=False),
                     "responses": {"201": _json({"type": "object",
                                                 "required": [*secret, "token_info"],
                                                 "properties": {**secret, "token_info": ref("TokenInfo")}},
                                                "Issued"), **_answers("404", "409")}},
        },
        "/v1/admin/tokens/{token_id}": {
            "delete": {"operationId": "revokeToken", "tags": ["admin"],
                       "summary": "Revoke one token; the unit's others keep working",
                       "parameters": [{"name": "token_id", "in": "path", "required": True,
                                       "schema": {"type": "string"}}],
                       "responses": {"204": {"description": "Revoked"}, **_answers("404", "409")}},
        },
    }


def _public_paths() -> dict[str, Any]:
    """The endpoints of operators and load balancers: no token."""
    def status(*properties: str) -> dict[str, Any]:
        return {"type": "object", "required": list(properties),
                "properties": {name: {"type": "string"} if name in ("status", "reason")
                               else {"type": "integer", "minimum": 0} for name in properties}}

    return {
        "/healthz": {"get": {"operationId": "healthz", "tags": ["operations"], "security": [],
                             "summary": "The process is up",
                             "responses": {"200": _json(status("status"), "Up")}}},
        "/readyz": {"get": {"operationId": "readyz", "tags": ["operations"], "security": [],
                            "summary": "The database answers within 2 seconds",
                            "responses": {
                                "200": _json(status("status", "head", "hub_head"), "Ready"),
                                "503": _json(status("status", "reason"), "Not ready")}}},
        "/metrics": {"get": {"operationId": "metrics", "tags": ["operations"], "security": [],
                             "summary": "Prometheus metrics",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {
                                                       "schema": {"type": "string"}}}}}}},
    }


def openapi_document(*, max_body_bytes: int) -> dict[str, Any]:
    """The whole document: every endpoint, bearer authentication; request bodies are at
    most ``max_body_bytes``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relay HTTP API", "version": __version__,
                 "description": "Alerts and audit over HTTP, with the tokens of the stream "
                                "(documented in docs/protocol.md). Query parameters are given "
                                "at most once and never hold a NUL character; unknown ones "
                                "are refused."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": "alerts"}, {"name": "audit", "description": "Role audit"},
                 {"name": "admin", "description": "Role admin: units and tokens"},
                 {"name": "federation", "description": "Roles admin and audit: peer relays"},
                 {"name": "operations", "description": "No token"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {**alert_schemas(), **_SCHEMAS}, "responses": _responses(max_body_bytes),
                       "headers": _HEADERS},
        "paths": {**_alert_paths(), **_audit_paths(), **_admin_paths(), **_public_paths()},
    }
