"""Group commit: every new event of this process goes through one writer task.

Callers :meth:`EventWriter.submit` a :class:`PendingEvent` and await its result. The
writer takes everything queued (up to ``max_batch``) and commits it in ONE statement, one
round trip: ``relay_append()`` (sql/functions/relay_append.sql), which

1. locks the ``relay_head`` row (serialises writers of every relay process, so seq
   follows commit order and has no gap);
2. resolves a (unit, kind, id) idempotency key seen before to its first event
   (``duplicate``), also when a key comes twice in one batch;
3. appends the new events, records their keys, moves the head, ``NOTIFY relay_events``.

Only after the statement's COMMIT returns are the futures resolved (the ack promise) and the events
handed to the hub for fan-out. A failure fails the whole batch with ``unavailable``:
nothing of it was stored, and the clients resend with the same ids.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import structlog

from relay import protection
from relay.contract.errors import RateLimited, Unavailable
from relay.core.events import Event, PendingEvent, WriteResult
from relay.protection.sealing import CHAIN_V2, Sealed
from relay.store.pool import STORE_DOWN_ERRORS

__all__ = ["EVENTS_CHANNEL", "EventWriter", "new_events"]

EVENTS_CHANNEL = "relay_events"
_log = structlog.get_logger("relay.writer")


class EventWriter:
    """The single committer task of a relay process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        on_committed: Callable[[list[Event]], None],
        on_batch: Callable[[Sequence[PendingEvent]], None] = lambda batch: None,
        on_crash: Callable[[], None] = lambda: None,
        on_commit_start: Callable[[], None] = lambda: None,
        on_commit_end: Callable[[], None] = lambda: None,
        max_batch: int = 500,
        max_queue: int = 10_000,
        commit_deadline: float | None = None,
    ) -> None:
        self._pool = pool
        self._on_committed = on_committed
        self._on_batch = on_batch
        self._on_crash = on_crash
        self._on_commit_start = on_commit_start
        self._on_commit_end = on_commit_end
        self._max_batch = max_batch
        self._commit_deadline = commit_deadline
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
        if pending.kind == "alert" and pending.sealed is None:
            pending.sealed = protection.active().sealer.seal(pending.alert_id, pending.body_json,
                                                             pending.body_msgpack)
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise RateLimited("the relay's write queue is full; retry shortly") from None
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), self._commit_deadline)
        except TimeoutError:
            # The event may still be committed: a resend with the same id says so.
            raise Unavailable(f"the store did not confirm the commit within "
                              f"{self._commit_deadline:g} s; resend with the same id") from None

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
        _log.error("writer_crashed", error=type(task.exception()).__name__)
        self._on_crash()
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
        self._on_commit_start()
        try:
            await self._commit_and_hand_over(batch)
        finally:
            self._on_commit_end()

    async def _commit_and_hand_over(self, batch: list[PendingEvent]) -> None:
        try:
            results, events = await self._commit(batch)
        except Exception as exc:  # noqa: BLE001 - store down or a defect: fail this batch only
            if len(batch) > 1 and not isinstance(exc, STORE_DOWN_ERRORS):
                # One event the store refuses must not fail the others of its group:
                # commit them one by one, in order, so only the culprit is refused.
                _log.warning("commit_split", events=len(batch), error=type(exc).__name__)
                for pending in batch:
                    await self._commit_and_hand_over([pending])
                return
            level = _log.warning if isinstance(exc, (*STORE_DOWN_ERRORS, asyncpg.PostgresError)) else _log.error
            level("commit_failed", events=len(batch), error=type(exc).__name__)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(
                        Unavailable("the store is unavailable; nothing was stored, retry later")
                    )
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)
        try:
            self._on_batch(batch)
            if events:
                self._on_committed(events)
        except Exception as exc:  # noqa: BLE001 - committed already: the hub re-reads gaps
            _log.error("after_commit_failed", error=type(exc).__name__)

    async def _commit(self, batch: list[PendingEvent]) -> tuple[list[WriteResult], list[Event]]:
        async with self._pool.acquire() as conn:
            try:
                rows = await conn.fetch(_APPEND, new_events(batch))
            except asyncpg.InternalClientError:
                conn.terminate()  # its protocol state is lost: never hand it out again
                raise
        results = [WriteResult(r["o_seq"], str(r["o_alert_id"]), r["o_duplicate"]) for r in rows]
        events = [p.event(r.seq) for p, r in zip(batch, results, strict=True) if not r.duplicate]
        return results, events


_APPEND = "SELECT o_seq, o_alert_id, o_duplicate FROM relay_append($1::relay_new_event[])"


def _sorted(values: frozenset[str] | None) -> list[str]:
    return sorted(values) if values is not None else []


def new_events(batch: list[PendingEvent]) -> list[tuple[Any, ...]]:
    """The batch as relay_new_event values (sql/functions/relay_append.sql), in its field
    order. A receipt has no facts: NULL columns, and empty lists as alerts without them.
    An alert is sealed (:mod:`relay.protection.sealing`): its personal fields never reach
    the database in clear."""
    sealer = protection.active().sealer
    rows = []
    for p in batch:
        f = p.facts
        d = f.distribution if f else None
        if p.kind == "alert":
            sealed = p.sealed if isinstance(p.sealed, Sealed) else \
                sealer.seal(p.alert_id, p.body_json, p.body_msgpack)
            body_json, body_msgpack = sealed.body_json, sealed.body_msgpack
            protected: tuple[Any, ...] = (
                CHAIN_V2, sealed.audit_json, sealed.content_digest, sealed.commitments,
                sealed.key_id, sealed.wrapped_key, sealed.personal)
        else:
            body_json, body_msgpack = p.body_json, p.body_msgpack
            protected = (1, None, None, None, None, None, None)
        rows.append((
            p.unit_id, p.key, p.kind, uuid.UUID(p.alert_id), p.origin_unit, p.received_at,
            f.kind if f else None, f.msg_type if f else None, f.status if f else None,
            f.priority if f else None, f.tlp if f else None, d.all if d else None,
            _sorted(d.units if d else None), _sorted(d.countries if d else None),
            _sorted(d.regions if d else None), _sorted(f.airports if f else None),
            _sorted(f.countries if f else None), _sorted(f.commodities if f else None),
            uuid.UUID(f.references) if f and f.references else None,
            p.receipt_status, body_json, body_msgpack, p.origin_relay, p.origin_seq,
            p.alert_relay, *protected,
        ))
    return rows
