"""The sending side of a link: what one peer relay pulling from this one receives.

A peer's link connects to the stream with its federation token and sends
``{"type":"federate","id":...,"since":N}``. :class:`PeerFeed` then sends, in this order:
``federating`` (this relay's id, the peer's scope, the head), the ``directory`` of this
relay's units, every event after ``since`` that the peer may receive (a replay, in
bounded pages), ``caught_up``, then the live events as the hub dispatches them; a
``position`` frame every ``position_seconds`` says up to which seq everything meant for
the peer has been written, and a new ``directory`` follows any change of the units.

Only events that originated here cross (:func:`peer_frame`): an alert with the
audience the peer's scope gives it, a receipt for an alert that originated on the peer.
The replay → live hand-off is the subscribers' (:func:`relay.core.subscription.replay`),
so a peer gets every event once and in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgpack
import orjson
import structlog

from relay.contract.federation import PeerScope, RemoteUnit, audience_for, peer_recipient
from relay.contract.filters import MATCH_ALL
from relay.contract.visibility import Viewer
from relay.core.events import Event
from relay.core.hub import Hub
from relay.core.subscription import Page, ReadRange, Subscription, replay

__all__ = ["FeedIO", "PeerFeed", "PeerSubscription", "crosses", "peer_frame"]

_log = structlog.get_logger("relay.federation.feed")
_NOBODY = Viewer("", "", frozenset())
REPLAY_PAGE = 2000


def _body(event: Event) -> dict[str, Any]:
    if event.body_json is not None:
        value = orjson.loads(event.body_json)
    else:
        assert event.body_msgpack is not None
        value = msgpack.unpackb(event.body_msgpack, raw=False, timestamp=0)
    assert isinstance(value, dict)
    return value


def crosses(event: Event, scope: PeerScope, regions: Mapping[str, frozenset[str]]) -> bool:
    """Whether :func:`peer_frame` would carry ``event`` to ``scope``'s peer, without
    reading its body (a replay filters whole pages with it)."""
    if event.origin_relay is not None:
        return False
    if event.facts is None:
        return event.alert_relay == scope.peer_id
    return audience_for(scope, event.facts, regions) is not None


def peer_frame(event: Event, scope: PeerScope, regions: Mapping[str, frozenset[str]],
               relay_id: str) -> dict[str, Any] | None:
    """The frame that carries ``event`` to the peer of ``scope``, or None when the event
    does not cross: it came from another relay, it is an alert that reaches nobody of the
    scope, or a receipt for an alert that did not originate on that peer."""
    if not crosses(event, scope, regions):
        return None  # never a second hop (no loops), and only to the audience's relay
    if event.facts is None:
        return {"type": "receipt", "seq": event.seq, "receipt": _body(event)}
    audience = audience_for(scope, event.facts, regions)
    assert audience is not None
    body = _body(event)
    body.setdefault("origin_relay", relay_id)  # alerts stored before the relay had an id
    return {"type": "alert", "seq": event.seq, "alert": body, "audience": audience.as_dict()}


class PeerSubscription(Subscription):
    """A subscription whose events are those that cross to one peer."""

    __slots__ = ("_crosses",)

    def __init__(self, *, crosses: Callable[[Event], bool], regions: Mapping[str, frozenset[str]],
                 since: int, hub_head: int) -> None:
        super().__init__(viewer=_NOBODY, filter=MATCH_ALL, regions=regions, since=since,
                         hub_head=hub_head)
        self._crosses = crosses

    def wants(self, event: Event) -> bool:
        return self._crosses(event)


class FeedIO(Protocol):
    """What a feed needs of its connection and of the store."""

    def send(self, frame: dict[str, Any]) -> None: ...

    def buffered_bytes(self) -> int: ...

    def overflow(self) -> None: ...

    async def drain(self, timeout: float) -> bool:
        """Wait until the send buffer is low; False when it did not drain in time."""

    @property
    def open(self) -> bool: ...

    async def read_page(self, after: int, upto: int) -> Page | None: ...

    async def directory(self) -> list[RemoteUnit]: ...

    def delivered(self, seq: int, recipient: str) -> None: ...


class PeerFeed:
    """Everything one peer's link receives, from replay to live (the hub's :class:`Tap`)."""

    def __init__(self, io: FeedIO, *, hub: Hub, scope: PeerScope,
                 scopes: Callable[[str], PeerScope | None], relay_id: str,
                 regions: Mapping[str, frozenset[str]], since: int, position_seconds: float,
                 directory_seconds: float, send_buffer_bytes: int, replay_high_water: int,
                 drain_timeout: float, max_range: int, slots: asyncio.Semaphore | None,
                 on_sent: Callable[[int], None] = lambda count: None) -> None:
        self._io = io
        self._hub = hub
        self.scope = scope
        self._scopes = scopes
        self._relay_id = relay_id
        self._regions = regions
        self._since = since
        self._position_seconds = position_seconds
        self._directory_seconds = directory_seconds
        self._send_buffer_bytes = send_buffer_bytes
        self._high_water = replay_high_water
        self._drain_timeout = drain_timeout
        self._max_range = max_range
        self._slots = slots
        self._on_sent = on_sent
        self.last_seq = 0  # the hub's: the last event given to this tap
        self._written = since  # every event meant for the peer up to here is written
        self._told = since
        self._live = False
        self._directory: list[RemoteUnit] | None = None

    @property
    def recipient(self) -> str:
        return peer_recipient(self.scope.peer_id)

    def frame(self, event: Event) -> dict[str, Any] | None:
        """The event's frame for this peer, decided with its scope as it is now (a new
        directory or grant counts from the next event on); nothing once it is revoked."""
        scope = self._scopes(self.scope.peer_id)
        if scope is None:
            return None
        self.scope = scope
        return peer_frame(event, scope, self._regions, self._relay_id)

    async def run(self, ident: str) -> None:
        """Serve the peer until cancelled (the connection closed, the peer was revoked)."""
        self._io.send({"type": "federating", "id": ident, "relay": self._relay_id,
                       "peer": self.scope.peer_id, "countries": sorted(self.scope.countries),
                       "head": self._hub.head})
        await self._send_directory()
        ticker = asyncio.create_task(self._tick(), name="relay-peer-feed-tick")
        try:
            await self._replay()
            await ticker
        finally:
            ticker.cancel()
            self._hub.detach_tap(self)
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def stop(self) -> None:
        self._hub.detach_tap(self)

    # -- replay then live ---------------------------------------------------------------
    async def _replay(self) -> None:
        def crosses_now(event: Event) -> bool:
            scope = self._scopes(self.scope.peer_id)
            return scope is not None and crosses(event, scope, self._regions)

        subscription = PeerSubscription(crosses=crosses_now,
                                        regions=self._regions, since=self._since,
                                        hub_head=self._hub.head)

        def go_live(seq: int) -> None:
            self._io.send({"type": "caught_up", "seq": seq})
            self.last_seq = seq
            self._written = max(self._written, seq)
            self._live = True
            self._hub.attach_tap(self)

        async def read_page(step: ReadRange) -> Page | None:
            return await self._io.read_page(step.after, step.upto)

        async def deliver(events: list[Event]) -> bool:
            for event in events:
                self._write(event)
                if self._io.buffered_bytes() > self._high_water \
                        and not await self._io.drain(self._drain_timeout):
                    self._io.overflow()
                    return False
            self._written = max(self._written, subscription.cursor)
            return self._io.open

        await replay(subscription, self._hub, read_page=read_page, deliver=deliver,
                     go_live=go_live, max_range=self._max_range, slots=self._slots)

    def take(self, event: Event) -> None:
        """A live event from the hub (in seq order, once each)."""
        if self._io.buffered_bytes() > self._send_buffer_bytes:
            self._hub.detach_tap(self)
            self._io.overflow()
            return
        self._write(event)
        self._written = event.seq

    def _write(self, event: Event) -> None:
        frame = self.frame(event)
        if frame is None:
            return
        self._io.send(frame)
        self._written = event.seq
        self._on_sent(1)
        if event.facts is not None:
            self._io.delivered(event.seq, self.recipient)

    # -- position and directory -----------------------------------------------------------
    async def _tick(self) -> None:
        next_directory = self._directory_seconds
        while self._io.open:
            await asyncio.sleep(self._position_seconds)
            if self._written > self._told:
                self._told = self._written
                self._io.send({"type": "position", "seq": self._told, "head": self._hub.head})
            next_directory -= self._position_seconds
            if next_directory <= 0:
                next_directory = self._directory_seconds
                await self._refresh()

    async def _refresh(self) -> None:
        try:
            await self._send_directory()
        except Exception as exc:  # noqa: BLE001 - store down: the next round tries again
            _log.warning("peer_feed_refresh_failed", error=type(exc).__name__)

    async def _send_directory(self) -> None:
        units = await self._io.directory()
        if units != self._directory:
            self._directory = units
            self._io.send({"type": "directory", "units": [unit.as_dict() for unit in units]})


