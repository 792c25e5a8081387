"""Fan-out: the in-order stream of committed events of this process, and its live subscribers.

Events reach the hub from two sides: the local writer, right after its COMMIT, and the
``relay_events`` notifications of every relay process sharing the database (each
carries the new head seq; the hub reads the events it lacks). Seqs have no gaps, so the
hub knows exactly what is missing: it buffers an event that arrives early and reads the
gap from the database, then dispatches strictly in seq order.

Dispatch never waits on a subscriber (shared/STYLE.md §2): the frame of an event is encoded once
per encoding and written to every recipient's transport without awaiting. A subscriber
whose transport buffer exceeds ``send_buffer_bytes`` is detached and told to close with
4408; it resumes with ``since``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

import structlog

from relay.contract.filters import Filter
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding
from relay.core.events import Event

__all__ = ["FetchRange", "Hub", "Subscriber", "Tap"]

FetchRange = Callable[[int, int], Awaitable[list[Event]]]
_log = structlog.get_logger("relay.hub")


class Subscriber(Protocol):
    """What the hub needs of a live subscription."""

    @property
    def viewer(self) -> Viewer: ...

    @property
    def filter(self) -> Filter: ...

    @property
    def encoding(self) -> Encoding: ...

    last_seq: int

    def buffered_bytes(self) -> int: ...

    def write(self, wire_frame: bytes) -> None:
        """Write a complete WebSocket frame (see :meth:`Event.wire`) without waiting."""

    def overflow(self) -> None: ...


class Tap(Protocol):
    """A live reader of every event in seq order that decides for itself what to do
    with each (a peer relay's link: federation.md). It is given each event once, after
    :attr:`last_seq`, and must not wait."""

    last_seq: int

    def take(self, event: Event) -> None: ...


_LOCAL_COMMIT_WAIT = 1.0  # at most this long a read of others' events waits for our commit


class Hub:
    """Orders events by seq and fans them out to live subscribers."""

    def __init__(
        self,
        *,
        regions: Mapping[str, frozenset[str]],
        fetch_range: FetchRange,
        send_buffer_bytes: int,
        on_delivered: Callable[[int], None] = lambda count: None,
        record_delivery: Callable[[int, Iterable[str]], None] = lambda seq, unit_ids: None,
    ) -> None:
        self.head = 0
        self._regions = regions
        self._fetch_range = fetch_range
        self._send_buffer_bytes = send_buffer_bytes
        self._on_delivered = on_delivered
        self.record_delivery = record_delivery
        self._subscribers: set[Subscriber] = set()
        self._taps: set[Tap] = set()
        self._early: dict[int, Event] = {}
        self._wanted = 0
        self._fetcher: asyncio.Task[None] | None = None
        self._head_changed = asyncio.Event()
        self._local_commits = 0  # this process's commits in flight (its writer's)
        self._no_local_commit = asyncio.Event()
        self._no_local_commit.set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def start_at(self, head: int) -> None:
        """Set the starting point: events up to ``head`` are history, not live."""
        self.head = max(self.head, head)
        self._wanted = max(self._wanted, head)

    def attach(self, subscriber: Subscriber) -> None:
        """Make ``subscriber`` live: it receives every event after ``self.head``."""
        subscriber.last_seq = max(subscriber.last_seq, self.head)
        self._subscribers.add(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def attach_tap(self, tap: Tap) -> None:
        """Like :meth:`attach`, for a tap: it is given every event after ``self.head``."""
        tap.last_seq = max(tap.last_seq, self.head)
        self._taps.add(tap)

    def detach_tap(self, tap: Tap) -> None:
        self._taps.discard(tap)

    def offer(self, events: list[Event]) -> None:
        """Events committed (here or elsewhere); dispatched once all before them are."""
        for event in events:
            if event.seq > self.head:
                self._early.setdefault(event.seq, event)
        if events:
            self.announce(events[-1].seq)
        self._dispatch_ready()

    def commit_started(self) -> None:
        """This process's writer is committing: the events it will :meth:`offer` need
        not be read back from the store (its NOTIFY may come first)."""
        self._local_commits += 1
        self._no_local_commit.clear()

    def commit_finished(self) -> None:
        self._local_commits = max(0, self._local_commits - 1)
        if not self._local_commits:
            self._no_local_commit.set()

    def announce(self, seq: int) -> None:
        """Some process committed up to ``seq``; read what we lack."""
        if seq <= self._wanted:
            return
        self._wanted = seq
        if self._fetcher is None or self._fetcher.done():
            self._fetcher = asyncio.create_task(self._fill_gaps(), name="relay-hub-fill")

    async def wait_head_change(self, timeout: float) -> None:
        """Wait until the head moves (or ``timeout``); replay uses it to catch up."""
        self._head_changed.clear()
        try:
            await asyncio.wait_for(self._head_changed.wait(), timeout)
        except TimeoutError:
            pass

    async def stop(self) -> None:
        if self._fetcher is not None:
            self._fetcher.cancel()
            await asyncio.gather(self._fetcher, return_exceptions=True)

    async def _fill_gaps(self) -> None:
        delay = 0.05
        while self.head < self._wanted:
            if self._local_commits:  # what it commits comes by offer(), without a read
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._no_local_commit.wait(), _LOCAL_COMMIT_WAIT)
                if self.head >= self._wanted:
                    break
            missing_until = min(self._wanted, min(self._early, default=self._wanted + 1) - 1)
            if missing_until <= self.head:
                self._dispatch_ready()
                continue
            try:
                events = await self._fetch_range(self.head, missing_until)
            except Exception as exc:  # noqa: BLE001 - any store failure: retry with backoff
                _log.warning("fanout_fetch_failed", error=type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            for event in events:
                if event.seq > self.head:
                    self._early.setdefault(event.seq, event)
            self._dispatch_ready()
            if not events:
                await asyncio.sleep(0.01)

    def _dispatch_ready(self) -> None:
        moved = False
        while (event := self._early.pop(self.head + 1, None)) is not None:
            self.head = event.seq
            self._dispatch(event)
            moved = True
        if moved:
            self._head_changed.set()

    def _dispatch(self, event: Event) -> None:
        delivered = 0
        verdicts: dict[Viewer, bool] = {}
        recipients: set[str] = set()
        for subscriber in tuple(self._subscribers):
            if event.seq <= subscriber.last_seq:
                continue
            viewer = subscriber.viewer
            visible = verdicts.get(viewer)
            if visible is None:
                visible = verdicts[viewer] = event.visible_to(viewer, self._regions)
            if not visible or (event.facts is not None and not subscriber.filter.matches(event.facts)):
                continue
            if subscriber.buffered_bytes() > self._send_buffer_bytes:
                self._subscribers.discard(subscriber)
                subscriber.overflow()
                continue
            subscriber.last_seq = event.seq
            subscriber.write(event.wire(subscriber.encoding))
            recipients.add(viewer.unit_id)
            delivered += 1
        for tap in tuple(self._taps):
            if event.seq > tap.last_seq:
                tap.last_seq = event.seq
                tap.take(event)
        if delivered:
            self._on_delivered(delivered)
            if event.facts is not None:  # alerts only: receipts are not delivery-recorded
                self.record_delivery(event.seq, recipients)
