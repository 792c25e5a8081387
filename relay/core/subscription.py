"""One subscription, from replay to live, without I/O (protocol.md "Ordering and delivery").

A subscribe with ``since`` first replays the stored events after ``since``, page by page,
up to the hub's head, then goes live: from then on the hub dispatches to it. The hand-off
is the subtlest invariant of the relay: nothing may fall between the last replayed event
and the first live one, and nothing may come twice. :meth:`Subscription.next_step` decides
it: while the replay cursor is behind the hub's head it asks for the range in between;
when the cursor *equals* the hub's head it says :class:`GoLive`, and the caller attaches
the subscription to the hub in the same step of the event loop (no await in between), so
the next event the hub dispatches is exactly the next seq. When the cursor is ahead of the
hub (the client saw a seq that another relay process committed and this one has not
dispatched yet) it says :class:`WaitForHub`.

The hub, for its part, skips every event at or below :attr:`Subscription.last_seq`.
:func:`replay` is the loop that runs those steps; the stream session gives it its I/O
(reading a page, writing events, going live). tests/test_subscription.py drives the real
hub and this loop through random interleavings of commits, dispatches and page reads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from relay.contract.errors import BadFrame
from relay.contract.filters import Filter
from relay.contract.problems import Problem
from relay.contract.visibility import Viewer
from relay.core.events import Event
from relay.core.hub import Hub

__all__ = ["GoLive", "ReadRange", "Subscription", "WaitForHub", "check_since", "replay"]


@dataclass(frozen=True, slots=True)
class ReadRange:
    """Read the stored events with ``after < seq <= upto`` and pass them to :meth:`replayed`."""

    after: int
    upto: int


@dataclass(frozen=True, slots=True)
class GoLive:
    """Send ``caught_up`` with ``seq`` and attach to the hub, now, without awaiting."""

    seq: int


@dataclass(frozen=True, slots=True)
class WaitForHub:
    """The hub is behind the replay: wait until its head moves, then ask again."""


Step = ReadRange | GoLive | WaitForHub


def check_since(since: int, hub_head: int, committed_head: int) -> None:
    """A ``since`` beyond everything committed is a client's mistake (a cursor kept from
    another relay, or a reset database): refused, rather than waiting forever."""
    if since > hub_head and since > committed_head:
        raise BadFrame("since is beyond the newest event of this relay",
                       [Problem("since", "beyond_head", {"head": max(hub_head, committed_head)})])


class Subscription:
    """What one subscribe asked for and how far it has got."""

    __slots__ = ("_cursor", "_regions", "filter", "last_seq", "live", "viewer")

    def __init__(self, *, viewer: Viewer, filter: Filter, regions: Mapping[str, frozenset[str]],
                 since: int | None, hub_head: int) -> None:
        self.viewer = viewer
        self.filter = filter
        self._regions = regions
        # Without since: live from the hub's head at once (only events after "subscribed").
        self.live = since is None
        self._cursor = hub_head if since is None else since
        self.last_seq = self._cursor

    @property
    def cursor(self) -> int:
        """The seq up to which the replay has read (sent or skipped)."""
        return self._cursor

    def next_step(self, hub_head: int, *, max_range: int | None = None) -> Step:
        """What the replay does next, given the hub's current head; a range to read spans
        at most ``max_range`` seqs (so that one query never scans the whole log)."""
        if self.live:
            raise RuntimeError("the subscription is live already")
        if self._cursor < hub_head:
            upto = hub_head if max_range is None else min(hub_head, self._cursor + max_range)
            return ReadRange(self._cursor, upto)
        if self._cursor == hub_head:
            self.live = True
            self.last_seq = self._cursor
            return GoLive(self._cursor)
        return WaitForHub()

    def replayed(self, events: Sequence[Event], step: ReadRange, *, complete: bool) -> list[Event]:
        """A page read for ``step``: the events of it to send, in order. ``complete``:
        the page holds every event of the range (it was not cut by a page limit)."""
        if self.live:
            raise RuntimeError("the subscription is live already")
        wanted = [event for event in events
                  if self._cursor < event.seq <= step.upto and self.wants(event)]
        if complete:
            self._cursor = max(self._cursor, step.upto)
        elif events:
            self._cursor = max(self._cursor, events[-1].seq)
        return wanted

    def wants(self, event: Event) -> bool:
        """Visible to the unit, and (alerts only) passing the filter."""
        return event.visible_to(self.viewer, self._regions) and (
            event.facts is None or self.filter.matches(event.facts))


Page = tuple[list[Event], bool]  # events read, and whether they are all of the range


async def replay(
    subscription: Subscription,
    hub: Hub,
    *,
    read_page: Callable[[ReadRange], Awaitable[Page | None]],
    deliver: Callable[[list[Event]], Awaitable[bool]],
    go_live: Callable[[int], None],
    max_range: int | None = None,
    slots: asyncio.Semaphore | None = None,
    retry_delay: float = 0.5,
) -> None:
    """Replay ``subscription`` from its cursor, then hand it to the hub.

    ``read_page(step)`` reads stored events of the range (and says whether it got them
    all, or the page was cut by its count or size; None: the store failed, and the page is
    read again after ``retry_delay``); ``deliver(events)`` sends them and says whether
    the connection is still open; ``go_live(seq)`` sends ``caught_up`` and attaches to the
    hub, synchronously, which is what keeps the hand-off exact. A page is read and
    delivered holding one of ``slots``, which bounds the replays of a process at once.
    """
    while True:
        step = subscription.next_step(hub.head, max_range=max_range)
        if isinstance(step, GoLive):
            go_live(step.seq)  # no await between the step and the attach
            return
        if isinstance(step, WaitForHub):
            await hub.wait_head_change(0.1)
            continue
        async with slots if slots is not None else contextlib.nullcontext():
            page = await read_page(step)
            if page is not None:
                events, complete = page
                if not await deliver(subscription.replayed(events, step, complete=complete)):
                    return
        if page is None:
            await asyncio.sleep(retry_delay)
