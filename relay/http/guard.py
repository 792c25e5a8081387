"""Admission of HTTP connections: counted when the TCP connection is made, before aiohttp
reads a byte of it (``[http] max_connections``, ``max_connections_per_address``).

:func:`guarded` wraps aiohttp's protocol factory: a connection over a limit is closed at
once; the others are handed to aiohttp's request handler as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from relay.core.admission import Admission

__all__ = ["GuardedProtocol", "guarded"]


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind the admission check."""

    def __init__(self, inner: asyncio.Protocol, admission: Admission,
                 on_refused: Callable[[], None]) -> None:
        self._inner = inner
        self._admission = admission
        self._on_refused = on_refused
        self._address = ""
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if isinstance(peer, tuple) else "local"
        self._admitted = self._admission.admit(self._address)
        if not self._admitted:
            self._on_refused()
            transport.abort()  # type: ignore[attr-defined]  # a socket transport
            return
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._admitted:
            self._admitted = False
            self._admission.release(self._address)
            self._inner.connection_lost(exc)


def guarded(factory: Callable[[], asyncio.Protocol], admission: Admission,
            on_refused: Callable[[], None]) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for ``loop.create_server`` that admits before aiohttp sees it."""
    return lambda: GuardedProtocol(factory(), admission, on_refused)
