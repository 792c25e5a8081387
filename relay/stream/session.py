"""One stream connection, from authentication to close (protocol.md "Stream transport").

A session authenticates (handshake header, or an ``auth`` first frame within
``auth_timeout``), sends ``welcome``, then reads frames. Each publish or receipt runs in
its own task (at most ``max_in_flight`` at once; past that the session stops reading,
which pushes back on the client). A subscribe replaces the previous subscription: it
replays history from the database page by page, then attaches to the hub in the same
step of the event loop in which it sees that it has reached the hub's head, so nothing
falls between replay and live and nothing comes twice.
"""

from __future__ import annotations

import asyncio
import itertools
import traceback
from datetime import UTC, datetime
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from relay.contract.errors import BadFrame, RelayError, Unavailable
from relay.contract.filters import MATCH_ALL, Filter
from relay.contract.frames import (
    PublishFrame,
    ReceiptFrame,
    SubscribeFrame,
    frame_id,
    parse_auth_frame,
    parse_client_frame,
)
from relay.contract.problems import Problem
from relay.contract.roles import Action, require
from relay.contract.times import rfc3339
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding, decode_frame, encode_frame
from relay.runtime import Runtime
from relay.store.eventlog import fetch_events, read_head
from relay.store.units import Principal, authenticate

__all__ = ["CLOSE_TOO_SLOW", "CLOSE_UNAUTHORIZED", "Session"]

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
REPLAY_PAGE = 2000
REPLAY_HIGH_WATER = 262_144
_INTERNAL = "the relay could not process this frame; nothing was stored, retry later"
_connection_ids = itertools.count(1)
_log = structlog.get_logger("relay.session")


def _defect(exc: Exception) -> dict[str, str]:
    """Where a defect happened, without its message (which could quote personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return {"error": type(exc).__name__, "at": where}


class Session:
    """The state of one connection; it is also the hub's ``Subscriber`` for it."""

    def __init__(self, ws: ServerConnection, runtime: Runtime, encoding: Encoding,
                 principal: Principal | None) -> None:
        self.ws = ws
        self.runtime = runtime
        self.encoding = encoding
        self.principal = principal
        self.conn_id = next(_connection_ids)
        self.filter: Filter = MATCH_ALL
        self.last_seq = 0
        self.viewer = Viewer("", "", frozenset())
        self._replay: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(runtime.config.stream.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the hub's Subscriber protocol ------------------------------------------------
    def buffered_bytes(self) -> int:
        transport = self.ws.transport
        return 0 if transport is None else transport.get_write_buffer_size()

    def write(self, wire_frame: bytes) -> None:
        # The frame is complete and unfragmented, and compression is off, so the bytes
        # go straight to the transport; frames written through websockets (acks, pings,
        # close) are whole frames too, so the two never interleave within a frame.
        if self.ws.protocol.state is State.OPEN:
            self.ws.transport.write(wire_frame)

    def overflow(self) -> None:
        self.runtime.metrics.slow_consumers.inc()
        _log.warning("slow_consumer_closed", unit=self.viewer.unit_id, conn=self.conn_id,
                     buffered=self.buffered_bytes())
        self._spawn(self.ws.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume with since"))

    # -- lifecycle --------------------------------------------------------------------
    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(conn=self.conn_id)
        principal = self.principal or await self._authenticate_in_band()
        if principal is None:
            return
        self.principal = principal
        self.viewer = principal.viewer
        structlog.contextvars.bind_contextvars(unit=principal.unit.unit_id)
        self.runtime.sessions.add(self)
        self.runtime.metrics.open_connections.inc()
        _log.info("connection_open", encoding=self.encoding.value)
        try:
            self.send_now({
                "type": "welcome", "unit": principal.unit.unit_id,
                "roles": sorted(principal.unit.roles), "head": await self._committed_head(),
                "protocol": "relay.v1", "server_time": rfc3339(datetime.now(UTC)),
            })
            await self._read_loop()
        finally:
            self._teardown()
            _log.info("connection_close", code=self.ws.close_code, reason=self.ws.close_reason)

    async def _authenticate_in_band(self) -> Principal | None:
        timeout = self.runtime.config.stream.auth_timeout
        try:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
        except TimeoutError:
            await self.ws.close(CLOSE_UNAUTHORIZED, "no auth frame within the time allowed")
            return None
        except ConnectionClosed:
            return None
        try:
            token = parse_auth_frame(decode_frame(self.encoding, message)).token
            principal = await authenticate(self.runtime.pool, token)
        except RelayError as exc:
            await self.ws.close(CLOSE_UNAUTHORIZED, f"authentication failed: {exc.message}"[:120])
            return None
        except Exception as exc:  # noqa: BLE001 - store down: the client may retry later
            _log.warning("auth_lookup_failed", error=type(exc).__name__)
            await self.ws.close(1013, "the store is unavailable; retry later")
            return None
        if principal is None:
            _log.info("auth_refused", how="frame")
            await self.ws.close(CLOSE_UNAUTHORIZED, "invalid or revoked token")
        return principal

    def _teardown(self) -> None:
        self.runtime.hub.detach(self)
        self.runtime.sessions.discard(self)
        self.runtime.metrics.open_connections.dec()
        if self._replay is not None:
            self._replay.cancel()
        for task in self._tasks:
            task.cancel()

    def revoke(self) -> None:
        """The token or the unit was revoked: stop serving at once, close with 4401."""
        self.runtime.hub.detach(self)
        if self._replay is not None:
            self._replay.cancel()
        self._spawn(self.ws.close(CLOSE_UNAUTHORIZED, "token revoked"))

    # -- frames -------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            await self._read_frames()
        except ConnectionClosed:
            pass  # the close code is logged by connection_close

    async def _read_frames(self) -> None:
        async for message in self.ws:
            if self.runtime.revoked(self):
                return
            frame: dict[str, Any] | None = None
            try:
                frame = decode_frame(self.encoding, message)
                request = parse_client_frame(frame)
                if isinstance(request, SubscribeFrame):
                    self._subscribe(request)
                    continue
                await self._in_flight.acquire()
                self._spawn(self._handle_write(request), release=True)
            except RelayError as exc:
                self.send_error(exc, frame_id(frame) if frame else None)
            except Exception as exc:  # noqa: BLE001 - a defect must not end the connection
                _log.error("frame_failed", **_defect(exc))
                self.send_error(Unavailable(_INTERNAL), frame_id(frame) if frame else None)

    async def _handle_write(self, request: PublishFrame | ReceiptFrame) -> None:
        assert self.principal is not None
        if self.runtime.shutting_down:
            self.send_error(Unavailable("the relay is shutting down; retry"), request.id)
            return
        try:
            if isinstance(request, PublishFrame):
                result = await self.runtime.publisher.publish(self.principal, request.id, request.alert)
            else:
                result = await self.runtime.publisher.receipt(self.principal, request)
        except RelayError as exc:
            self.send_error(exc, request.id)
            return
        except Exception as exc:  # noqa: BLE001 - a defect: answer, log, keep the connection
            _log.error("write_failed", **_defect(exc))
            self.send_error(Unavailable(_INTERNAL), request.id)
            return
        _log.info("published" if isinstance(request, PublishFrame) else "receipt",
                  seq=result.seq, alert_id=result.alert_id, duplicate=result.duplicate)
        self.send_now({"type": "ack", "id": request.id, "alert_id": result.alert_id,
                       "seq": result.seq, "duplicate": result.duplicate})

    def _subscribe(self, request: SubscribeFrame) -> None:
        require(self.viewer.unit_id, self.viewer.roles, Action.SUBSCRIBE)
        hub = self.runtime.hub
        hub.detach(self)
        if self._replay is not None:
            self._replay.cancel()
            self._replay = None
        self.filter = request.filter
        if request.since is None:
            # Synchronous from reply to attach: no event of this subscription precedes it.
            self.send_now({"type": "subscribed", "id": request.id, "head": hub.head})
            self.last_seq = hub.head
            hub.attach(self)
        else:
            self._replay = asyncio.create_task(self._replay_then_attach(request.id, request.since))

    async def _committed_head(self) -> int:
        """The highest committed seq (the database's), or the hub's if the store is down."""
        try:
            return await read_head(self.runtime.pool)
        except Exception:  # noqa: BLE001 - store down: the hub's head is the best we know
            return self.runtime.hub.head

    async def _replay_then_attach(self, ident: str, since: int) -> None:
        hub = self.runtime.hub
        if since > hub.head and since > await self._committed_head():
            self.send_error(BadFrame(
                "since is beyond the newest event of this relay",
                [Problem("since", "beyond_head", {"head": hub.head})]), ident)
            return
        self.send_now({"type": "subscribed", "id": ident, "head": hub.head})
        self.last_seq = cursor = since
        while True:
            target = hub.head
            while cursor < target:
                cursor = await self._replay_page(cursor, target)
                if self.ws.protocol.state is not State.OPEN:
                    return
            if hub.head == cursor:
                # No await between this check and attach: nothing can slip in between.
                self.send_now({"type": "caught_up", "seq": cursor})
                self.last_seq = cursor
                hub.attach(self)
                return
            if hub.head < cursor:
                # The client saw a seq that another relay process committed and this one
                # has not dispatched yet: it will within milliseconds.
                await hub.wait_head_change(0.1)

    async def _replay_page(self, cursor: int, target: int) -> int:
        """Send one page of history after ``cursor``; return the new cursor."""
        try:
            events = await fetch_events(self.runtime.pool, cursor, target, REPLAY_PAGE)
        except Exception as exc:  # noqa: BLE001 - store down: wait and retry
            _log.warning("replay_read_failed", error=type(exc).__name__)
            await asyncio.sleep(0.5)
            return cursor
        regions = self.runtime.config.regions
        sent = 0
        for event in events:
            if event.visible_to(self.viewer, regions) and (
                event.facts is None or self.filter.matches(event.facts)
            ):
                self.write(event.wire(self.encoding))
                if event.facts is not None:
                    self.runtime.hub.record_delivery(event.seq, (self.viewer.unit_id,))
                sent += 1
                if self.buffered_bytes() > REPLAY_HIGH_WATER:
                    await self.ws.drain()  # back-pressure: the client reads at its pace
        self.runtime.metrics.replayed.inc(sent)
        return events[-1].seq if events else target

    # -- sending ------------------------------------------------------------------------
    def send_now(self, frame: dict[str, Any]) -> None:
        """Write a frame without waiting, in order with the hub's writes.

        A client that does not read its replies is a slow consumer like any other: past
        ``send_buffer_bytes`` it is closed with 4408 rather than buffered without bound.
        """
        if self.buffered_bytes() > self.runtime.config.stream.send_buffer_bytes:
            if self.ws.protocol.state is State.OPEN:
                self.runtime.hub.detach(self)
                self.overflow()
            return
        broadcast([self.ws], encode_frame(self.encoding, frame))

    def send_error(self, exc: RelayError, ident: str | None) -> None:
        self.runtime.metrics.errors.labels(code=exc.code).inc()
        _log.info("error_sent", code=exc.code, problems=len(exc.details))
        self.send_now(exc.body(ident))

    def _spawn(self, coro: Any, *, release: bool = False) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if release:
                self._in_flight.release()
            if not finished.cancelled() and finished.exception() is not None:
                _log.error("session_task_failed", error=repr(finished.exception()))

        task.add_done_callback(done)
