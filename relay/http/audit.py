"""``/v1/audit/*``: export, chain verification and the access log (role ``audit``).

The export streams rows from a server-side cursor straight to the socket: memory stays
flat whatever the number of rows. NDJSON lines are ``{"seq", "hash", "alert"}`` (the hash
of the tamper-evident chain, hex); CSV has one row per alert with the columns of
``CSV_COLUMNS``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from aiohttp import web

from relay.contract.errors import InvalidQuery
from relay.contract.history_query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    parse_history_query,
)
from relay.contract.model import Problem
from relay.http.middleware import RUNTIME_KEY, json_response, require_role
from relay.store.chain import verify_chain
from relay.store.history import history_sql
from relay.store.pool import translate_errors

__all__ = ["CSV_COLUMNS", "access_log", "export", "verify"]

CSV_COLUMNS = (
    "seq", "alert_id", "received_at", "origin_unit", "kind", "msg_type", "status", "priority",
    "tlp", "references", "flight", "flight_origin", "flight_destination", "location",
    "commodities", "distribution", "summary", "hash",
)
_EXPORT_COLUMNS = "seq, body_json, hash"
_PREFETCH = 1000
_FLUSH_BYTES = 256 * 1024


async def export(request: web.Request) -> web.StreamResponse:
    """GET /v1/audit/export?format=ndjson|csv&<history filters>."""
    runtime = request.app[RUNTIME_KEY]
    require_role(request, "audit")
    request["export"] = True
    fmt = request.query.get("format", "ndjson")
    if fmt not in ("ndjson", "csv"):
        raise InvalidQuery("unknown export format", [Problem("format", "must be ndjson or csv")])
    query = parse_history_query(request.query, paged=False, extra=("format",))
    sql, params = history_sql(query, None, runtime.config.regions, _EXPORT_COLUMNS,
                              oldest_first=True)
    response = web.StreamResponse(headers={
        "Content-Type": "application/x-ndjson" if fmt == "ndjson" else "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="relay-export.{fmt}"',
    })
    rows = 0
    async with translate_errors("exporting"), runtime.pool.acquire() as conn, conn.transaction():
        cursor = conn.cursor(sql, *params, prefetch=_PREFETCH)
        await response.prepare(request)
        buffer = bytearray(_csv_line(CSV_COLUMNS) if fmt == "csv" else b"")
        async for row in cursor:
            buffer += _ndjson_line(row) if fmt == "ndjson" else _csv_row(row)
            rows += 1
            if len(buffer) >= _FLUSH_BYTES:
                await response.write(bytes(buffer))
                buffer.clear()
        await response.write(bytes(buffer))
    request["rows"] = rows
    await response.write_eof()
    return response


def _ndjson_line(row: Any) -> bytes:
    return b'{"seq":%d,"hash":"%s","alert":%s}\n' % (row["seq"], bytes(row["hash"]).hex().encode(),
                                                      bytes(row["body_json"]))


def _csv_line(values: tuple[Any, ...] | list[Any]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(values)
    return text.getvalue().encode("utf-8")


def _csv_row(row: Any) -> bytes:
    alert = orjson.loads(row["body_json"])
    flight = alert.get("flight") or {}
    return _csv_line([
        row["seq"], alert["alert_id"], alert["received_at"], alert["origin_unit"], alert["kind"],
        alert.get("msg_type", "alert"), alert.get("status", "actual"), alert["priority"],
        alert["tlp"], alert.get("references", ""), flight.get("number", ""),
        flight.get("origin", ""), flight.get("destination", ""), alert.get("location", ""),
        " ".join(s["commodity"] for s in alert.get("seizures") or ()),
        orjson.dumps(alert["distribution"]).decode(), _no_formula(alert["summary"]),
        bytes(row["hash"]).hex(),
    ])


def _no_formula(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ gets a quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def verify(request: web.Request) -> web.Response:
    """GET /v1/audit/verify: recompute the chain."""
    runtime = request.app[RUNTIME_KEY]
    require_role(request, "audit")
    async with translate_errors("verifying the chain"), runtime.pool.acquire() as conn:
        report = await verify_chain(conn)
    request["rows"] = report.events
    return json_response(report.as_dict())


async def access_log(request: web.Request) -> web.Response:
    """GET /v1/audit/access-log?unit=&limit=&cursor=: newest first."""
    runtime = request.app[RUNTIME_KEY]
    require_role(request, "audit")
    problems: list[Problem] = []
    unknown = set(request.query) - {"unit", "limit", "cursor"}
    problems += [Problem(key, "unknown query parameter") for key in sorted(unknown)]
    limit = request.query.get("limit", str(DEFAULT_LIMIT))
    if not (limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        problems.append(Problem("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
    before = None
    if "cursor" in request.query:
        try:
            before = decode_cursor(request.query["cursor"])
        except ValueError:
            problems.append(Problem("cursor", "is not a cursor this relay gave out"))
    if problems:
        raise InvalidQuery("the query has problems", problems)
    count = int(limit)
    async with translate_errors("reading the access log"):
        rows = await runtime.pool.fetch(
            "SELECT entry_id, at, unit_id, method, path, query, rows, status FROM relay_access_log"
            " WHERE ($1::text IS NULL OR unit_id = $1) AND ($2::bigint IS NULL OR entry_id < $2)"
            " ORDER BY entry_id DESC LIMIT $3",
            request.query.get("unit"), before, count + 1)
    page = rows[:count]
    request["rows"] = len(page)
    entries = [{
        "id": r["entry_id"], "at": r["at"].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "unit": r["unit_id"], "method": r["method"], "path": r["path"],
        "query": orjson.Fragment(r["query"]), "rows": r["rows"], "status": r["status"],
    } for r in page]
    next_cursor = encode_cursor(page[-1]["entry_id"]) if len(rows) > count else None
    return json_response({"entries": entries, "next_cursor": next_cursor})
