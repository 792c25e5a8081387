"""``/v1/audit/*``: export, chain verification and the access log (role ``audit``).

The export streams rows from a server-side cursor straight to the socket: memory stays
flat whatever the number of rows. NDJSON has one line per event, alerts and their
receipts, with every field the chain needs to be recomputed from the file alone
(:func:`relay.store.chain_export.export_line`); CSV has one row per alert with the
columns of ``CSV_COLUMNS``.
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import orjson
import structlog
from aiohttp import web

from relay.contract.errors import InvalidQuery
from relay.contract.history_query import encode_cursor, parse_history_query, parse_page
from relay.contract.problems import Problem
from relay.contract.roles import Action
from relay.contract.times import rfc3339
from relay.core.principals import Principal
from relay.http.middleware import json_response, principal_of, require_role
from relay.http.services import SERVICES
from relay.store.chain_export import export_line
from relay.store.history import ExportRow

__all__ = ["CSV_COLUMNS", "access_log", "export", "verify"]

CSV_COLUMNS = (
    "seq", "alert_id", "received_at", "origin_unit", "kind", "msg_type", "status", "priority",
    "tlp", "references", "flight", "flight_origin", "flight_destination", "location",
    "commodities", "distribution", "summary", "hash",
)
_FLUSH_BYTES = 256 * 1024
_log = structlog.get_logger("relay.http")


async def export(request: web.Request) -> web.StreamResponse:
    """GET /v1/audit/export?format=ndjson|csv&<history filters>."""
    services = request.app[SERVICES]
    require_role(request, Action.AUDIT)
    request["export"] = True
    fmt = request.query.get("format", "ndjson")
    if fmt not in ("ndjson", "csv"):
        raise InvalidQuery("unknown export format",
                           [Problem("format", "not_one_of", {"allowed": ["ndjson", "csv"]})])
    query = parse_history_query(request.query, paged=False, extra=("format",))
    response = web.StreamResponse(headers={
        "Content-Type": "application/x-ndjson" if fmt == "ndjson" else "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="relay-export.{fmt}"',
    })
    rows = 0
    holder = StreamingResponse(principal_of(request), asyncio.current_task())
    services.connections.add(holder)  # a revoked token cuts the export within seconds
    try:
        async with asyncio.timeout(services.config.export_seconds), \
                services.storage.export(query, services.regions, receipts=fmt == "ndjson") as stored:
            await response.prepare(request)
            buffer = bytearray(_csv_line(CSV_COLUMNS) if fmt == "csv" else b"")
            async for row in stored:
                buffer += _ndjson_line(row) if fmt == "ndjson" else _csv_row(row)
                rows += 1
                if len(buffer) >= _FLUSH_BYTES:
                    await response.write(bytes(buffer))
                    buffer.clear()
            await response.write(bytes(buffer))
    except TimeoutError:
        _log.warning("export_cut", after_seconds=services.config.export_seconds, rows=rows)
        if not response.prepared:
            raise
        return _cut(request, response, rows)
    except asyncio.CancelledError:
        if not holder.revoked:
            raise
        _log.info("export_revoked", rows=rows)
        return _cut(request, response, rows)
    finally:
        services.connections.discard(holder)
    request["rows"] = rows
    await response.write_eof()
    return response


def _cut(request: web.Request, response: web.StreamResponse, rows: int) -> web.StreamResponse:
    """End an export that may not go on: the connection is dropped without the last chunk,
    so that the client sees a cut export, never a complete-looking short one."""
    request["rows"] = rows
    if request.transport is not None:
        request.transport.abort()
    response.force_close()
    return response


class StreamingResponse:
    """An HTTP response still streaming, held open by a token: revoking the token cancels
    the handler's task (core/connections.py)."""

    def __init__(self, principal: Principal, task: asyncio.Task[Any] | None) -> None:
        self.principal: Principal | None = principal
        self._task = task
        self.revoked = False

    def revoke(self) -> None:
        self.revoked = True
        if self._task is not None:
            self._task.cancel()

    def reconnect(self) -> None:
        """The unit's roles changed: the export ends, as the role that allowed it may be gone."""
        self.revoke()


def _ndjson_line(row: ExportRow) -> bytes:
    stored = row.stored
    if stored is None:
        return export_line(seq=row.seq, kind=row.kind, hash=row.hash, prev_hash=row.prev_hash,
                           body_json=row.body_json, hashed=row.hashed,
                           content_removed=row.hashed is None)
    return export_line(seq=row.seq, kind=row.kind, hash=row.hash, prev_hash=row.prev_hash,
                       body_json=row.body_json, stored_body=stored.body_json,
                       commitments=stored.commitments, content_digest=stored.content_digest)


def _csv_line(values: tuple[Any, ...] | list[Any]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(values)
    return text.getvalue().encode("utf-8")


def _csv_row(row: ExportRow) -> bytes:
    alert = orjson.loads(row.body_json)
    flight = alert.get("flight") or {}
    return _csv_line([
        row.seq, alert["alert_id"], alert["received_at"], alert["origin_unit"], alert["kind"],
        alert.get("msg_type", "alert"), alert.get("status", "actual"), alert.get("priority", ""),
        alert["tlp"], alert.get("references", ""), flight.get("number", ""),
        flight.get("origin", ""), flight.get("destination", ""), alert.get("location", ""),
        " ".join(s["commodity"] for s in alert.get("seizures") or ()),
        orjson.dumps(alert["distribution"]).decode(), _no_formula(alert.get("summary", "")),
        row.hash.hex(),
    ])


def _no_formula(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ gets a quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def verify(request: web.Request) -> web.Response:
    """GET /v1/audit/verify: recompute the chain."""
    services = request.app[SERVICES]
    require_role(request, Action.AUDIT)
    report = await services.storage.verify_chain()
    request["rows"] = report.events
    return json_response(report.as_dict())


async def access_log(request: web.Request) -> web.Response:
    """GET /v1/audit/access-log?unit=&limit=&cursor=: newest first."""
    services = request.app[SERVICES]
    require_role(request, Action.AUDIT)
    problems: list[Problem] = []
    unknown = set(request.query) - {"unit", "limit", "cursor"}
    problems += [Problem(key, "unknown_parameter") for key in sorted(unknown)]
    count, before = parse_page(request.query, problems)
    if problems:
        raise InvalidQuery("the query has problems", problems)
    page, more = await services.storage.access_log(unit=request.query.get("unit"),
                                                   before=before, limit=count)
    request["rows"] = len(page)
    entries = [{
        "id": e.entry_id, "at": rfc3339(e.at), "unit": e.unit_id, "method": e.method,
        "path": e.path, "query": orjson.Fragment(e.query_json), "rows": e.rows, "status": e.status,
        **({"action": e.action} if e.action is not None else {}),
        **({"target": e.target} if e.target is not None else {}),
        **({"reason": e.reason} if e.reason is not None else {}),
    } for e in page]
    return json_response({"entries": entries,
                          "next_cursor": encode_cursor(page[-1].entry_id) if more else None})
