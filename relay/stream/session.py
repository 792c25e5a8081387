"""One stream connection's I/O, from authentication to close (protocol.md "Stream transport").

The protocol decisions are :class:`relay.core.connection.StreamConnection`'s (in-band
auth, in-flight slots, which frame means what) and
:class:`relay.core.subscription.Subscription`'s (replay → live); a session reads frames,
runs each publish or receipt in its own task, reads replay pages from the store, writes
through :class:`relay.stream.transport.Transport`, and is the hub's ``Subscriber`` for its
connection while a subscription is live.
"""

from __future__ import annotations

import asyncio
import itertools
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from relay.config import FederationConfig, StreamConfig
from relay.contract.errors import BadFrame, RelayError, Unavailable
from relay.contract.federation import RemoteUnit
from relay.contract.filters import MATCH_ALL, Filter
from relay.contract.frames import (
    CLOSE_ROLES_CHANGED,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
    FederateFrame,
    PublishFrame,
    ReceiptFrame,
    SubscribeFrame,
    frame_id,
)
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding, decode_frame
from relay.core.connection import Phase, StreamConnection
from relay.core.connections import Connections
from relay.core.events import Event
from relay.core.hub import Hub
from relay.core.principals import Principal
from relay.core.publishing import Publisher
from relay.core.subscription import Page, ReadRange, Subscription, check_since, replay
from relay.federation.outbound import PeerFeed
from relay.metrics import RelayMetrics
from relay.store.federation import PeerScopes
from relay.store.storage import Storage
from relay.stream.guard import GuardedConnection
from relay.stream.transport import Transport

__all__ = ["REPLAY_HIGH_WATER", "REPLAY_PAGE", "Session", "StreamServices", "client_address"]

REPLAY_PAGE = 2000
REPLAY_HIGH_WATER = 262_144
_INTERNAL = "the relay could not process this frame; nothing was stored, retry later"
_NOBODY = Viewer("", "", frozenset())
_connection_ids = itertools.count(1)
_log = structlog.get_logger("relay.session")


@dataclass(frozen=True, eq=False)
class StreamServices:
    """What the sessions of one relay process share, passed by the composition root."""

    config: StreamConfig
    regions: Mapping[str, frozenset[str]]
    hub: Hub
    storage: Storage
    publisher: Publisher
    connections: Connections
    metrics: RelayMetrics
    record_delivery: Callable[[int, Iterable[str]], None]
    replay_slots: asyncio.Semaphore
    relay_id: str | None = None
    peer_scopes: PeerScopes | None = None
    federation: FederationConfig = field(default_factory=FederationConfig)


def _defect(exc: Exception) -> dict[str, str]:
    """Where a defect happened, without its message (which could quote personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return {"error": type(exc).__name__, "at": where}


def _log_replay_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        assert isinstance(exc, Exception)
        _log.error("replay_failed", **_defect(exc))


def client_address(ws: ServerConnection) -> str:
    """``host:port`` of the client as the socket sees it (behind a proxy: the proxy's), so
    that a refused token can be traced to the terminal that sent it."""
    peer = ws.remote_address
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"[{peer[0]}]:{peer[1]}" if ":" in str(peer[0]) else f"{peer[0]}:{peer[1]}"
    return "local"


class _FeedIO:
    """A peer feed's view of its session and of the store."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def send(self, frame: dict[str, Any]) -> None:
        self._session.send(frame)

    def buffered_bytes(self) -> int:
        return self._session.buffered_bytes()

    def overflow(self) -> None:
        self._session.overflow()

    async def drain(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._session.transport.drain(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def open(self) -> bool:
        return self._session.transport.open

    async def read_page(self, after: int, upto: int) -> Page | None:
        try:
            return await self._session.services.storage.outbound_page(
                after=after, upto=upto, limit=REPLAY_PAGE,
                max_bytes=self._session.services.config.replay_page_bytes)
        except Exception as exc:  # noqa: BLE001 - store down: the replay waits and retries
            _log.warning("replay_read_failed", error=type(exc).__name__)
            return None

    async def directory(self) -> list[RemoteUnit]:
        return await self._session.services.storage.local_directory()

    def delivered(self, seq: int, recipient: str) -> None:
        self._session.services.record_delivery(seq, (recipient,))


class Session:
    """The I/O of one connection; the hub's ``Subscriber`` while its subscription is live."""

    def __init__(self, ws: ServerConnection, services: StreamServices, encoding: Encoding,
                 principal: Principal | None) -> None:
        self.ws = ws
        self.services = services
        self.encoding = encoding
        self.transport = Transport(ws, encoding, send_buffer_bytes=services.config.send_buffer_bytes)
        self.state = StreamConnection(max_in_flight=services.config.max_in_flight,
                                      regions=services.regions, principal=principal)
        self.conn_id = next(_connection_ids)
        self._slot_free = asyncio.Event()
        self._replay: asyncio.Task[None] | None = None
        self._feed: PeerFeed | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the hub and the connection registry read ----------------------------------
    @property
    def principal(self) -> Principal | None:
        return self.state.principal

    @property
    def peer_id(self) -> str:
        principal = self.state.principal
        return (principal.peer_id or "") if principal is not None else ""

    @property
    def viewer(self) -> Viewer:
        subscription = self.state.subscription
        return subscription.viewer if subscription is not None else _NOBODY

    @property
    def filter(self) -> Filter:
        subscription = self.state.subscription
        return subscription.filter if subscription is not None else MATCH_ALL

    @property
    def last_seq(self) -> int:
        subscription = self.state.subscription
        return subscription.last_seq if subscription is not None else 0

    @last_seq.setter
    def last_seq(self, seq: int) -> None:
        if self.state.subscription is not None:
            self.state.subscription.last_seq = seq

    def buffered_bytes(self) -> int:
        return self.transport.buffered_bytes()

    def write(self, wire_frame: bytes) -> None:
        self.transport.write_prepared(wire_frame)

    def overflow(self) -> None:
        """Past the send buffer bound: detached, closed with 4408, resumes with since."""
        self.services.hub.detach(self)
        self._stop_feed()
        self.services.metrics.slow_consumers.inc()
        _log.warning("slow_consumer_closed", unit=self.viewer.unit_id, conn=self.conn_id,
                     buffered=self.buffered_bytes())
        self._spawn(self.ws.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume with since"))

    def revoke(self) -> None:
        """The token or the unit was revoked: stop serving at once, close with 4401."""
        self.services.hub.detach(self)
        self._stop_feed()
        self._cancel_replay()
        self._spawn(self.ws.close(CLOSE_UNAUTHORIZED, "token revoked"))

    def reconnect(self) -> None:
        """The unit's roles changed: close with 1012 so that the client reconnects and
        authenticates again, with the new roles."""
        self.services.hub.detach(self)
        self._stop_feed()
        self._cancel_replay()
        self._spawn(self.ws.close(CLOSE_ROLES_CHANGED, "the unit's roles changed: reconnect"))

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(conn=self.conn_id, client=client_address(self.ws))
        if self.state.phase is Phase.AUTHENTICATING:
            principal = await self._authenticate_in_band()
            if principal is None:
                return
        else:
            assert self.state.principal is not None
            principal = self.state.principal
        structlog.contextvars.bind_contextvars(unit=principal.unit.unit_id)
        self.services.connections.add(self)
        self.services.metrics.open_connections.inc()
        _log.info("connection_open", encoding=self.encoding.value, token_id=principal.public_id)
        try:
            self.send(self.state.authenticated(principal, head=await self._committed_head(),
                                               now=datetime.now(UTC)))
            await self._read_loop()
        finally:
            self._teardown()
            _log.info("connection_close", code=self.ws.close_code, reason=self.ws.close_reason)

    async def _authenticate_in_band(self) -> Principal | None:
        try:
            message = await asyncio.wait_for(self.ws.recv(), self.services.config.auth_timeout)
        except TimeoutError:
            await self.ws.close(CLOSE_UNAUTHORIZED, "no auth frame within the time allowed")
            return None
        except ConnectionClosed:
            return None
        try:
            token = self.state.auth_token(decode_frame(self.encoding, message))
            principal = await self.services.storage.authenticate(token)
        except RelayError as exc:
            _log.info("auth_refused", how="bad_auth_frame", code=exc.code)
            await self.ws.close(CLOSE_UNAUTHORIZED, f"authentication failed: {exc.message}"[:120])
            return None
        except Exception as exc:  # noqa: BLE001 - store down: the client may retry later
            _log.warning("auth_lookup_failed", error=type(exc).__name__)
            await self.ws.close(1013, "the store is unavailable; retry later")
            return None
        if principal is None:
            _log.info("auth_refused", how="frame")
            await self.ws.close(CLOSE_UNAUTHORIZED, "invalid or revoked token")
        elif isinstance(self.ws, GuardedConnection):
            self.ws.authenticated()  # full-size frames from now on
        return principal

    def _teardown(self) -> None:
        self.services.hub.detach(self)
        self._stop_feed()
        self.services.connections.discard(self)
        self.services.metrics.open_connections.dec()
        self.state.close()
        self._cancel_replay()
        for task in self._tasks:
            task.cancel()

    # -- frames ---------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                while not self.state.reading:  # every in-flight slot taken: stop reading
                    self._slot_free.clear()
                    await self._slot_free.wait()
                message = await self.ws.recv()
                if self.services.connections.is_revoked(self.state.principal):
                    return
                self._handle(message)
        except ConnectionClosed:
            pass  # the close code is logged by connection_close

    def _handle(self, message: str | bytes) -> None:
        frame: dict[str, Any] | None = None
        try:
            frame = decode_frame(self.encoding, message)
            request = self.state.receive(frame)
            if isinstance(request, SubscribeFrame):
                self._subscribe(request)
            elif isinstance(request, FederateFrame):
                self._federate(request)
            else:
                self._spawn(self._handle_write(request), in_flight=True)
        except RelayError as exc:
            self.send_error(exc, frame_id(frame) if frame else None)
        except Exception as exc:  # noqa: BLE001 - a defect must not end the connection
            _log.error("frame_failed", **_defect(exc))
            self.send_error(Unavailable(_INTERNAL), frame_id(frame) if frame else None)

    async def _handle_write(self, request: PublishFrame | ReceiptFrame) -> None:
        principal = self.state.principal
        assert principal is not None
        if self.services.connections.stopping:
            self.send_error(Unavailable("the relay is shutting down; retry"), request.id)
            return
        publisher = self.services.publisher
        try:
            if isinstance(request, PublishFrame):
                result = await publisher.publish(principal, request.id, request.alert)
            else:
                result = await publisher.receipt(principal, request)
        except RelayError as exc:
            self.send_error(exc, request.id)
            return
        except Exception as exc:  # noqa: BLE001 - a defect: answer, log, keep the connection
            _log.error("write_failed", **_defect(exc))
            self.send_error(Unavailable(_INTERNAL), request.id)
            return
        _log.info("published" if isinstance(request, PublishFrame) else "receipt",
                  seq=result.seq, alert_id=result.alert_id, duplicate=result.duplicate)
        self.send({"type": "ack", "id": request.id, "alert_id": result.alert_id,
                   "seq": result.seq, "duplicate": result.duplicate})

    # -- subscriptions ----------------------------------------------------------------------
    def _subscribe(self, request: SubscribeFrame) -> None:
        hub = self.services.hub
        hub.detach(self)
        self._cancel_replay()
        subscription = self.state.subscribe(request, hub_head=hub.head)
        if request.since is None:
            # Synchronous from reply to attach: no event of this subscription precedes it.
            self.send({"type": "subscribed", "id": request.id, "head": hub.head})
            hub.attach(self)
        else:
            self._replay = asyncio.create_task(self._replay_then_attach(request, subscription))
            self._replay.add_done_callback(_log_replay_failure)

    async def _replay_then_attach(self, request: SubscribeFrame, subscription: Subscription) -> None:
        hub = self.services.hub
        assert request.since is not None
        try:
            check_since(request.since, hub.head,
                        await self._committed_head() if request.since > hub.head else hub.head)
        except RelayError as exc:
            self.send_error(exc, request.id)
            return
        self.send({"type": "subscribed", "id": request.id, "head": hub.head})

        def go_live(seq: int) -> None:
            self.send({"type": "caught_up", "seq": seq})
            hub.attach(self)

        def read_page(step: ReadRange) -> Awaitable[Page | None]:
            return self._read_page(subscription, step)

        await replay(subscription, hub, read_page=read_page, deliver=self._deliver_replayed,
                     go_live=go_live, max_range=self.services.config.replay_scan_events,
                     slots=self.services.replay_slots)

    async def _read_page(self, subscription: Subscription, step: ReadRange) -> Page | None:
        """The events of the range the unit may see and wants, as the database chooses
        them: an invisible event costs this connection nothing."""
        config = self.services.config
        try:
            return await self.services.storage.replay_page(
                viewer=subscription.viewer, filter=subscription.filter,
                regions=self.services.regions, after=step.after, upto=step.upto,
                limit=REPLAY_PAGE, max_bytes=config.replay_page_bytes, encoding=self.encoding)
        except Exception as exc:  # noqa: BLE001 - store down: the replay waits and retries
            _log.warning("replay_read_failed", error=type(exc).__name__)
            return None

    async def _deliver_replayed(self, events: list[Event]) -> bool:
        """Write replayed events, pacing on the client; False once the link is closed."""
        unit_id = self.viewer.unit_id
        for event in events:
            self.write(event.wire(self.encoding))
            if event.facts is not None:
                self.services.record_delivery(event.seq, (unit_id,))
            if self.buffered_bytes() > REPLAY_HIGH_WATER:
                # Back-pressure: the client reads at its pace, but not holding a replay
                # slot for ever: past the drain timeout it is a slow consumer (4408).
                try:
                    await asyncio.wait_for(self.transport.drain(),
                                           self.services.config.replay_drain_timeout)
                except TimeoutError:
                    self.overflow()
                    return False
        self.services.metrics.replayed.inc(len(events))
        return self.transport.open

    async def _committed_head(self) -> int:
        """The highest committed seq (the database's), or the hub's if the store is down."""
        try:
            return await self.services.storage.head()
        except Exception:  # noqa: BLE001 - store down: the hub's head is the best we know
            return self.services.hub.head

    def _cancel_replay(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
            self._replay = None

    # -- a peer relay pulling from this one (federation.md) -----------------------------------
    def _federate(self, request: FederateFrame) -> None:
        if self._feed is not None or (self._replay is not None and not self._replay.done()):
            raise BadFrame("this link is federating already; reconnect to start again")
        relay_id = self.services.relay_id
        if relay_id is None:
            raise Unavailable("this relay has no [relay] id yet: its operator must set one")
        self._replay = asyncio.create_task(self._run_feed(request, relay_id))
        self._replay.add_done_callback(_log_replay_failure)

    async def _run_feed(self, request: FederateFrame, relay_id: str) -> None:
        hub, services = self.services.hub, self.services
        assert services.peer_scopes is not None
        try:
            check_since(request.since, hub.head,
                        await self._committed_head() if request.since > hub.head else hub.head)
            await services.peer_scopes.refresh()
        except RelayError as exc:
            self.send_error(exc, request.id)
            return
        scope = services.peer_scopes.get(self.peer_id)
        if scope is None:  # revoked between the handshake and now
            self.revoke()
            return
        self._feed = PeerFeed(
            _FeedIO(self), hub=hub, scope=scope, scopes=services.peer_scopes.get, relay_id=relay_id, regions=services.regions,
            since=request.since, position_seconds=services.federation.position_seconds,
            directory_seconds=services.federation.directory_seconds,
            send_buffer_bytes=services.config.send_buffer_bytes,
            replay_high_water=REPLAY_HIGH_WATER, drain_timeout=services.config.replay_drain_timeout,
            max_range=services.config.replay_scan_events, slots=services.replay_slots,
            on_sent=services.metrics.federation_sent.labels(peer=scope.peer_id).inc)
        _log.info("peer_feed_open", peer=scope.peer_id, since=request.since)
        await self._feed.run(request.id)

    def _stop_feed(self) -> None:
        if self._feed is not None:
            self._feed.stop()

    # -- sending ----------------------------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        """Write a reply without waiting, in order with the hub's writes.

        A client that does not read its replies is a slow consumer like any other: past
        ``send_buffer_bytes`` it is closed with 4408 rather than buffered without bound.
        """
        if not self.transport.send(frame) and self.transport.open:
            self.overflow()

    def send_error(self, exc: RelayError, ident: str | None) -> None:
        self.services.metrics.errors.labels(code=exc.code).inc()
        _log.info("error_sent", code=exc.code, problems=len(exc.details))
        self.send(exc.body(ident))

    def _spawn(self, coro: Any, *, in_flight: bool = False) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if in_flight:
                self.state.write_done()
                self._slot_free.set()
            if not finished.cancelled() and finished.exception() is not None:
                _log.error("session_task_failed", error=repr(finished.exception()))

        task.add_done_callback(done)
