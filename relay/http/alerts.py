"""``/v1/alerts``: publish over HTTP, the history, and one alert's whole file.

The same tokens, roles, validation, idempotency and visibility as the stream: publishing
goes through :class:`relay.publishing.Publisher`, reading through :mod:`relay.history`
and :mod:`relay.visibility`. Role ``audit`` sees everything.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from relay.contract.errors import BadFrame, Conflict, InvalidAlert, NotFound
from relay.contract.history_query import encode_cursor, parse_history_query
from relay.contract.model import Problem
from relay.contract.validation import validate_alert
from relay.contract.visibility import Viewer, may_see_receipt
from relay.http.middleware import (
    RUNTIME_KEY,
    is_storable,
    json_response,
    principal_of,
    require_role,
)
from relay.runtime import Runtime
from relay.store.history import history_sql
from relay.store.pool import translate_errors
from relay.store.units import Principal
from relay.store.visibility_sql import sql_may_see_alert

__all__ = ["LIST_COLUMNS", "get_alert", "list_alerts", "publish_alert"]

LIST_COLUMNS = "seq, body_json"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_RELAY_FIELDS = ("alert_id", "origin_unit", "received_at")


def _viewer_or_all(principal: Principal) -> Viewer | None:
    """None (no restriction) for auditors; the unit's viewer otherwise."""
    return None if "audit" in principal.unit.roles else principal.viewer


async def publish_alert(request: web.Request) -> web.Response:
    """POST /v1/alerts with Idempotency-Key: 201 new, 200 duplicate, 409 key reused."""
    runtime = request.app[RUNTIME_KEY]
    principal = principal_of(request)
    key = request.headers.get("Idempotency-Key", "")
    if not 1 <= len(key) <= 64:
        raise BadFrame("the Idempotency-Key header is required",
                       [Problem("Idempotency-Key", "must be 1 to 64 characters")])
    if not is_storable(key):
        raise BadFrame("the Idempotency-Key header is not text",
                       [Problem("Idempotency-Key", "must be UTF-8 text without NUL characters")])
    try:
        raw = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise InvalidAlert("the body is not JSON", [Problem("alert", "must be a JSON object")]) from None
    result = await runtime.publisher.publish(principal, key, raw)
    if result.duplicate:
        await _check_same_alert(request, result.seq, raw)
    request["rows"] = 1
    body = {"alert_id": result.alert_id, "seq": result.seq, "duplicate": result.duplicate}
    return json_response(body, 200 if result.duplicate else 201)


async def _check_same_alert(request: web.Request, seq: int, raw: object) -> None:
    """A duplicate key must carry the same alert; else 409 (a client bug to surface)."""
    runtime = request.app[RUNTIME_KEY]
    async with translate_errors("reading the first alert"):
        stored = await runtime.pool.fetchval("SELECT body_json FROM relay_events WHERE seq = $1", seq)
    first = {k: v for k, v in orjson.loads(stored).items() if k not in _RELAY_FIELDS}
    again = validate_alert(raw, known_units=runtime.known_units.ids, regions=runtime.config.regions)
    if first != again:
        raise Conflict("this Idempotency-Key was used for a different alert",
                       [Problem("Idempotency-Key", "already used for another alert by this unit")])


async def list_alerts(request: web.Request) -> web.Response:
    """GET /v1/alerts: newest first, filtered, one page and the cursor of the next."""
    runtime = request.app[RUNTIME_KEY]
    principal = require_role(request, "publish", "subscribe", "audit")
    query = parse_history_query(request.query)
    sql, params = history_sql(query, _viewer_or_all(principal), runtime.config.regions, LIST_COLUMNS)
    async with translate_errors("reading the history"):
        rows = await runtime.pool.fetch(f"{sql} LIMIT {query.limit + 1}", *params)
    page = rows[: query.limit]
    request["rows"] = len(page)
    alerts = [{"seq": r["seq"], "alert": orjson.Fragment(r["body_json"])} for r in page]
    next_cursor = encode_cursor(page[-1]["seq"]) if len(rows) > query.limit else None
    return json_response({"alerts": alerts, "next_cursor": next_cursor})


async def get_alert(request: web.Request) -> web.Response:
    """GET /v1/alerts/{alert_id}: the alert, its updates and cancellation, its receipts,
    and its deliveries, each as far as the caller may see them (404 if not the alert)."""
    runtime = request.app[RUNTIME_KEY]
    principal = require_role(request, "publish", "subscribe", "audit")
    alert_id = request.match_info["alert_id"]
    if not _UUID.match(alert_id):
        raise NotFound(f"no alert {alert_id[:40]}", [Problem("alert_id", "is not an alert id")])
    viewer = _viewer_or_all(principal)
    async with translate_errors("reading the alert"):
        alert = await _visible_alerts(runtime, viewer, "alert_id = $1::uuid", alert_id)
        if not alert:
            raise NotFound(f"no alert {alert_id} that this unit may see")
        related = await _visible_alerts(runtime, viewer, "refs = $1::uuid", alert_id)
        receipts = await runtime.pool.fetch(
            "SELECT seq, origin_unit, author_unit, received_at, receipt_status, body_json"
            " FROM relay_events WHERE kind = 'receipt' AND alert_id = $1::uuid ORDER BY seq",
            alert_id)
        deliveries = await runtime.pool.fetch(
            "SELECT unit_id, delivered_at FROM relay_deliveries WHERE seq = $1 ORDER BY unit_id",
            alert[0]["seq"])
    origin = orjson.loads(alert[0]["body_json"])["origin_unit"]
    visible_receipts = [r for r in receipts if viewer is None
                        or may_see_receipt(viewer, r["origin_unit"], r["author_unit"])]
    request["rows"] = 1
    return json_response({
        "seq": alert[0]["seq"],
        "alert": orjson.Fragment(alert[0]["body_json"]),
        "updates": [_item(r) for r in related if r["msg_type"] == "update"],
        "cancellation": next((_item(r) for r in related if r["msg_type"] == "cancel"), None),
        "receipts": [{"seq": r["seq"], "receipt": orjson.Fragment(r["body_json"])}
                     for r in visible_receipts],
        "deliveries": _deliveries(deliveries, visible_receipts, viewer, origin),
    })


async def _visible_alerts(runtime: Runtime, viewer: Viewer | None, condition: str,
                          alert_id: str) -> list[Any]:
    params: list[Any] = [alert_id]
    where = [condition, "kind = 'alert'"]
    if viewer is not None:
        visible, values = sql_may_see_alert(viewer, runtime.config.regions, 2)
        where.append(visible)
        params.extend(values)
    return list(await runtime.pool.fetch(
        f"SELECT seq, msg_type, body_json FROM relay_events WHERE {' AND '.join(where)}"
        " ORDER BY seq", *params))


def _item(row: Any) -> dict[str, Any]:
    return {"seq": row["seq"], "alert": orjson.Fragment(row["body_json"])}


def _deliveries(rows: list[Any], receipts: list[Any], viewer: Viewer | None,
                origin: str) -> list[dict[str, Any]]:
    """Each unit sent the alert, when, and its first receipt; a unit other than the
    origin (or an auditor) sees only its own line."""
    first_receipt: dict[str, Any] = {}
    for receipt in receipts:
        first_receipt.setdefault(receipt["author_unit"], receipt)
    lines = []
    for row in rows:
        if viewer is not None and viewer.unit_id not in (origin, row["unit_id"]):
            continue
        receipt = first_receipt.get(row["unit_id"])
        lines.append({
            "unit": row["unit_id"],
            "delivered_at": row["delivered_at"].isoformat().replace("+00:00", "Z"),
            "acknowledged_at": receipt["received_at"].isoformat(timespec="milliseconds")
            .replace("+00:00", "Z") if receipt else None,
            "receipt_status": receipt["receipt_status"] if receipt else None,
        })
    return lines
