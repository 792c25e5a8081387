"""Admission of stream connections, counted from the TCP connection on (stream/server.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection

from relay.core.admission import Admission

__all__ = ["GuardedConnection"]


class GuardedConnection(ServerConnection):
    """A stream connection counted from ``connection_made``; the limits and counters are
    set on a subclass per server (:func:`start_stream_server`)."""

    admission: Admission
    unauthenticated: Admission
    on_refused: Callable[[str], None]
    full_frame_bytes: int

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else "local"
        self.admitted = self.admission.admit(self.address)
        self.counted_unauthenticated = self.admitted and self.unauthenticated.admit(self.address)
        if not self.admitted:
            self.on_refused("connections")
            transport.abort()  # type: ignore[attr-defined]  # a socket transport
        elif not self.counted_unauthenticated:
            self.on_refused("unauthenticated")
            transport.abort()  # type: ignore[attr-defined]  # a socket transport

    def authenticated(self) -> None:
        """A token was accepted: full-size frames, and no longer among the unauthenticated."""
        self.protocol.max_message_size = self.full_frame_bytes
        if self.counted_unauthenticated:
            self.counted_unauthenticated = False
            self.unauthenticated.release(self.address)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted_unauthenticated:
            self.counted_unauthenticated = False
            self.unauthenticated.release(self.address)
        if self.admitted:
            self.admitted = False
            self.admission.release(self.address)
        super().connection_lost(exc)
