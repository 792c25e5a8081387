"""Reading the event log: ranges by seq (replay, fan-out across processes) and alerts by id."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from relay import protection
from relay.contract.filters import Filter
from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding
from relay.core.events import Event, StoredAlert
from relay.protection.reveal import PROTECTION_COLUMNS
from relay.store.pool import translate_errors
from relay.store.visibility_sql import sql_replay_condition

__all__ = [
    "EVENT_COLUMNS",
    "EventReader",
    "bounded_page",
    "event_from_row",
    "fetch_events",
    "fetch_visible_events",
    "find_alert",
    "read_head",
]

FACT_COLUMNS = (
    "seq, kind, alert_id::text AS alert_id, origin_unit, author_unit, alert_kind, msg_type,"
    " status, priority, tlp, dist_all, dist_units, dist_countries, dist_regions, airports,"
    " countries, commodities, refs::text AS refs, origin_relay, alert_relay"
)
EVENT_COLUMNS = f"{FACT_COLUMNS}, body_json, body_msgpack, {PROTECTION_COLUMNS}"


def _facts(row: asyncpg.Record) -> AlertFacts | None:
    if row["kind"] != "alert":
        return None
    return AlertFacts(
        kind=row["alert_kind"],
        msg_type=row["msg_type"],
        status=row["status"],
        priority=row["priority"],
        tlp=row["tlp"],
        distribution=Distribution(
            all=bool(row["dist_all"]),
            units=frozenset(row["dist_units"]),
            countries=frozenset(row["dist_countries"]),
            regions=frozenset(row["dist_regions"]),
        ),
        airports=frozenset(row["airports"]),
        countries=frozenset(row["countries"]),
        commodities=frozenset(row["commodities"]),
        references=row["refs"],
    )


def event_from_row(row: asyncpg.Record, *, shown: bool = True) -> Event:
    """The event of ``row``; with ``shown``, its bodies as the relay shows them
    (:mod:`relay.protection.reveal`: personal fields opened, or masked, or reduced),
    else as stored."""
    keys = set(row.keys())
    body_json = row["body_json"] if "body_json" in keys else None
    body_msgpack = row["body_msgpack"] if "body_msgpack" in keys else None
    if shown and "masked_at" in keys:
        revealer = protection.active().revealer
        if body_json is not None and body_msgpack is not None:
            body_json, body_msgpack = revealer.shown_both(row)
        elif body_json is not None:
            body_json = revealer.shown(row, Encoding.JSON)
        elif body_msgpack is not None:
            body_msgpack = revealer.shown(row, Encoding.MSGPACK)
    return Event(
        seq=row["seq"],
        kind=row["kind"],
        alert_id=row["alert_id"],
        origin_unit=row["origin_unit"],
        author_unit=row["author_unit"],
        facts=_facts(row),
        body_json=body_json,
        body_msgpack=body_msgpack,
        origin_relay=row["origin_relay"] if "origin_relay" in keys else None,
        alert_relay=row["alert_relay"] if "alert_relay" in keys else None,
    )


async def bounded_page(conn: asyncpg.Connection | asyncpg.Pool, *, bodies: str, where: str,
                        params: list[object], limit: int, max_bytes: int) -> tuple[list[Event], bool]:
    """Events matching ``where`` in seq order: at most ``limit``, and no more than
    ``max_bytes`` of bodies as shown (stored bodies plus their sealed fields; always at
    least one event); and whether that is every event of the range (False: the page was
    cut, read on from its last seq)."""
    first = len(params) + 1
    rows = await conn.fetch(
        f"SELECT * FROM (SELECT *, sum(body_bytes) OVER (ORDER BY seq) AS running,"
        f" count(*) OVER () AS matched FROM (SELECT {FACT_COLUMNS}, {bodies}, {PROTECTION_COLUMNS},"
        f" {' + '.join(f'octet_length({b}) + coalesce(octet_length(personal), 0)' for b in bodies.split(', '))}"
        f" AS body_bytes"
        f" FROM relay_events WHERE {where} ORDER BY seq LIMIT ${first}) AS page) AS sized"
        f" WHERE running - body_bytes < ${first + 1} ORDER BY seq",
        *params, limit, max_bytes)
    matched = rows[0]["matched"] if rows else 0
    return [event_from_row(row) for row in rows], len(rows) == matched < limit


async def fetch_events(conn: asyncpg.Connection | asyncpg.Pool, after: int, upto: int,
                       limit: int, max_bytes: int = 16 * 1024 * 1024) -> list[Event]:
    """Events with ``after < seq <= upto`` in seq order, with both bodies (fan-out): at
    most ``limit`` and about ``max_bytes``; the caller reads on from the last one."""
    events, _ = await bounded_page(conn, bodies="body_json, body_msgpack",
                                    where="seq > $1 AND seq <= $2", params=[after, upto],
                                    limit=limit, max_bytes=max_bytes)
    return events


async def fetch_visible_events(conn: asyncpg.Connection | asyncpg.Pool, *, viewer: Viewer,
                               filter: Filter, regions: Mapping[str, frozenset[str]],
                               after: int, upto: int, limit: int, max_bytes: int,
                               encoding: Encoding) -> tuple[list[Event], bool]:
    """A replay page: the events of ``after < seq <= upto`` that the viewer may see and
    that pass its filter, chosen by the database, with the body of ``encoding`` only;
    and whether the page holds all of them."""
    condition, params = sql_replay_condition(viewer, filter, regions, 3)
    body = "body_json" if encoding is Encoding.JSON else "body_msgpack"
    return await bounded_page(conn, bodies=body, where=f"seq > $1 AND seq <= $2 AND {condition}",
                               params=[after, upto, *params], limit=limit, max_bytes=max_bytes)


async def read_head(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The highest committed seq."""
    value = await conn.fetchval("SELECT seq FROM relay_head")
    return int(value)


async def find_alert(conn: asyncpg.Connection | asyncpg.Pool, alert_id: str) -> StoredAlert | None:
    """The stored alert with this id, or None."""
    row = await conn.fetchrow(
        f"SELECT {FACT_COLUMNS} FROM relay_events WHERE alert_id = $1::uuid AND kind = 'alert'",
        alert_id,
    )
    if row is None:
        return None
    facts = _facts(row)
    assert facts is not None
    return StoredAlert(row["alert_id"], row["seq"], row["origin_unit"], facts, row["origin_relay"])


class EventReader:
    """The event log as the core reads it (:class:`relay.core.ports.EventSource`);
    failures of the store become ``unavailable``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find_alert(self, alert_id: str) -> StoredAlert | None:
        async with translate_errors("reading an alert"):
            return await find_alert(self._pool, alert_id)

    async def events_between(self, after: int, upto: int, limit: int) -> list[Event]:
        return await fetch_events(self._pool, after, upto, limit)

    async def head(self) -> int:
        return await read_head(self._pool)
