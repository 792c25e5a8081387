"""Reading the event log: ranges by seq (replay, fan-out across processes) and alerts by id."""

from __future__ import annotations

import asyncpg

from relay.contract.model import AlertFacts, Distribution
from relay.core.events import Event, StoredAlert
from relay.store.pool import translate_errors

__all__ = ["EVENT_COLUMNS", "EventReader", "event_from_row", "fetch_events", "find_alert", "read_head"]

EVENT_COLUMNS = (
    "seq, kind, alert_id::text AS alert_id, origin_unit, author_unit, alert_kind, msg_type,"
    " status, priority, tlp, dist_all, dist_units, dist_countries, dist_regions, airports,"
    " countries, commodities, refs::text AS refs, body_json, body_msgpack"
)


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


def event_from_row(row: asyncpg.Record) -> Event:
    return Event(
        seq=row["seq"],
        kind=row["kind"],
        alert_id=row["alert_id"],
        origin_unit=row["origin_unit"],
        author_unit=row["author_unit"],
        facts=_facts(row),
        body_json=row["body_json"],
        body_msgpack=row["body_msgpack"],
    )


async def fetch_events(
    conn: asyncpg.Connection | asyncpg.Pool, after: int, upto: int, limit: int
) -> list[Event]:
    """Events with ``after < seq <= upto`` in seq order, at most ``limit``."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM relay_events"
        " WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        after, upto, limit,
    )
    return [event_from_row(row) for row in rows]


async def read_head(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The highest committed seq."""
    value = await conn.fetchval("SELECT seq FROM relay_head")
    return int(value)


async def find_alert(conn: asyncpg.Connection | asyncpg.Pool, alert_id: str) -> StoredAlert | None:
    """The stored alert with this id, or None."""
    row = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM relay_events WHERE alert_id = $1::uuid AND kind = 'alert'",
        alert_id,
    )
    if row is None:
        return None
    facts = _facts(row)
    assert facts is not None
    return StoredAlert(row["alert_id"], row["seq"], row["origin_unit"], facts)


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
