"""Group commit: every new event of this process goes through one writer task.

Callers :meth:`EventWriter.submit` a :class:`PendingEvent` and await its result. The
writer takes everything queued (up to ``max_batch``) and commits it in ONE transaction:

1. lock the ``relay_head`` row (serialises writers of every relay process, so seq
   follows commit order and has no gap);
2. look up the (unit, id) idempotency keys; a key seen before resolves to the first
   event (``duplicate``), and a key twice in one batch to its first occurrence;
3. COPY the new events, record their keys, move the head, ``NOTIFY relay_events``.

Only after COMMIT returns are the futures resolved (the ack promise) and the events
handed to the hub for fan-out. A failure fails the whole batch with ``unavailable``:
nothing of it was stored, and the clients resend with the same ids.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import structlog

from relay.database import STORE_DOWN_ERRORS
from relay.errors import RateLimited, Unavailable
from relay.events import Event
from relay.model import AlertFacts

__all__ = ["EVENTS_CHANNEL", "EventWriter", "PendingEvent", "WriteResult"]

EVENTS_CHANNEL = "relay_events"
_log = structlog.get_logger("relay.writer")


@dataclass(frozen=True, slots=True)
class WriteResult:
    seq: int
    alert_id: str
    duplicate: bool


@dataclass(slots=True, eq=False)
class PendingEvent:
    """A validated event waiting for its seq. ``key`` is the client's frame id."""

    unit_id: str
    key: str
    kind: str
    alert_id: str
    origin_unit: str
    received_at: datetime
    facts: AlertFacts | None
    receipt_status: str | None
    body_json: bytes
    body_msgpack: bytes
    future: asyncio.Future[WriteResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    queued_at: float = field(default_factory=time.perf_counter)

    def record(self, seq: int) -> tuple[object, ...]:
        f = self.facts
        d = f.distribution if f else None
        return (
            seq, self.kind, uuid.UUID(self.alert_id), self.origin_unit, self.unit_id,
            self.received_at,
            f.kind if f else None, f.msg_type if f else None, f.status if f else None,
            f.priority if f else None, f.tlp if f else None,
            d.all if d else None,
            sorted(d.units) if d else None, sorted(d.countries) if d else None,
            sorted(d.regions) if d else None,
            sorted(f.airports) if f else None, sorted(f.countries) if f else None,
            sorted(f.commodities) if f else None,
            uuid.UUID(f.references) if f and f.references else None,
            self.receipt_status, self.body_json, self.body_msgpack,
        )

    def event(self, seq: int) -> Event:
        return Event(seq, self.kind, self.alert_id, self.origin_unit, self.unit_id,
                     self.facts, self.body_json, self.body_msgpack)


_COLUMNS = [
    "seq", "kind", "alert_id", "origin_unit", "author_unit", "received_at", "alert_kind",
    "msg_type", "status", "priority", "tlp", "dist_all", "dist_units", "dist_countries",
    "dist_regions", "airports", "countries", "commodities", "refs", "receipt_status",
    "body_json", "body_msgpack",
]


class EventWriter:
    """The single committer task of a relay process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        on_committed: Callable[[list[Event]], None],
        on_batch: Callable[[Sequence[PendingEvent]], None] = lambda batch: None,
        max_batch: int = 500,
        max_queue: int = 10_000,
    ) -> None:
        self._pool = pool
        self._on_committed = on_committed
        self._on_batch = on_batch
        self._max_batch = max_batch
        self._queue: asyncio.Queue[PendingEvent] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._accepting = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-writer")
        self._task.add_done_callback(self._on_task_done)

    async def submit(self, pending: PendingEvent) -> WriteResult:
        """Queue ``pending`` and wait until it is committed (or refused)."""
        if not self._accepting or self._task is None or self._task.done():
            raise Unavailable("the relay is shutting down; retry later")
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise RateLimited("the relay's write queue is full; retry shortly") from None
        return await asyncio.shield(pending.future)

    async def drain_and_stop(self) -> None:
        """Refuse new events, commit everything already queued, stop the task."""
        self._accepting = False
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        _log.error("writer_crashed", error=repr(task.exception()))
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(Unavailable("the relay's writer stopped"))
            self._queue.task_done()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit_batch(self, batch: list[PendingEvent]) -> None:
        try:
            results, events = await self._commit(batch)
        except (*STORE_DOWN_ERRORS, asyncpg.PostgresError) as exc:
            _log.warning("commit_failed", events=len(batch), error=type(exc).__name__)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(
                        Unavailable("the store is unavailable; nothing was stored, retry later")
                    )
            return
        self._on_batch(batch)
        if events:
            self._on_committed(events)
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _commit(self, batch: list[PendingEvent]) -> tuple[list[WriteResult], list[Event]]:
        async with self._pool.acquire() as conn, conn.transaction():
            head = int(await conn.fetchval("SELECT seq FROM relay_head FOR UPDATE"))
            known = await self._known_keys(conn, batch)
            results: list[WriteResult] = []
            fresh: list[tuple[int, PendingEvent]] = []
            for pending in batch:
                key = (pending.unit_id, pending.key)
                if key in known:
                    seq, alert_id = known[key]
                    results.append(WriteResult(seq, alert_id, True))
                    continue
                head += 1
                known[key] = (head, pending.alert_id)
                fresh.append((head, pending))
                results.append(WriteResult(head, pending.alert_id, False))
            if fresh:
                await conn.copy_records_to_table(
                    "relay_events", records=[p.record(seq) for seq, p in fresh], columns=_COLUMNS
                )
                await conn.executemany(
                    "INSERT INTO relay_idempotency (unit_id, key, seq, alert_id)"
                    " VALUES ($1, $2, $3, $4::uuid)",
                    [(p.unit_id, p.key, seq, p.alert_id) for seq, p in fresh],
                )
                await conn.execute("UPDATE relay_head SET seq = $1", head)
                await conn.execute("SELECT pg_notify($1, $2)", EVENTS_CHANNEL, str(head))
        return results, [p.event(seq) for seq, p in fresh]

    @staticmethod
    async def _known_keys(
        conn: asyncpg.Connection, batch: list[PendingEvent]
    ) -> dict[tuple[str, str], tuple[int, str]]:
        rows = await conn.fetch(
            "SELECT i.unit_id, i.key, i.seq, i.alert_id::text AS alert_id"
            " FROM relay_idempotency i"
            " JOIN unnest($1::text[], $2::text[]) AS k(unit_id, key) USING (unit_id, key)",
            [p.unit_id for p in batch], [p.key for p in batch],
        )
        return {(r["unit_id"], r["key"]): (r["seq"], r["alert_id"]) for r in rows}
