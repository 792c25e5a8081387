"""A link: this relay pulling, over the stream, what one peer relay sends it.

One task per ``[[federation.peers]]``. It connects with the peer's federation token (TLS
where the URL says ``wss``), asks ``federate`` from its cursor, and applies what comes in
batches: each batch's events and the cursor they move go in one transaction
(:func:`relay.store.federation.apply_remote`), so after any crash the link resumes
exactly after what it applied, and an event applied twice is stored once anyway. The
applied events go to the hub like local commits: live subscribers here get them at once.

It reconnects by itself with exponential backoff (with jitter, up to
``reconnect_max_seconds``); a refused token or a peer that is not the relay configured is
logged as ``refused`` and retried at the slowest pace, so that an operator can fix it
without restarting. Frames wait in a queue bounded in count (``apply_batch`` × 2) and in
bytes (:data:`QUEUE_BYTES`): a relay catching up after days holds no more than that, and
TCP pushes back on the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import structlog
import websockets
from websockets.asyncio.client import ClientConnection, connect

from relay.config import FederationConfig, PeerLink
from relay.contract.errors import BadFrame
from relay.contract.federation import parse_directory
from relay.contract.ids import is_alert_id
from relay.contract.wire import Encoding, decode_frame, encode_frame
from relay.core.events import Event, PendingEvent
from relay.federation.inbound import Refused, receipt_alert_id, remote_alert, remote_receipt
from relay.metrics import RelayMetrics
from relay.store import federation as store
from relay.store.eventlog import find_alert
from relay.store.pool import STORE_DOWN_ERRORS

__all__ = ["Link"]

_log = structlog.get_logger("relay.federation.link")
_QUEUE_END = None
# The peer, the network or the database failed: the link goes down and comes back.
_LINK_DOWN: tuple[type[Exception], ...] = (
    *STORE_DOWN_ERRORS, websockets.WebSocketException, BadFrame, asyncpg.PostgresError)
QUEUE_BYTES = 16 * 1024 * 1024  # received frames waiting to be applied, at most


class _FrameQueue:
    """Decoded frames in order, bounded in count and in the bytes they arrived as."""

    def __init__(self, max_frames: int, max_bytes: int) -> None:
        self._frames: asyncio.Queue[tuple[dict[str, Any] | None, int]] = asyncio.Queue(max_frames)
        self._max_bytes = max_bytes
        self._bytes = 0
        self._room = asyncio.Event()
        self._room.set()

    async def put(self, frame: dict[str, Any] | None, size: int) -> None:
        while self._bytes > 0 and self._bytes + size > self._max_bytes:
            self._room.clear()
            await self._room.wait()
        self._bytes += size
        await self._frames.put((frame, size))

    async def get(self) -> dict[str, Any] | None:
        return self._took(await self._frames.get())

    def get_nowait(self) -> dict[str, Any] | None:
        return self._took(self._frames.get_nowait())

    def empty(self) -> bool:
        return self._frames.empty()

    def _took(self, item: tuple[dict[str, Any] | None, int]) -> dict[str, Any] | None:
        frame, size = item
        self._bytes -= size
        self._room.set()
        return frame


class LinkRefused(Exception):
    """The peer refused this relay (token) or is not the relay configured: retried slowly."""


class Link:
    def __init__(self, peer: PeerLink, *, pool: asyncpg.Pool, config: FederationConfig,
                 offer: Callable[[list[Event]], None], metrics: RelayMetrics,
                 max_frame_bytes: int, scopes: store.PeerScopes) -> None:
        self._scopes = scopes
        self.peer = peer
        self._pool = pool
        self._config = config
        self._offer = offer
        self._metrics = metrics
        self._max_frame_bytes = max_frame_bytes
        self._local_units: frozenset[str] = frozenset()
        self._other_units: dict[str, str] = {}  # other peers' units here -> their relay
        self._units_read_at = 0.0
        self._last_applied = time.monotonic()
        self._head_written: int | None = None
        self._up = metrics.federation_link_up.labels(peer=peer.id)
        self._behind = metrics.federation_behind.labels(peer=peer.id)
        self._age = metrics.federation_applied_age.labels(peer=peer.id)
        self._applied = metrics.federation_applied.labels(peer=peer.id)
        self._refused = metrics.federation_refused.labels(peer=peer.id)

    async def run(self) -> None:
        """Keep the link up until cancelled."""
        ticker = asyncio.create_task(self._tick_age())
        delay = 0.5
        try:
            while True:
                started = time.monotonic()
                state, error = "down", None
                try:
                    await self._session()
                except LinkRefused as exc:
                    state, error = "refused", str(exc)
                    delay = self._config.reconnect_max_seconds
                except _LINK_DOWN as exc:
                    error = f"{type(exc).__name__}: {str(exc)[:200]}"
                except Exception as exc:  # noqa: BLE001 - a defect must not stop the relay
                    error = type(exc).__name__
                    _log.error("link_failed", peer=self.peer.id, error=error)
                self._up.set(0)
                _log.warning("link_down", peer=self.peer.id, state=state, error=error)
                with contextlib.suppress(Exception):
                    await store.set_link_state(self._pool, self.peer.id, state, error=error)
                if time.monotonic() - started > 30 and state == "down":
                    delay = 0.5  # it was up for a while: a new outage starts fast
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                delay = min(delay * 2, self._config.reconnect_max_seconds)
        finally:
            ticker.cancel()
            self._up.set(0)
            with contextlib.suppress(Exception):  # the relay stops: say so, without waiting long
                await asyncio.shield(asyncio.wait_for(store.set_link_state(
                    self._pool, self.peer.id, "down", error="this relay stopped"), 2))

    async def _tick_age(self) -> None:
        with contextlib.suppress(Exception):
            row = await self._pool.fetchrow(
                "SELECT extract(epoch FROM now() - applied_at) AS age FROM relay_links"
                " WHERE peer_id = $1", self.peer.id)
            if row is not None and row["age"] is not None:
                self._last_applied = time.monotonic() - float(row["age"])
        while True:
            self._age.set(time.monotonic() - self._last_applied)
            await asyncio.sleep(1.0)

    # -- one connection -----------------------------------------------------------------
    def _ssl(self) -> ssl.SSLContext | None:
        if not self.peer.url.startswith("wss://"):
            return None
        return ssl.create_default_context(cafile=self.peer.ca_file or None)

    async def _session(self) -> None:
        try:
            token = (await asyncio.to_thread(Path(self.peer.token_file).read_text,
                                             encoding="utf-8")).strip()
        except OSError as exc:
            raise LinkRefused(f"cannot read token_file {self.peer.token_file}: {exc.strerror}") from None
        position = await store.link_position(self._pool, self.peer.id)
        try:
            ws = await connect(self.peer.url, additional_headers={"Authorization": f"Bearer {token}"},
                               subprotocols=[Encoding.MSGPACK.value],  # type: ignore[list-item]
                               ssl=self._ssl(), open_timeout=10, max_size=self._max_frame_bytes * 4,
                               compression=None, ping_interval=20, ping_timeout=20)
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise LinkRefused(f"the peer refused the federation token (HTTP {status})") from None
            raise
        async with ws:
            await self._federate(ws, position)

    async def _federate(self, ws: ClientConnection, position: int) -> None:
        welcome = await self._recv(ws, timeout=10)
        if welcome.get("type") != "welcome":
            raise LinkRefused(f"the peer sent {str(welcome.get('type'))[:20]!r}, not welcome")
        await ws.send(encode_frame(Encoding.MSGPACK, {"type": "federate", "id": "link", "since": position}))
        answer = await self._recv(ws, timeout=10)
        if answer.get("type") == "error":
            raise LinkRefused(f"the peer refused to federate: {str(answer.get('message'))[:200]}")
        if answer.get("type") != "federating" or answer.get("relay") != self.peer.id:
            raise LinkRefused(f"the peer is relay {str(answer.get('relay'))[:20]!r},"
                              f" not {self.peer.id}")
        head = answer.get("head") if type(answer.get("head")) is int else None
        await store.set_link_state(self._pool, self.peer.id, "up", peer_head=head)
        self._up.set(1)
        self._report_behind(head, position)
        _log.info("link_up", peer=self.peer.id, since=position, peer_head=head)
        queue = _FrameQueue(self._config.apply_batch * 2, QUEUE_BYTES)
        reader = asyncio.create_task(self._read(ws, queue))
        try:
            await self._apply_loop(queue, position, head)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _recv(self, ws: ClientConnection, timeout: float) -> dict[str, Any]:
        message = await asyncio.wait_for(ws.recv(), timeout)
        return decode_frame(Encoding.MSGPACK, message)

    async def _read(self, ws: ClientConnection, queue: _FrameQueue) -> None:
        try:
            async for message in ws:
                await queue.put(decode_frame(Encoding.MSGPACK, message), len(message))
        except BadFrame as exc:  # the peer speaks no protocol we know: drop the link, retry
            _log.error("peer_frame_refused", peer=self.peer.id, reason=exc.message)
            await ws.close(1002, "bad frame")
        finally:
            await queue.put(_QUEUE_END, 0)

    # -- applying ---------------------------------------------------------------------------
    async def _apply_loop(self, queue: _FrameQueue, position: int,
                          head: int | None) -> None:
        while True:
            frames = [await queue.get()]
            while len(frames) < self._config.apply_batch and not queue.empty():
                frames.append(queue.get_nowait())
            ended = _QUEUE_END in frames
            await self._refresh_local_units(frames)
            taken = await self._stored_alert_ids(frames)
            batch: list[PendingEvent] = []
            moved = position
            for frame in frames:
                if frame is None:
                    break
                kind = frame.get("type")
                if kind in ("alert", "receipt"):
                    seq = frame.get("seq")
                    if type(seq) is not int or seq <= moved:
                        # already applied, or not a seq: never twice (and an honest peer
                        # never sends one: it was asked for what follows the cursor)
                        self._refused.inc()
                        _log.warning("peer_event_out_of_order", peer=self.peer.id,
                                     seq=seq if type(seq) is int else None, cursor=moved)
                        continue
                    pending = await self._convert(frame, taken)
                    if pending is not None:
                        batch.append(pending)
                        if pending.kind == "alert":
                            taken[pending.alert_id] = (self.peer.id, seq)
                    moved = seq
                elif kind in ("position", "caught_up"):
                    seq = frame.get("seq")
                    if type(seq) is int and seq > moved:
                        moved = seq
                    if type(frame.get("head")) is int:
                        head = frame["head"]
                elif kind == "directory":
                    position = await self._commit(batch, moved, head, position)
                    batch = []
                    await self._directory(frame)
                elif kind == "error":
                    _log.warning("link_error_frame", peer=self.peer.id,
                                 code=str(frame.get("code"))[:40])
            position = await self._commit(batch, moved, head, position)
            if ended:
                return

    async def _commit(self, batch: list[PendingEvent], moved: int, head: int | None,
                      position: int) -> int:
        if not batch and moved <= position and head == self._head_written:
            return position
        self._head_written = head
        async with self._pool.acquire() as conn:
            try:
                _, fresh = await store.apply_remote(conn, self.peer.id, batch, moved, head)
            except asyncpg.InternalClientError:
                conn.terminate()  # its protocol state is lost: never hand it out again
                raise
        if fresh:
            self._last_applied = time.monotonic()
            self._applied.inc(len(fresh))
            self._offer(fresh)
        self._report_behind(head, moved)
        return moved

    def _report_behind(self, head: int | None, position: int) -> None:
        if head is not None:
            self._behind.set(max(0, head - position))

    async def _convert(self, frame: dict[str, Any],
                       taken: dict[str, tuple[str | None, int | None]]) -> PendingEvent | None:
        try:
            if frame["type"] == "alert":
                pending = remote_alert(frame, self.peer.id, self._local_units)
                self._not_another_relays_unit(frame["seq"], pending.origin_unit)
                stored = taken.get(pending.alert_id)
                if stored is not None and stored != (self.peer.id, pending.origin_seq):
                    raise Refused(f"event {frame['seq']}: its alert id is already stored here")
                await self._check_reference(frame["seq"], pending)
                return pending  # (the same event stored by another process: stored once)
            alert = await find_alert(self._pool, receipt_alert_id(frame))
            receipt = remote_receipt(frame, self.peer.id, alert, self._local_units)
            self._not_another_relays_unit(frame["seq"], receipt.unit_id)
            return receipt
        except Refused as exc:
            self._refused.inc()
            _log.error("peer_event_refused", peer=self.peer.id, reason=str(exc))
            return None

    def _not_another_relays_unit(self, seq: int, unit_id: str) -> None:
        """A peer speaks only for units that are not known to be another peer's (their
        directories were accepted here): it cannot pass off an alert or a receipt as a
        third relay's."""
        owner = self._other_units.get(unit_id)
        if owner is not None:
            raise Refused(f"event {seq}: its unit is a unit of relay {owner}")

    async def _check_reference(self, seq: int, pending: PendingEvent) -> None:
        """An update or cancel must be of an alert of the same unit at the same relay: a
        peer cannot amend, in the eyes of this relay's units, an alert it did not send
        (one it refers to that never reached this relay is fine)."""
        reference = pending.facts.references if pending.facts is not None else None
        if reference is None:
            return
        original = await find_alert(self._pool, reference)
        if original is not None and (original.origin_relay != self.peer.id
                                     or original.origin_unit != pending.origin_unit):
            raise Refused(f"event {seq}: it amends an alert that is not its unit's")

    async def _refresh_local_units(self, frames: list[dict[str, Any] | None]) -> None:
        """This relay's units (an audience keeps only them; a peer may not speak for one):
        read again every few seconds, and before a batch whose audiences name a unit not
        known (one added since), at most once per batch."""
        def names_unknown(frame: dict[str, Any] | None) -> bool:
            audience = frame.get("audience") if frame is not None else None
            named = audience.get("units", []) if isinstance(audience, dict) else []
            return isinstance(named, list) and any(
                isinstance(unit, str) and unit not in self._local_units for unit in named)

        stale = time.monotonic() - self._units_read_at > 5.0
        if stale or any(names_unknown(frame) for frame in frames):
            self._local_units = await store.local_unit_ids(self._pool)
            self._other_units = {unit.unit_id: relay_id for relay_id, unit
                                 in await store.remote_units(self._pool) if relay_id != self.peer.id}
            self._units_read_at = time.monotonic()

    async def _stored_alert_ids(self, frames: list[dict[str, Any] | None]
                                ) -> dict[str, tuple[str | None, int | None]]:
        """The alerts of this batch whose id is already stored here, with where each came
        from: another event with the same id (forged, or a peer's mistake) is refused; the
        same event (applied by another relay process) is stored once by relay_append."""
        ids = [str(uuid.UUID(alert["alert_id"])) for frame in frames
               if frame is not None and frame.get("type") == "alert"
               and isinstance(alert := frame.get("alert"), dict) and is_alert_id(alert.get("alert_id"))]
        if not ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT alert_id::text, origin_relay, origin_seq FROM relay_events WHERE kind = 'alert'"
            " AND alert_id = ANY($1::uuid[])", ids)
        return {row["alert_id"]: (row["origin_relay"], row["origin_seq"]) for row in rows}

    async def _directory(self, frame: dict[str, Any]) -> None:
        try:
            units = parse_directory(frame)
        except BadFrame as exc:
            _log.error("peer_directory_refused", peer=self.peer.id, reason=exc.message)
            return
        async with self._pool.acquire() as conn:
            result = await store.replace_directory(conn, self.peer.id, units)
        if result.changed:
            await self._scopes.refresh()  # the feeds of this process name the new units at once
        _log.info("peer_directory", peer=self.peer.id, accepted=result.accepted,
                  refused=len(result.refused))
        for unit_id, reason in sorted(result.refused.items())[:50]:
            _log.warning("remote_unit_refused", peer=self.peer.id, unit=unit_id, reason=reason)
