"""One authenticated WebSocket connection to the relay.

A :class:`Connection` sends frames, matches replies (``ack``, ``error``, ``subscribed``)
to requests by ``id``, and queues events (``alert``, ``receipt``, ``caught_up``) for a
reader. It does not reconnect; :mod:`clients.client` does. Its errors are those of
:mod:`clients.errors` (re-exported here): :class:`AuthenticationFailed`,
:class:`CertificateRejected` (a ``wss://`` relay whose certificate is not trusted; give
:func:`tls_context` a CA bundle), :class:`RelayUnreachable` and :class:`Rejected`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import uuid
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import msgpack
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from clients.errors import (
    RETRIABLE_CODES,
    AuthenticationFailed,
    CertificateRejected,
    ClientError,
    Rejected,
    RelayUnreachable,
    certificate_reason,
    os_error_reason,
)

__all__ = [
    "ENCODINGS",
    "RETRIABLE_CODES",
    "AuthenticationFailed",
    "CertificateRejected",
    "ClientError",
    "Connection",
    "EncodingName",
    "Rejected",
    "RelayUnreachable",
    "tls_context",
]

EncodingName = Literal["json", "msgpack"]
ENCODINGS: Final[dict[EncodingName, str]] = {"json": "relay.v1.json", "msgpack": "relay.v1.msgpack"}
EVENT_TYPES: Final = frozenset({"alert", "receipt", "caught_up"})
REPLY_TYPES: Final = frozenset({"ack", "error", "subscribed"})
# Events waiting for the reader. When full, the connection stops reading, TCP pushes
# back, and a relay that can no longer send closes us with 4408; we then resume. While a
# reply is awaited it reads on instead (the reply may be behind the events) and drops the
# events that do not fit; the reader of events then resumes from a new connection.
EVENT_QUEUE_SIZE: Final = 1024


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The TLS settings of a ``wss://`` connection: the system's trusted authorities, or
    those of the PEM bundle ``ca_file`` (for a relay with a self-signed or private
    certificate). Raises OSError if the file cannot be read, ssl.SSLError if it holds
    no certificate."""
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


def _lost(exc: BaseException) -> ClientError:
    """The error for a connection that ended: 4401 means the token was revoked."""
    close = exc.rcvd if isinstance(exc, ConnectionClosed) else None
    if close is None:
        return RelayUnreachable("cut")
    if close.code == 4401:
        return AuthenticationFailed("closed_4401")
    if close.code == 1001:
        return RelayUnreachable("relay_stopping")
    if close.code == 4408:
        return RelayUnreachable("too_slow")
    return RelayUnreachable("lost", code=close.code)


def _open_failure(exc: OSError, url: str) -> ClientError:
    host = urlsplit(url).hostname or url
    if isinstance(exc, ssl.SSLCertVerificationError):
        return certificate_reason(exc, url, host)
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return RelayUnreachable("tls", url=url, detail=exc.reason or type(exc).__name__)
    if exc.errno is None and "Connect call failed" in str(exc):
        # asyncio's "Multiple exceptions" when every address of the name refused.
        return RelayUnreachable("refused", url=url)
    return os_error_reason(exc, url, host)


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
                   timeout: float = 10.0, max_size: int = 2**22,
                   tls: ssl.SSLContext | None = None) -> Connection:
        """Connect with the token in the handshake header and read ``welcome``; ``tls``
        applies to a ``wss://`` URL only (default: the system's trusted authorities)."""
        headers = {"Authorization": f"Bearer {token}"}
        secure: dict[str, Any] = {"ssl": tls} if tls is not None and url.startswith("wss:") else {}
        try:
            ws = await connect(url, subprotocols=[ENCODINGS[encoding]],  # type: ignore[list-item]
                               additional_headers=headers, open_timeout=timeout,
                               max_size=max_size, ping_interval=20, ping_timeout=20, **secure)
        except InvalidStatus as exc:
            if exc.response.status_code == 401:
                raise AuthenticationFailed("http_401") from None
            raise RelayUnreachable("http_status", status=exc.response.status_code) from None
        except TimeoutError:
            raise RelayUnreachable("timeout", url=url, seconds=timeout) from None
        except OSError as exc:
            raise _open_failure(exc, url) from None
        except InvalidHandshake as exc:
            raise RelayUnreachable("bad_handshake", url=url,
                                   detail=str(exc) or type(exc).__name__) from None
        connection = cls(ws, encoding)
        try:
            welcome = connection._decode(await asyncio.wait_for(ws.recv(), timeout))
        except TimeoutError:
            await ws.close()
            raise RelayUnreachable("no_reply", seconds=timeout) from None
        except ConnectionClosed as exc:
            await ws.close()
            raise _lost(exc) from None
        except (ValueError, msgpack.UnpackException, RelayUnreachable):
            await ws.close()
            raise RelayUnreachable("undecodable") from None
        if welcome.get("type") != "welcome":
            await ws.close()
            raise RelayUnreachable("bad_welcome")
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
            raise RelayUnreachable("undecodable")
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
            self._fail(RelayUnreachable("closed"))
        except ConnectionClosed as exc:
            self._fail(_lost(exc))
        except (ValueError, msgpack.UnpackException, RelayUnreachable):
            self._fail(RelayUnreachable("undecodable"))
            await self._ws.close()
        except Exception:  # noqa: BLE001 - e.g. a frame of an unexpected shape: end this connection, never hang it
            self._fail(RelayUnreachable("undecodable"))
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
            raise RelayUnreachable("no_reply", seconds=timeout) from None
        finally:
            self._waiting.pop(ident, None)

    async def next_event(self) -> dict[str, Any]:
        """The next alert, receipt or caught_up frame; raises when the connection ended."""
        if self._events.empty() and self.failure is not None:
            raise self.failure
        if self._events.empty() and self._overflowed:
            self._fail(RelayUnreachable("dropped_events"))
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
            self._fail(RelayUnreachable("client_closed"))
