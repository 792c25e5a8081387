"""The one place that writes to a stream connection's socket.

Event frames are prepared once per event and encoding (:meth:`relay.core.events.Event.wire`)
and written as they are, without awaiting, to every recipient's transport; replies are
encoded here. A connection whose transport buffer holds more than ``send_buffer_bytes``
is a slow consumer: :meth:`Transport.send` refuses to buffer more, and the caller closes
it with 4408 rather than hold memory without bound (shared/STYLE.md §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import State

from relay.contract.wire import Encoding, encode_frame

__all__ = ["Transport"]


class Transport:
    def __init__(self, ws: ServerConnection, encoding: Encoding, *, send_buffer_bytes: int) -> None:
        self.ws = ws
        self.encoding = encoding
        self.send_buffer_bytes = send_buffer_bytes

    @property
    def open(self) -> bool:
        return self.ws.protocol.state is State.OPEN

    def buffered_bytes(self) -> int:
        transport = self.ws.transport
        return 0 if transport is None else transport.get_write_buffer_size()

    @property
    def over_bound(self) -> bool:
        return self.buffered_bytes() > self.send_buffer_bytes

    def write_prepared(self, wire_frame: bytes) -> None:
        """Write a complete WebSocket frame built once for every recipient.

        The frame is whole and unfragmented and compression is off, so the bytes go
        straight to the transport; frames written through websockets (replies, pings,
        close) are whole frames too, so the two never interleave within a frame.
        """
        if self.open:
            self.ws.transport.write(wire_frame)

    def send(self, frame: Mapping[str, Any]) -> bool:
        """Encode and write a reply without waiting; False (nothing written) when the
        connection is over its buffer bound or no longer open."""
        if self.over_bound or not self.open:
            return False
        broadcast([self.ws], encode_frame(self.encoding, frame))
        return True

    async def drain(self) -> None:
        """Wait until the client has read what is buffered (replay pacing)."""
        await self.ws.drain()
