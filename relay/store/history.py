"""Reading the history for the HTTP API: pages, one alert's file, exports.

Every HTTP read of stored alerts and receipts is here, and only here: one parameterised
SELECT per :class:`HistoryQuery` (newest first; exports oldest first), with the caller's
visibility rendered by :mod:`relay.store.visibility_sql` (``viewer`` None: everything,
for a unit that :func:`relay.contract.visibility.sees_whole_history`). Rows come back as
small records holding the stored JSON body as it is, so handlers never see SQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from relay import protection
from relay.contract.history_query import HistoryQuery
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding
from relay.protection.keyring import KeyMissing
from relay.protection.reveal import PROTECTION_COLUMNS, masked_at_of
from relay.protection.sealing import SealBroken
from relay.store.chain import GENESIS
from relay.store.pool import translate_errors
from relay.store.visibility_sql import sql_may_see_alert

__all__ = [
    "MAX_RECEIPTS",
    "MAX_RELATED",
    "AlertFile",
    "AlertRow",
    "DeliveryRow",
    "ExportRow",
    "ReceiptRow",
    "StoredForm",
    "alert_body_at",
    "export_rows",
    "export_sql",
    "history_page",
    "history_sql",
    "read_alert_file",
]

Regions = Mapping[str, frozenset[str]]
MAX_RELATED = 100  # updates and cancellations shown in one alert's file
MAX_RECEIPTS = 1_000


@dataclass(frozen=True, slots=True)
class AlertRow:
    seq: int
    msg_type: str
    origin_unit: str
    body_json: bytes


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    seq: int
    alert_origin: str
    author_unit: str
    received_at: datetime
    status: str
    body_json: bytes


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    unit_id: str
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported event. ``prev_hash``: the hash of event ``seq - 1`` (the genesis
    before seq 1; None when the log has no such event), read only for NDJSON."""

    seq: int
    hash: bytes
    body_json: bytes
    kind: str = "alert"
    prev_hash: bytes | None = None
    stored: StoredForm | None = None  # a sealed alert (chain version 2): what its hash covers
    hashed: bytes | None = None  # chain version 1: the bytes its hash covers (None: destroyed)


@dataclass(frozen=True, slots=True)
class StoredForm:
    """What the hash of a sealed alert covers, for an export to carry: the stored body
    (without personal fields), the fields' commitments, the digest kept beside it."""

    body_json: bytes
    commitments: bytes | None
    content_digest: bytes


def _hashed_v1(row: asyncpg.Record) -> bytes | None:
    """What the v1 hash of ``row`` covers, if it may leave the relay and still exists:
    the stored body; for an alert sealed from history, its original from its envelope
    while neither masked nor destroyed. None: the line can be linked, not recomputed."""
    if row["kind"] != "alert":
        return bytes(row["body_json"])
    if row["masked_at"] is not None or row["reduced_at"] is not None:
        return None
    if row["sealed_at"] is None:
        return bytes(row["body_json"])
    if row["personal"] is None:  # sealed from history without a personal field: as it was
        return bytes(row["body_json"])
    if row["wrapped_key"] is None:
        return None
    try:
        return protection.active().sealer.original(
            str(row["alert_id"]), row["key_id"], bytes(row["wrapped_key"]), bytes(row["personal"]))
    except (SealBroken, KeyMissing):
        return None


def _stored(row: asyncpg.Record) -> StoredForm | None:
    if row["chain_version"] != 2:
        return None
    return StoredForm(bytes(row["body_json"]),
                      None if row["commitments"] is None else bytes(row["commitments"]),
                      bytes(row["content_digest"]))


@dataclass(frozen=True, slots=True)
class AlertFile:
    """One alert, its updates and cancellation (as far as the viewer may see them), every
    receipt of it and every delivery record of it (the caller filters those two)."""

    alert: AlertRow
    related: list[AlertRow]
    receipts: list[ReceiptRow]
    deliveries: list[DeliveryRow]
    more_related: bool = False  # more updates than MAX_RELATED: the newest are kept
    more_receipts: bool = False  # more receipts than MAX_RECEIPTS: the first are kept


_SHOWN = f"kind, alert_id, {PROTECTION_COLUMNS}"
# What a page is bounded by: the stored body plus its sealed fields (shown opened, they
# take no more than their sealed size).
_SHOWN_BYTES = "(octet_length(body_json) + coalesce(octet_length(personal), 0))"
_ALERT_COLUMNS = f"seq, msg_type, origin_unit, body_json, {_SHOWN}"


def _shown(row: asyncpg.Record) -> bytes:
    """The JSON body as the relay shows it (:mod:`relay.protection.reveal`)."""
    return protection.active().revealer.shown(row, Encoding.JSON)


def _alert_row(row: asyncpg.Record) -> AlertRow:
    return AlertRow(row["seq"], row["msg_type"], row["origin_unit"], _shown(row))


async def history_page(pool: asyncpg.Pool, query: HistoryQuery, viewer: Viewer | None,
                       regions: Regions, *, max_bytes: int) -> tuple[list[AlertRow], bool]:
    """One page, newest first, of at most ``query.limit`` alerts and about ``max_bytes``
    of bodies (at least one alert), and whether more follow."""
    sql, params = history_sql(query, viewer, regions, _ALERT_COLUMNS)
    first = len(params) + 1
    async with translate_errors("reading the history"):
        rows = await pool.fetch(
            f"SELECT * FROM (SELECT *, sum({_SHOWN_BYTES}) OVER (ORDER BY seq DESC)"
            f" AS running, count(*) OVER () AS fetched FROM ({sql} LIMIT ${first}) AS page)"
            f" AS sized WHERE running - {_SHOWN_BYTES} < ${first + 1} ORDER BY seq DESC",
            *params, query.limit + 1, max_bytes)
    page = [_alert_row(row) for row in rows[: query.limit]]
    more = bool(rows) and (len(rows) > query.limit or len(rows) < rows[0]["fetched"])
    return page, more


async def read_alert_file(pool: asyncpg.Pool, alert_id: str, viewer: Viewer | None,
                          regions: Regions) -> AlertFile | None:
    """The file of ``alert_id``, or None when there is no such alert the viewer may see."""
    async with translate_errors("reading the alert"), pool.acquire() as conn:
        found = await _visible_alerts(conn, viewer, regions, "alert_id = $1::uuid", alert_id)
        if not found:
            return None
        # Its updates and cancellation: only its own unit's, from its own relay (a peer's
        # alert naming it cannot amend it: federation.md).
        related = await _visible_alerts(
            conn, viewer, regions,
            "refs = $1::uuid AND (origin_unit, coalesce(origin_relay, '')) = (SELECT origin_unit,"
            " coalesce(origin_relay, '') FROM relay_events WHERE alert_id = $1::uuid AND kind = 'alert')",
            alert_id, newest=MAX_RELATED + 1)
        receipts = await conn.fetch(
            "SELECT seq, origin_unit, author_unit, received_at, receipt_status, body_json"
            " FROM relay_events WHERE kind = 'receipt' AND alert_id = $1::uuid ORDER BY seq"
            " LIMIT $2", alert_id, MAX_RECEIPTS + 1)
        deliveries = await conn.fetch(
            "SELECT unit_id, delivered_at FROM relay_deliveries WHERE seq = $1 ORDER BY unit_id",
            found[0].seq)
    return AlertFile(
        alert=found[0], related=related[-MAX_RELATED:],
        receipts=[ReceiptRow(r["seq"], r["origin_unit"], r["author_unit"], r["received_at"],
                             r["receipt_status"], bytes(r["body_json"]))
                  for r in receipts[:MAX_RECEIPTS]],
        deliveries=[DeliveryRow(r["unit_id"], r["delivered_at"]) for r in deliveries],
        more_related=len(related) > MAX_RELATED, more_receipts=len(receipts) > MAX_RECEIPTS,
    )


async def _visible_alerts(conn: Any, viewer: Viewer | None, regions: Regions, condition: str,
                          alert_id: str, *, newest: int = 1) -> list[AlertRow]:
    """The alerts matching ``condition`` that the viewer may see: the ``newest`` of them,
    in seq order."""
    params: list[Any] = [alert_id]
    where = [condition, "kind = 'alert'"]
    if viewer is not None:
        visible, values = sql_may_see_alert(viewer, regions, 2)
        where.append(visible)
        params.extend(values)
    rows = await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM relay_events"
        f" WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT {int(newest)}", *params)
    return [_alert_row(row) for row in reversed(rows)]


async def alert_body_at(pool: asyncpg.Pool, seq: int) -> bytes:
    """The JSON body of the event ``seq``, as shown."""
    async with translate_errors("reading the first alert"):
        row = await pool.fetchrow(f"SELECT seq, body_json, {_SHOWN} FROM relay_events"
                                  " WHERE seq = $1", seq)
    assert row is not None  # the caller read this seq from the log, which only grows
    return _shown(row)


@contextlib.asynccontextmanager
async def export_rows(conn: Any, query: HistoryQuery, regions: Regions, *, receipts: bool,
                      prefetch: int = 100) -> AsyncIterator[AsyncIterator[ExportRow]]:
    """The events of ``query``, oldest first, read from a server-side cursor on ``conn``
    (constant memory), for as long as the block lasts: its alerts, and with ``receipts``
    (:func:`export_sql`) their receipts too, each with the previous event's hash."""
    if receipts:
        sql, params = export_sql(query)
    else:
        sql, params = history_sql(query, None, regions, f"seq, body_json, hash, {_SHOWN},"
                                  " content_digest, commitments", oldest_first=True)
    async with translate_errors("exporting"), conn.transaction():
        cursor = conn.cursor(sql, *params, prefetch=prefetch)

        async def rows() -> AsyncIterator[ExportRow]:
            async for row in cursor:
                stored = _stored(row)
                hashed = None if stored is not None else _hashed_v1(row)
                if not receipts:
                    yield ExportRow(row["seq"], bytes(row["hash"]), _shown(row),
                                    stored=stored, hashed=hashed)
                    continue
                seq, prev = row["seq"], row["prev_hash"]
                yield ExportRow(seq, bytes(row["hash"]), _shown(row), row["kind"],
                                GENESIS if seq == 1 else None if prev is None else bytes(prev),
                                stored=stored, hashed=hashed)

        yield rows()


def export_sql(query: HistoryQuery) -> tuple[str, list[Any]]:
    """Every event of an NDJSON export, oldest first, with the hash of the event before it
    (docs/audit.md "Exporting"): the alerts ``query`` matches, and the receipts whose alert
    matches its other filters, received within its ``from``/``to`` (a receipt has its own
    time, and is judged by its alert for everything else). Without filters: every event;
    with ``from``/``to`` alone: every event of that time. Role audit: no visibility."""
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    f = query.filters
    alerts = ["e.kind = 'alert'", *_content_conditions(f, param, "e."), *_time_conditions(f, param, "e.")]
    receipts = ["e.kind = 'receipt'", *_time_conditions(f, param, "e.")]
    of_alert = _content_conditions(f, param, "a.")
    if of_alert:
        receipts.append("EXISTS (SELECT 1 FROM relay_events a WHERE a.kind = 'alert'"
                        f" AND a.alert_id = e.alert_id AND {' AND '.join(of_alert)})")
    where = f" WHERE ({' AND '.join(alerts)}) OR ({' AND '.join(receipts)})" if f else ""
    sql = ("SELECT e.seq, e.kind, e.hash, e.body_json, e.alert_id, e.chain_version, e.key_id,"
           " e.wrapped_key, e.personal, e.reduced_at, e.sealed_at, e.content_digest,"
           f" e.commitments, {masked_at_of('e')},"
           " (SELECT p.hash FROM relay_events p WHERE p.seq = e.seq - 1) AS prev_hash"
           f" FROM relay_events e{where} ORDER BY e.seq")
    return sql, params


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def history_sql(query: HistoryQuery, viewer: Viewer | None,
                regions: Mapping[str, frozenset[str]], columns: str, *,
                oldest_first: bool = False) -> tuple[str, list[Any]]:
    """One SELECT over alerts, newest first (exports: oldest first).
    ``viewer`` None: everything (role audit)."""
    where = ["kind = 'alert'"]
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if viewer is not None:
        condition, values = sql_may_see_alert(viewer, regions, len(params) + 1)
        params.extend(values)
        where.append(condition)
    f = query.filters
    where += _content_conditions(f, param, "", text=False)
    where += _time_conditions(f, param, "")
    if "q" in f:
        where.append(f"summary ILIKE {param(_like(f['q']))}")
    if query.before_seq is not None:
        where.append(f"seq < {param(query.before_seq)}")
    order = "ASC" if oldest_first else "DESC"
    sql = f"SELECT {columns} FROM relay_events WHERE {' AND '.join(where)} ORDER BY seq {order}"
    return sql, params


def _content_conditions(f: Mapping[str, Any], param: Callable[[Any], str], table: str, *,
                        text: bool = True) -> list[str]:
    """The filters on what an alert says, on the columns of ``table`` ("e." or "");
    ``text``: with ``q``."""
    where = []
    simple = {"kind": "alert_kind", "origin_unit": "origin_unit", "flight": "flight_number"}
    for key, column in simple.items():
        if key in f:
            where.append(f"{table}{column} = {param(f[key])}")
    for key, column in (("airport", "airports"), ("country", "countries"),
                        ("commodity", "commodities")):
        if key in f:
            where.append(f"{table}{column} @> ARRAY[{param(f[key])}]::text[]")
    if text and "q" in f:
        where.append(f"{table}summary ILIKE {param(_like(f['q']))}")
    return where


def _time_conditions(f: Mapping[str, Any], param: Callable[[Any], str], table: str) -> list[str]:
    """``from`` (inclusive) and ``to`` (exclusive) on the relay's ``received_at``."""
    where = []
    if "from" in f:
        where.append(f"{table}received_at >= {param(f['from'])}")
    if "to" in f:
        where.append(f"{table}received_at < {param(f['to'])}")
    return where
