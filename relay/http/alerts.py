"""``/v1/alerts``: publish over HTTP, the history, and one alert's whole file.

The same tokens, roles, validation, idempotency and visibility as the stream: publishing
goes through :class:`relay.core.publishing.Publisher`, reading through
:mod:`relay.store.history` with the visibility of :mod:`relay.contract.visibility`.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from relay.contract.errors import BadFrame, Conflict, InvalidAlert, NotFound
from relay.contract.fields import RELAY_FIELDS, SHOWN_STATE_FIELDS
from relay.contract.history_query import encode_cursor, parse_history_query
from relay.contract.ids import is_alert_id
from relay.contract.personal import audit_part, remove_personal
from relay.contract.problems import Problem
from relay.contract.roles import Action
from relay.contract.times import rfc3339
from relay.contract.validation import validate_alert
from relay.contract.visibility import history_scope, may_read_delivery, may_read_receipt
from relay.contract.wire import json_value
from relay.http.body import read_body
from relay.http.middleware import (
    is_storable,
    json_response,
    principal_of,
    require_role,
)
from relay.http.services import SERVICES
from relay.store.history import AlertRow, DeliveryRow, ReceiptRow

__all__ = ["get_alert", "list_alerts", "publish_alert"]


async def publish_alert(request: web.Request) -> web.Response:
    """POST /v1/alerts with Idempotency-Key: 201 new, 200 duplicate, 409 key reused."""
    services = request.app[SERVICES]
    principal = principal_of(request)
    key = request.headers.get("Idempotency-Key", "")
    if not 1 <= len(key) <= 64:
        raise BadFrame("the Idempotency-Key header is required",
                       [Problem("Idempotency-Key", "length", {"low": 1, "high": 64})])
    if not is_storable(key):
        raise BadFrame("the Idempotency-Key header is not text",
                       [Problem("Idempotency-Key", "nul_character")])
    data = await read_body(request, services.config.body_timeout)
    try:
        raw = json_value(data)
    except ValueError:  # not JSON, not UTF-8, or a key given twice
        raise InvalidAlert("the body is not JSON", [Problem("alert", "not_json_object")]) from None
    result = await services.publisher.publish(principal, key, raw)
    if result.duplicate:
        await _check_same_alert(request, result.seq, raw)
    request["rows"] = 1
    body = {"alert_id": result.alert_id, "seq": result.seq, "duplicate": result.duplicate}
    return json_response(body, 200 if result.duplicate else 201)


async def _check_same_alert(request: web.Request, seq: int, raw: object) -> None:
    """A duplicate key must carry the same alert; else 409 (a client bug to surface)."""
    services = request.app[SERVICES]
    stored = orjson.loads(await services.storage.alert_body_at(seq))
    first = {k: v for k, v in stored.items() if k not in RELAY_FIELDS | SHOWN_STATE_FIELDS}
    again = validate_alert(raw, known_units=services.known_units.ids, regions=services.regions)
    if "reduced_at" in stored:  # only what the audit needs is left: nothing more to compare
        first, again = audit_part(first), audit_part(again)
    elif "masked_at" in stored or "personal_unavailable" in stored:
        again = remove_personal(again)  # the fields are no longer shown: compare the rest
    if first != again:
        raise Conflict("this Idempotency-Key was used for a different alert",
                       [Problem("Idempotency-Key", "key_reused")])


async def list_alerts(request: web.Request) -> web.Response:
    """GET /v1/alerts: newest first, filtered, one page and the cursor of the next."""
    services = request.app[SERVICES]
    principal = require_role(request, Action.READ_HISTORY)
    query = parse_history_query(request.query)
    page, more = await services.storage.history_page(
        query, history_scope(principal.viewer), services.regions,
        max_bytes=services.config.max_page_bytes)
    request["rows"] = len(page)
    return json_response({"alerts": [_item(row) for row in page],
                          "next_cursor": encode_cursor(page[-1].seq) if more else None})


async def get_alert(request: web.Request) -> web.Response:
    """GET /v1/alerts/{alert_id}: the alert, its updates and cancellation, its receipts,
    and its deliveries, each as far as the caller may see them (404 if not the alert)."""
    services = request.app[SERVICES]
    viewer = require_role(request, Action.READ_HISTORY).viewer
    alert_id = request.match_info["alert_id"]
    if not is_alert_id(alert_id):
        raise NotFound(f"no alert {alert_id[:40]}", [Problem("alert_id", "bad_alert_id")])
    file = await services.storage.alert_file(alert_id, history_scope(viewer), services.regions)
    if file is None:
        raise NotFound(f"no alert {alert_id} that this unit may see")
    origin = file.alert.origin_unit
    receipts = [r for r in file.receipts if may_read_receipt(viewer, r.alert_origin, r.author_unit)]
    request["rows"] = 1
    return json_response({
        **_item(file.alert),
        "updates": [_item(r) for r in file.related if r.msg_type == "update"],
        "cancellation": next((_item(r) for r in file.related if r.msg_type == "cancel"), None),
        "receipts": [{"seq": r.seq, "receipt": orjson.Fragment(r.body_json)} for r in receipts],
        "deliveries": [_delivery_line(d, receipts) for d in file.deliveries
                       if may_read_delivery(viewer, origin, d.unit_id)],
        "more_updates": file.more_related, "more_receipts": file.more_receipts,
    })


def _item(row: AlertRow) -> dict[str, Any]:
    return {"seq": row.seq, "alert": orjson.Fragment(row.body_json)}


def _delivery_line(delivery: DeliveryRow, receipts: list[ReceiptRow]) -> dict[str, Any]:
    """When the unit was sent the alert, and its first receipt."""
    receipt = next((r for r in receipts if r.author_unit == delivery.unit_id), None)
    return {
        "unit": delivery.unit_id,
        "delivered_at": rfc3339(delivery.delivered_at, timespec="seconds"),
        "acknowledged_at": rfc3339(receipt.received_at) if receipt else None,
        "receipt_status": receipt.status if receipt else None,
    }
