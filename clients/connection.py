"""One authenticated WebSocket connection to the relay, and the client's error tree.

A :class:`Connection` sends frames, matches replies (``ack``, ``error``, ``subscribed``)
to requests by ``id``, and queues events (``alert``, ``receipt``, ``caught_up``) for a
reader. It does not reconnect; :mod:`clients.client` does.

Errors::

    ClientError
    ├── AuthenticationFailed   401 at the handshake or close 4401: a new token is needed
    ├── RelayUnreachable       no connection, or it was lost: retry with backoff
    └── Rejected               an error frame; ``retriable`` for rate_limited/unavailable
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from typing import Any, Final, Literal

import msgpack
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

__all__ = [
    "ENCODINGS",
    "AuthenticationFailed",
    "ClientError",
    "Connection",
    "EncodingName",
    "Rejected",
    "RelayUnreachable",
]

EncodingName = Literal["json", "msgpack"]
ENCODINGS: Final[dict[EncodingName, str]] = {"json": "relay.v1.json", "msgpack": "relay.v1.msgpack"}
RETRIABLE_CODES: Final = frozenset({"rate_limited", "unavailable"})
EVENT_TYPES: Final = frozenset({"alert", "receipt", "caught_up"})
REPLY_TYPES: Final = frozenset({"ack", "error", "subscribed"})
# Events waiting for the reader. When full, the connection stops reading, TCP pushes
# back, and a relay that can no longer send closes us with 4408; we then resume. While a
# reply is awaited it reads on instead (the reply may be behind the events) and drops the
# events that do not fit; the reader of events then resumes from a new connection.
EVENT_QUEUE_SIZE: Final = 1024


class ClientError(Exception):
    """Base of the errors a client of the relay can meet."""


class AuthenticationFailed(ClientError):
    """The relay refused the token (handshake 401, or close 4401 when revoked)."""


class RelayUnreachable(ClientError):
    """The relay could not be reached or the connection was lost; try again later."""


class Rejected(ClientError):
    """The relay answered a frame with an error frame."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error
        self.code = str(error.get("code", "unknown"))
        self.details: list[dict[str, Any]] = list(error.get("details") or [])
        super().__init__(f"{self.code}: {error.get('message', '')}")

    @property
    def retriable(self) -> bool:
        """Resend the same frame (same id) later: protocol.md, Errors."""
        return self.code in RETRIABLE_CODES


def _lost(exc: BaseException) -> ClientError:
    """The error for a connection that ended: 4401 means the token was revoked."""
    if isinstance(exc, ConnectionClosed) and exc.rcvd is not None and exc.rcvd.code == 4401:
        return AuthenticationFailed(f"closed with 4401: {exc.rcvd.reason or 'token revoked'}")
    return RelayUnreachable(f"connection lost ({exc})")


class Connection:
    """An open connection whose welcome frame has been read."""

    def __init__(self, ws: ClientConnection, encoding: EncodingName) -> None:
        self._ws = ws
        self._encoding = encoding
        self.welcome: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | ClientError] = asyncio.Queue(EVENT_QUEUE_SIZE)
        self._reader: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # room in the queue, or a reply is now awaited
        self._overflowed = False  # events were dropped: the feed must resume elsewhere
        self.failure: ClientError | None = None
        self.subscribed = False  # set by the client once its subscribe was answered

    @classmethod
    async def open(cls, url: str, token: str, *, encoding: EncodingName = "json",
                   timeout: float = 10.0, max_size: int = 2**22) -> Connection:
        """Connect with the token in the handshake header and read ``welcome``."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            ws = await connect(url, subprotocols=[ENCODINGS[encoding]],  # type: ignore[list-item]
                               additional_headers=headers, open_timeout=timeout,
                               max_size=max_size, ping_interval=20, ping_timeout=20)
        except InvalidStatus as exc:
            if exc.response.status_code == 401:
                raise AuthenticationFailed("HTTP 401 at the handshake") from None
            raise RelayUnreachable(f"the relay answered HTTP {exc.response.status_code}") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise RelayUnreachable(f"cannot connect to {url}: {str(exc) or type(exc).__name__}") from None
        connection = cls(ws, encoding)
        try:
            welcome = connection._decode(await asyncio.wait_for(ws.recv(), timeout))
        except (ConnectionClosed, TimeoutError) as exc:
            await ws.close()
            raise _lost(exc) from None
        except (ValueError, msgpack.UnpackException, RelayUnreachable):
            await ws.close()
            raise RelayUnreachable("the relay's welcome frame could not be decoded") from None
        if welcome.get("type") != "welcome":
            await ws.close()
            raise RelayUnreachable(f"expected a welcome frame, got {welcome.get('type')!r}")
        connection.welcome = welcome
        connection._reader = asyncio.create_task(connection._read(), name="relay-client-reader")
        return connection

    @property
    def unit(self) -> str:
        return str(self.welcome.get("unit", ""))

    @property
    def closed(self) -> bool:
        return self.failure is not None

    def _decode(self, data: str | bytes) -> dict[str, Any]:
        frame = msgpack.unpackb(data, raw=False) if isinstance(data, bytes) else orjson.loads(data)
        if not isinstance(frame, dict):
            raise RelayUnreachable("the relay sent a frame that is not a map")
        return frame

    def _encode(self, frame: dict[str, Any]) -> str | bytes:
        if self._encoding == "json":
            return orjson.dumps(frame).decode()
        packed: bytes = msgpack.packb(frame, use_bin_type=True)
        return packed

    def new_id(self, prefix: str = "c") -> str:
        return f"{prefix}-{self._prefix}-{next(self._ids)}"

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                frame = self._decode(data)
                kind = frame.get("type")
                ident = frame.get("id")
                if kind in REPLY_TYPES and isinstance(ident, str) and ident in self._waiting:
                    future = self._waiting.pop(ident)
                    if not future.done():
                        future.set_result(frame)
                elif kind in EVENT_TYPES:
                    await self._queue_event(frame)
            self._fail(RelayUnreachable("the relay closed the connection"))
        except ConnectionClosed as exc:
            self._fail(_lost(exc))
        except (ValueError, msgpack.UnpackException, RelayUnreachable) as exc:
            self._fail(RelayUnreachable(f"undecodable frame from the relay ({exc})"))
            await self._ws.close()
        except Exception as exc:  # noqa: BLE001 - e.g. a frame of an unexpected shape: end this connection, never hang it
            self._fail(RelayUnreachable(f"unexpected frame from the relay ({type(exc).__name__})"))
            await self._ws.close()

    async def _queue_event(self, frame: dict[str, Any]) -> None:
        """Queue an event; when the queue is full, wait for room unless a reply is
        awaited, in which case drop it (and every later one) rather than never read the
        reply: next_event then ends this connection so the feed resumes with since."""
        if self._overflowed:
            return
        while self._events.full() and not self._waiting:
            self._wake.clear()
            await self._wake.wait()
        if self._events.full():
            self._overflowed = True
            return
        self._events.put_nowait(frame)

    def _fail(self, error: ClientError) -> None:
        self.failure = error
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()
        # The reader of events learns of the end after the events that came before it.
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(error)

    async def request(self, frame: dict[str, Any], *, timeout: float = 30.0) -> dict[str, Any]:
        """Send ``frame`` (given an ``id`` if it has none) and return its reply frame.

        Raises :class:`RelayUnreachable` (or :class:`AuthenticationFailed`) when the
        connection is lost or no reply comes within ``timeout``: the frame may or may not
        have been committed, so resend it with the same id on a new connection.
        """
        if self.failure is not None:
            raise self.failure
        ident = frame.setdefault("id", self.new_id())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        self._wake.set()  # a reader waiting for room in the queue must read on
        try:
            await self._ws.send(self._encode(frame))
            return await asyncio.wait_for(future, timeout)
        except ConnectionClosed as exc:
            raise _lost(exc) from None
        except TimeoutError:
            await self.close()
            raise RelayUnreachable(f"no reply within {timeout:g} s") from None
        finally:
            self._waiting.pop(ident, None)

    async def next_event(self) -> dict[str, Any]:
        """The next alert, receipt or caught_up frame; raises when the connection ended."""
        if self._events.empty() and self.failure is not None:
            raise self.failure
        if self._events.empty() and self._overflowed:
            self._fail(RelayUnreachable("events were dropped while a reply was awaited"))
            await self.close()
        item = await self._events.get()
        self._wake.set()
        if isinstance(item, ClientError):
            self._events.put_nowait(item)  # keep answering the same way
            raise item
        return item

    async def close(self) -> None:
        await self._ws.close()
        if self._reader is not None:
            # The reader may be waiting for room in a full event queue: stop it.
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.failure is None:
            self._fail(RelayUnreachable("closed by the client"))
