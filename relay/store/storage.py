"""The store as the edges use it: every read and write of a request, on the right pool,
within the deadline.

Each method runs one store function (:mod:`relay.store.history`, :mod:`~relay.store.units`,
...) on the pool its kind of work belongs to (:class:`relay.store.pool.Pools`) and answers
``unavailable`` when the store has not answered within ``deadline`` seconds (a frozen or
saturated database), so that a client waits at most that long, whatever the store does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import TypeVar

import asyncpg

from relay.contract.federation import PeerScope, RemoteUnit
from relay.contract.filters import Filter
from relay.contract.history_query import HistoryQuery
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding
from relay.core.events import Event, StoredAlert
from relay.core.principals import Principal
from relay.store import access_log, chain, eventlog, federation, history, protection, units
from relay.store.pool import Pools, translate_errors, within

__all__ = ["Storage"]

Regions = Mapping[str, frozenset[str]]
T = TypeVar("T")


class Storage:
    def __init__(self, pools: Pools, *, deadline: float, ready_deadline: float = 2.0) -> None:
        self.pools = pools
        self.deadline = deadline
        self.ready_deadline = ready_deadline

    # -- authentication and the units (the writes pool: no reader can take it) -------------
    async def authenticate(self, token: str) -> Principal | None:
        return await within(self.deadline, "authenticating",
                            units.authenticate(self.pools.writes, token))

    async def stale_tokens(self, held: dict[int, frozenset[str]]) -> tuple[set[int], set[int]]:
        return await within(self.deadline, "checking revocations",
                            units.stale_tokens(self.pools.reads, held))

    # -- the event log ---------------------------------------------------------------------
    async def find_alert(self, alert_id: str) -> StoredAlert | None:
        return await within(self.deadline, "reading an alert",
                            eventlog.find_alert(self.pools.writes, alert_id))

    async def events_between(self, after: int, upto: int, limit: int) -> list[Event]:
        """Both bodies (fan-out of another process's commits)."""
        return await eventlog.fetch_events(self.pools.writes, after, upto, limit)

    async def head(self) -> int:
        return await within(self.deadline, "reading the head",
                            eventlog.read_head(self.pools.reads))

    async def ready_head(self) -> int:
        """The head, within the readiness probe's own, shorter deadline."""
        return await within(self.ready_deadline, "checking the database",
                            eventlog.read_head(self.pools.reads))

    async def replay_page(self, *, viewer: Viewer, filter: Filter, regions: Regions, after: int,
                          upto: int, limit: int, max_bytes: int,
                          encoding: Encoding) -> tuple[list[Event], bool]:
        return await within(self.deadline, "replaying", eventlog.fetch_visible_events(
            self.pools.reads, viewer=viewer, filter=filter, regions=regions, after=after,
            upto=upto, limit=limit, max_bytes=max_bytes, encoding=encoding))

    # -- federation (a peer pulling from this relay) ------------------------------------------
    async def outbound_page(self, *, after: int, upto: int, limit: int,
                            max_bytes: int) -> tuple[list[Event], bool]:
        return await within(self.deadline, "reading events for a peer",
                            federation.fetch_outbound_events(self.pools.reads, after=after,
                                                             upto=upto, limit=limit,
                                                             max_bytes=max_bytes))

    async def local_directory(self) -> list[RemoteUnit]:
        return await within(self.deadline, "reading the units",
                            federation.local_directory(self.pools.reads))

    async def peer_scope(self, peer_id: str) -> PeerScope | None:
        return await within(self.deadline, "reading a peer's scope",
                            federation.peer_scope(self.pools.reads, peer_id))

    async def peer_statuses(self) -> list[federation.PeerStatus]:
        return await within(self.deadline, "reading the peers",
                            federation.peer_statuses(self.pools.reads))

    # -- the history ------------------------------------------------------------------------
    async def history_page(self, query: HistoryQuery, viewer: Viewer | None, regions: Regions,
                           *, max_bytes: int) -> tuple[list[history.AlertRow], bool]:
        return await within(self.deadline, "reading the history", history.history_page(
            self.pools.reads, query, viewer, regions, max_bytes=max_bytes))

    async def alert_file(self, alert_id: str, viewer: Viewer | None,
                         regions: Regions) -> history.AlertFile | None:
        return await within(self.deadline, "reading the alert",
                            history.read_alert_file(self.pools.reads, alert_id, viewer, regions))

    async def alert_body_at(self, seq: int) -> bytes:
        return await within(self.deadline, "reading the first alert",
                            history.alert_body_at(self.pools.writes, seq))

    @contextlib.asynccontextmanager
    async def export(self, query: HistoryQuery, regions: Regions, *, receipts: bool
                     ) -> AsyncIterator[AsyncIterator[history.ExportRow]]:
        """Every alert of ``query`` (with ``receipts``, and their receipts) from a
        server-side cursor on an export connection; none free within the deadline is
        ``unavailable`` (too many exports at once)."""
        async with translate_errors("exporting"):
            conn = await within(self.deadline, "waiting for an export connection",
                                self.pools.exports.acquire())
        try:
            async with history.export_rows(conn, query, regions, receipts=receipts) as rows:
                yield rows
        finally:
            await self.pools.exports.release(conn)

    async def verify_chain(self) -> chain.ChainReport:
        async with translate_errors("verifying the chain"):
            conn = await within(self.deadline, "waiting for an export connection",
                                self.pools.exports.acquire())
            try:
                return await chain.verify_chain(conn)
            finally:
                await self.pools.exports.release(conn)

    # -- administration (admin.md) ----------------------------------------------------------
    async def administer(self, action: str,
                         work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``work`` on one connection of the read pool (its transactions need one), within
        the deadline: units and tokens change rarely, and never on the writer's pool."""
        async def on_a_connection() -> T:
            async with self.pools.reads.acquire() as conn:
                return await work(conn)  # type: ignore[arg-type]  # a pooled connection
        return await within(self.deadline, action, on_a_connection())

    # -- passengers' personal data (protection.md): the reads pool, as for administration ---
    async def place_hold(self, *, alert_id: str, reason: str, until: datetime,
                         placed_by: str) -> protection.Hold | None:
        return await within(self.deadline, "placing a hold", protection.place_hold(
            self.pools.reads, alert_id=alert_id, reason=reason, until=until,
            placed_by=placed_by))

    async def holds(self, *, alert_id: str | None) -> list[protection.Hold]:
        return await within(self.deadline, "reading the holds",
                            protection.list_holds(self.pools.reads, alert_id=alert_id))

    async def personal_of(self, alert_id: str) -> asyncpg.Record | None:
        return await within(self.deadline, "reading an alert to re-identify",
                            protection.personal_of(self.pools.reads, alert_id))

    # -- the access log -----------------------------------------------------------------------
    async def record_access(self, *, unit_id: str, method: str, path: str,
                            query: Mapping[str, str], rows: int | None, status: int,
                            action: str | None = None, target: str | None = None,
                            reason: str | None = None) -> None:
        await within(self.deadline, "recording the access", access_log.record_access(
            self.pools.writes, unit_id=unit_id, method=method, path=path, query=query, rows=rows,
            status=status, action=action, target=target, reason=reason))

    async def access_log(self, *, unit: str | None, before: int | None,
                         limit: int) -> tuple[list[access_log.AccessEntry], bool]:
        return await within(self.deadline, "reading the access log", access_log.read_access_log(
            self.pools.reads, unit=unit, before=before, limit=limit))
