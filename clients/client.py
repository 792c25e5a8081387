"""The async client library: a connection that comes back by itself.

::

    async with RelayClient("wss://relay.example/v1/stream", token) as client:
        ack = await client.publish(alert, key="bko-2026-0001")        # resent until acked
        async for event in client.feed(cursor=CursorFile(path)):      # resumes after drops
            ...
        await client.receipt(alert_id, "positive", note="courier stopped at gate 4")

What it guarantees, by following protocol.md ("Ordering", "Idempotency"):

- **Reconnect** with exponential backoff and full jitter whenever the connection is lost
  or cannot be opened; a refused token (:class:`AuthenticationFailed`) and a certificate
  the terminal does not trust (:class:`CertificateRejected`) are never retried.
- **Publish and receipts are resent with the same id** until an ``ack`` or a final
  error arrives, so the relay stores each once however often the link drops.
- **The feed resumes** from the last seq it handed out, with ``since``, on every new
  connection, and drops any event whose seq it has already handed out; with a
  :class:`~clients.cursor.CursorFile` that seq is kept on disk across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from clients.backoff import Backoff
from clients.connection import (
    AuthenticationFailed,
    CertificateRejected,
    ClientError,
    Connection,
    EncodingName,
    Rejected,
    RelayUnreachable,
)
from clients.cursor import CursorFile
from clients.i18n import Translator, register

__all__ = ["Ack", "GaveUp", "Notice", "RelayClient", "receipt_key", "token_digest"]

register({
    "notice.connected": ("connected to the relay as {unit}", "connecté au relais en tant que {unit}"),
    "notice.waiting": ("relay unreachable ({why}); retrying in {delay:.1f} s",
                       "relais injoignable ({why}) ; nouvel essai dans {delay:.1f} s"),
    "notice.lost": ("connection lost ({why}); reconnecting", "connexion perdue ({why}) ; reconnexion"),
})

# A handed-out seq is written to the cursor file at once; fsync at most this often.
_DURABLE_EVERY: Final = 1.0


def receipt_key(alert_id: str, status: str, note: str | None) -> str:
    """The idempotency key of a receipt: one per (alert, status, note), at most 64 characters."""
    digest = hashlib.sha256((note or "").encode()).hexdigest()[:12]
    return f"{status}-{alert_id}-{digest}"[:64]


def token_digest(token: str) -> str:
    """A stand-in for a token where it must be recognised but not kept (an outbox entry):
    SHA-256 of it, hex. A token is 256 random bits, so the digest cannot be reversed."""
    return hashlib.sha256(f"relay-token:{token}".encode()).hexdigest()


class GaveUp(RelayUnreachable):
    """No ack within the caller's deadline; the frame may still be pending: resend later.
    Its reason is that of the last failure."""

    @classmethod
    def after(cls, error: ClientError) -> GaveUp:
        return cls(error.reason, **error.params)


@dataclass(frozen=True)
class Notice:
    """What the connection is doing, for ``on_state``: ``connected`` (as ``unit``),
    ``waiting`` (``error`` made the last attempt fail; the next in ``delay`` seconds) or
    ``lost`` (``error`` ended the connection; reconnecting)."""

    state: Literal["connected", "waiting", "lost"]
    unit: str = ""
    error: ClientError | None = None
    delay: float = 0.0

    def describe(self, t: Translator) -> str:
        why = self.error.describe(t) if self.error is not None else ""
        return t(f"notice.{self.state}", unit=self.unit, why=why, delay=self.delay)

    def __str__(self) -> str:
        return self.describe(Translator("en"))


@dataclass(frozen=True)
class Ack:
    """The relay's promise that a publish or receipt is stored (protocol.md, publish)."""

    seq: int
    alert_id: str
    duplicate: bool


class RelayClient:
    """Publishes, receipts and one live feed over a connection that reconnects itself."""

    def __init__(self, url: str, token: str, *, encoding: EncodingName = "json",
                 backoff: Backoff | None = None, open_timeout: float = 10.0,
                 reply_timeout: float = 30.0, tls: ssl.SSLContext | None = None,
                 on_state: Callable[[Notice], None] | None = None) -> None:
        self.url = url
        self._token = token
        self.token_digest = token_digest(token)
        self.encoding: EncodingName = encoding
        self.tls = tls
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self.reply_timeout = reply_timeout
        self._on_state = on_state or (lambda notice: None)
        self._connection: Connection | None = None
        self._connecting = asyncio.Lock()
        self._closed = False
        # The feed's position: resubscribe from here after every reconnect.
        self._feeding = False
        self._filter: dict[str, Any] | None = None
        self.position: int | None = None
        self.welcome: dict[str, Any] = {}

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            await self._connection.close()

    # -- connecting -------------------------------------------------------------

    async def connect(self) -> Connection:
        """One attempt: the open connection, or RelayUnreachable / AuthenticationFailed."""
        return await self._connect(self.open_timeout)

    async def _connect(self, timeout: float) -> Connection:
        async with self._connecting:
            current = self._connection
            if current is not None and not current.closed:
                return current
            connection = await Connection.open(self.url, self._token, encoding=self.encoding,
                                               timeout=timeout, tls=self.tls)
            self.welcome = connection.welcome
            self._connection = connection
            self._on_state(Notice("connected", unit=connection.unit))
            if self._feeding:
                # A refusal is the feed's to raise (it subscribes again itself), never
                # that of the publish or receipt that happened to open the connection.
                with contextlib.suppress(Rejected):
                    await self._subscribe(connection)
            return connection

    async def wait_connected(self, *, give_up_after: float | None = None) -> Connection:
        """The open connection, reconnecting with backoff; :class:`GaveUp` after
        ``give_up_after`` seconds, :class:`AuthenticationFailed` and
        :class:`CertificateRejected` at once."""
        deadline = None if give_up_after is None else time.monotonic() + give_up_after
        return await self._connected(deadline)

    async def _connected(self, deadline: float | None) -> Connection:
        """Connect, retrying with backoff until ``deadline`` (monotonic) if there is one."""
        while True:
            if self._closed:
                raise RelayUnreachable("client_closed")
            try:
                connection = await self._connect(self._within(self.open_timeout, deadline))
            except (AuthenticationFailed, CertificateRejected):
                raise
            except RelayUnreachable as exc:
                await self._pause(exc, deadline)
                continue
            self.backoff.reset()
            return connection

    @staticmethod
    def _within(timeout: float, deadline: float | None) -> float:
        """``timeout``, shortened so that one attempt does not outlast ``deadline``."""
        if deadline is None:
            return timeout
        return min(timeout, max(deadline - time.monotonic(), 0.001))

    async def _pause(self, error: ClientError, deadline: float | None) -> None:
        delay = self.backoff.next_delay()
        if deadline is not None and time.monotonic() + delay > deadline:
            raise GaveUp.after(error)
        self._on_state(Notice("waiting", error=error, delay=delay))
        await asyncio.sleep(delay)

    # -- publishing -------------------------------------------------------------

    async def publish(self, alert: dict[str, Any], key: str, *,
                      give_up_after: float | None = None) -> Ack:
        """Publish ``alert`` under the idempotency ``key``; resend until acknowledged.

        Raises :class:`Rejected` for a final error (nothing stored: fix and post again),
        :class:`AuthenticationFailed`, or :class:`GaveUp` after ``give_up_after`` seconds
        (the alert may or may not be stored: resend with the same key later).
        """
        return await self._until_acked({"type": "publish", "id": key, "alert": alert},
                                       give_up_after)

    async def receipt(self, alert_id: str, status: str, *, note: str | None = None,
                      key: str | None = None, give_up_after: float | None = None) -> Ack:
        """Send a receipt about ``alert_id``; resent with the same key until acknowledged.

        Without ``key``, the key is derived from (alert, status, note): the same receipt
        sent again, even by a restarted program, is stored once; another status or note
        is a new receipt.
        """
        frame: dict[str, Any] = {"type": "receipt", "id": key or receipt_key(alert_id, status, note),
                                 "alert_id": alert_id, "status": status}
        if note is not None:
            frame["note"] = note
        return await self._until_acked(frame, give_up_after)

    async def _until_acked(self, frame: dict[str, Any], give_up_after: float | None) -> Ack:
        deadline = None if give_up_after is None else time.monotonic() + give_up_after
        while True:
            connection = await self._connected(deadline)
            try:
                reply = await connection.request(
                    dict(frame), timeout=self._within(self.reply_timeout, deadline))
            except AuthenticationFailed:
                raise
            except RelayUnreachable as exc:
                await self._pause(exc, deadline)
                continue
            if reply["type"] == "ack":
                return Ack(seq=int(reply["seq"]), alert_id=str(reply["alert_id"]),
                           duplicate=bool(reply.get("duplicate", False)))
            rejected = Rejected(reply)
            if not rejected.retriable:
                raise rejected
            await self._pause(RelayUnreachable("retry_later", code=rejected.code), deadline)

    # -- the feed ---------------------------------------------------------------

    async def _subscribe(self, connection: Connection) -> None:
        frame: dict[str, Any] = {"type": "subscribe"}
        if self.position is not None:
            frame["since"] = self.position
        if self._filter is not None:
            frame["filter"] = self._filter
        reply = await connection.request(frame, timeout=self.reply_timeout)
        connection.subscribed = reply["type"] == "subscribed"
        if reply["type"] == "error":
            rejected = Rejected(reply)
            if rejected.retriable:  # e.g. the relay's database is down: try again later
                await connection.close()
                raise RelayUnreachable("retry_later", code=rejected.code)
            raise rejected
        if self.position is None:
            # protocol.md, Ordering: with no saved position, start from subscribed.head.
            self.position = int(reply["head"])

    async def feed(self, *, cursor: CursorFile | None = None, since: int | None = None,
                   filter: dict[str, Any] | None = None,
                   include_caught_up: bool = False) -> AsyncIterator[dict[str, Any]]:
        """Alert and receipt events in seq order, each once, forever (until cancelled).

        Starts after the cursor's saved seq, else after ``since``, else with what is
        committed from now on. An event's seq counts as handled, and is saved to the
        cursor, when the caller asks for the next event; an event the caller was given
        but left the loop with (an exception, a break, a cancellation) is not counted,
        so it comes again after a restart: at least once, never skipped.
        A ``since`` the relay refuses (beyond its head) raises :class:`Rejected`.
        """
        if self._feeding:
            raise RuntimeError("one feed per client")
        saved = cursor.load() if cursor is not None else None
        self.position = saved if saved is not None else since
        self._filter = filter
        self._feeding = True
        last_durable = time.monotonic()
        handed: int | None = None
        try:
            while True:
                connection = await self._feed_connection()
                if handed is None and self.position is not None:
                    # Subscribed: a restart before the first event resumes here, not at
                    # the relay's head of that later day (with no since, position is
                    # the head of subscribed).
                    handed = self.position
                    if cursor is not None:
                        cursor.save(handed)
                try:
                    frame = await connection.next_event()
                except AuthenticationFailed:
                    raise
                except RelayUnreachable as exc:
                    self._on_state(Notice("lost", error=exc))
                    continue
                if frame["type"] == "caught_up":
                    # Everything up to here was handed out and handled (or not visible).
                    self.position = max(self.position or 0, int(frame["seq"]))
                    handed = self.position
                    if cursor is not None:
                        cursor.save(handed)
                    if include_caught_up:
                        yield frame
                    continue
                seq = int(frame["seq"])
                if self.position is not None and seq <= self.position:
                    continue  # already handed out: a duplicate across a reconnect
                self.position = seq
                yield frame
                handed = seq
                if cursor is not None:
                    durable = time.monotonic() - last_durable >= _DURABLE_EVERY
                    cursor.save(seq, durable=durable)
                    if durable:
                        last_durable = time.monotonic()
        finally:
            self._feeding = False
            if cursor is not None and handed is not None:
                cursor.save(handed, durable=True)
            # There is no unsubscribe frame: end the subscription with its connection,
            # or its events would fill the queue (stalling replies) and a later feed
            # on this client would read them instead of its own replay.
            current = self._connection
            if current is not None and current.subscribed:
                await current.close()

    async def _feed_connection(self) -> Connection:
        """The feed's connection; after a loss, reconnect (which resubscribes)."""
        while True:
            connection = self._connection
            if connection is not None and not connection.closed and connection.subscribed:
                return connection
            try:
                connection = await self._connected(None)
                if not connection.subscribed:  # opened before the feed started
                    async with self._connecting:
                        if not connection.subscribed:
                            await self._subscribe(connection)
                return connection
            except RelayUnreachable as exc:  # the subscribe got no answer; not if closed
                if self._closed:
                    raise
                await self._pause(exc, None)

    async def drop_connection(self) -> None:
        """Close the current connection as if the link dropped; the client reconnects."""
        if self._connection is not None:
            with contextlib.suppress(ClientError):
                await self._connection.close()
