"""The access log (protocol.md "HTTP API"): who asked what, when, with how many rows.

Written after each request of a unit with role ``audit`` and each request to
``/v1/audit/``, ``/v1/admin/``, ``/v1/federation/``, ``/v1/protection/`` or an alert's
``/reidentify`` (refusals included); a hold or a re-identification is written with the
``reason`` its request gave (protection.md), never with the personal fields. Admin
actions, by HTTP or by the ``relay`` command, are written by :mod:`relay.store.admin`
with their ``action`` and ``target``, in the transaction of the change. Read newest
first at ``GET /v1/audit/access-log``. Text that PostgreSQL cannot store (NUL, a lone
surrogate from an undecodable header byte) is written as backslash escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from relay.store.pool import translate_errors

__all__ = ["AccessEntry", "read_access_log", "record_access", "storable"]


@dataclass(frozen=True, slots=True)
class AccessEntry:
    entry_id: int
    at: datetime
    unit_id: str
    method: str
    path: str
    query_json: str
    rows: int | None
    status: int
    action: str | None = None  # an admin action (unit.add, token.revoke...): admin.md,
    # or a hold placed (protection.hold)
    target: str | None = None  # the unit id, token id or alert id it acted on (or asked about)
    reason: str | None = None  # why a hold or a re-identification was asked (protection.md)


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates written as backslash escapes."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


async def record_access(pool: asyncpg.Pool, *, unit_id: str, method: str, path: str,
                        query: Mapping[str, str], rows: int | None, status: int,
                        action: str | None = None, target: str | None = None,
                        reason: str | None = None) -> None:
    """Append one entry; the caller decides what a failure means for its answer."""
    await pool.execute(
        "INSERT INTO relay_access_log (unit_id, method, path, query, rows, status, action,"
        " target, reason) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)",
        unit_id, method, storable(path),
        orjson.dumps({storable(k): storable(v) for k, v in query.items()}).decode(), rows, status,
        action, None if target is None else storable(target),
        None if reason is None else storable(reason))


async def read_access_log(pool: asyncpg.Pool, *, unit: str | None, before: int | None,
                          limit: int) -> tuple[list[AccessEntry], bool]:
    """Up to ``limit`` entries newest first (before the entry ``before``), and whether more
    follow."""
    async with translate_errors("reading the access log"):
        rows = await pool.fetch(
            "SELECT entry_id, at, unit_id, method, path, query, rows, status, action, target, reason"
            " FROM relay_access_log"
            " WHERE ($1::text IS NULL OR unit_id = $1) AND ($2::bigint IS NULL OR entry_id < $2)"
            " ORDER BY entry_id DESC LIMIT $3", unit, before, limit + 1)
    entries = [AccessEntry(r["entry_id"], r["at"], r["unit_id"], r["method"], r["path"],
                           r["query"],
                           r["rows"], r["status"], r["action"], r["target"], r["reason"])
               for r in rows[:limit]]
    return entries, len(rows) > limit
