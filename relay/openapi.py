"""The OpenAPI 3.1 document served at ``GET /v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from relay import __version__
from relay.model import COMMODITIES, KINDS

__all__ = ["openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid input: every problem, with its field"),
    "401": _json(_ref("Error"), "No token, or an unknown or revoked one"),
    "403": _json(_ref("Error"), "The unit lacks the role"),
    "429": _json(_ref("Error"), "Too many requests: retry after the Retry-After delay"),
    "503": _json(_ref("Error"), "The store is unavailable: retry later; nothing was stored"),
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


_FILTERS = [
    _query("kind", "Alert kind", {"type": "string", "enum": list(KINDS)}),
    _query("origin_unit", "Publishing unit", {"type": "string", "pattern": "^[A-Z0-9-]{3,40}$"}),
    _query("airport", "IATA code of flight origin, destination, route or location",
           {"type": "string", "pattern": "^[A-Z]{3}$"}),
    _query("country", "ISO 3166-1 alpha-2 country of one of those airports",
           {"type": "string", "pattern": "^[A-Z]{2}$"}),
    _query("flight", "Flight designator, e.g. AT571", {"type": "string", "minLength": 3, "maxLength": 8}),
    _query("commodity", "Seized commodity", {"type": "string", "enum": list(COMMODITIES)}),
    _query("from", "received_at at or after (RFC 3339)", {"type": "string", "format": "date-time"}),
    _query("to", "received_at before (RFC 3339)", {"type": "string", "format": "date-time"}),
    _query("q", "Text in the summary (case-insensitive)", {"type": "string", "minLength": 1, "maxLength": 200}),
]
_PAGING = [
    _query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    _query("cursor", "Opaque cursor from next_cursor", {"type": "string", "minLength": 1, "maxLength": 200}),
]

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["type", "code", "message", "details"],
        "properties": {
            "type": {"const": "error"}, "code": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "array", "items": {
                "type": "object", "required": ["field", "problem"],
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}}}},
        },
    },
    "Alert": {
        "type": "object", "description": "An alert as in docs/alerts.md, with the relay's fields",
        "required": ["kind", "priority", "tlp", "distribution", "sent_at", "summary"],
        "additionalProperties": True,
    },
    "AlertItem": {
        "type": "object", "required": ["seq", "alert"],
        "properties": {"seq": {"type": "integer", "minimum": 1}, "alert": _ref("Alert")},
    },
    "Receipt": {
        "type": "object", "required": ["alert_id", "unit", "status", "at"],
        "properties": {"alert_id": {"type": "string"}, "unit": {"type": "string"},
                       "status": {"type": "string"}, "note": {"type": "string"},
                       "at": {"type": "string"}},
    },
    "AlertPage": {
        "type": "object", "required": ["alerts", "next_cursor"],
        "properties": {"alerts": {"type": "array", "items": _ref("AlertItem")},
                       "next_cursor": {"type": ["string", "null"]}},
    },
    "AlertFile": {
        "type": "object",
        "required": ["seq", "alert", "updates", "cancellation", "receipts", "deliveries"],
        "properties": {
            "seq": {"type": "integer"}, "alert": _ref("Alert"),
            "updates": {"type": "array", "items": _ref("AlertItem")},
            "cancellation": {"oneOf": [_ref("AlertItem"), {"type": "null"}]},
            "receipts": {"type": "array", "items": {
                "type": "object", "required": ["seq", "receipt"],
                "properties": {"seq": {"type": "integer"}, "receipt": _ref("Receipt")}}},
            "deliveries": {"type": "array", "items": {
                "type": "object", "required": ["unit", "delivered_at", "acknowledged_at", "receipt_status"],
                "properties": {"unit": {"type": "string"}, "delivered_at": {"type": "string"},
                               "acknowledged_at": {"type": ["string", "null"]},
                               "receipt_status": {"type": ["string", "null"]}}}},
        },
    },
    "PublishResult": {
        "type": "object", "required": ["alert_id", "seq", "duplicate"],
        "properties": {"alert_id": {"type": "string"}, "seq": {"type": "integer"},
                       "duplicate": {"type": "boolean"}},
    },
    "VerifyReport": {
        "type": "object", "required": ["intact", "events"],
        "properties": {"intact": {"type": "boolean"}, "events": {"type": "integer"},
                       "head": {"type": "integer"}, "head_hash": {"type": "string"},
                       "first_broken_seq": {"type": "integer"}, "reason": {"type": "string"}},
    },
    "AccessLogPage": {
        "type": "object", "required": ["entries", "next_cursor"],
        "properties": {
            "entries": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "at", "unit", "method", "path", "query", "rows", "status"],
                "properties": {"id": {"type": "integer"}, "at": {"type": "string"},
                               "unit": {"type": "string"}, "method": {"type": "string"},
                               "path": {"type": "string"}, "query": {"type": "object"},
                               "rows": {"type": ["integer", "null"]}, "status": {"type": "integer"}}}},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
}


def _paths() -> dict[str, Any]:
    return {
        "/v1/alerts": {
            "post": {
                "summary": "Publish an alert (same validation and idempotency as the stream)",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 64}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Alert")}}},
                "responses": {"201": _json(_ref("PublishResult"), "Stored and acknowledged"),
                              "200": _json(_ref("PublishResult"), "Duplicate of an earlier publish"),
                              "404": _json(_ref("Error"), "The referenced alert does not exist"),
                              "409": _json(_ref("Error"), "Idempotency-Key used for another alert"),
                              "413": _json(_ref("Error"), "Body too large"), **_ERRORS},
            },
            "get": {
                "summary": "History, newest first, as far as the unit may see (audit: all)",
                "parameters": _FILTERS + _PAGING,
                "responses": {"200": _json(_ref("AlertPage"), "One page"), **_ERRORS},
            },
        },
        "/v1/alerts/{alert_id}": {
            "get": {
                "summary": "One alert with its updates, cancellation, receipts and deliveries",
                "parameters": [{"name": "alert_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json(_ref("AlertFile"), "The alert's file"),
                              "404": _json(_ref("Error"), "No such alert visible to the unit"),
                              **_ERRORS},
            },
        },
        "/v1/audit/export": {
            "get": {
                "summary": "Export alerts as NDJSON or CSV, streamed (role audit)",
                "parameters": [_query("format", "Output format", {"type": "string", "enum": ["ndjson", "csv"]}),
                               *_FILTERS],
                "responses": {"200": {"description": "The rows",
                                      "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                                                  "text/csv": {"schema": {"type": "string"}}}},
                              **_ERRORS},
            },
        },
        "/v1/audit/verify": {
            "get": {"summary": "Recompute the tamper-evident chain (role audit)",
                    "responses": {"200": _json(_ref("VerifyReport"), "The verdict"), **_ERRORS}},
        },
        "/v1/audit/access-log": {
            "get": {
                "summary": "Requests of auditors and exports, newest first (role audit)",
                "parameters": [_query("unit", "Only this unit's requests", {"type": "string"}), *_PAGING],
                "responses": {"200": _json(_ref("AccessLogPage"), "One page"), **_ERRORS},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document: every /v1 endpoint, bearer authentication."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relay HTTP API", "version": __version__,
                 "description": "Alerts and audit over HTTP. The stream is documented in docs/protocol.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": _SCHEMAS},
        "paths": _paths(),
    }
