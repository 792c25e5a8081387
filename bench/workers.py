"""Subscriber workers for the benchmarks: each process holds many WebSocket connections.

The receivers are a lean asyncio protocol (handshake, unmasked frame parsing, a regular
expression to find the alert's ``ext``) rather than a full client library, so that on
this 2-core machine the load generator costs much less per delivery than the servers it
measures. For every alert frame a worker records ``(key, latency_ns)``, where ``key`` and
the send time ``t0`` travel in the alert's ``ext``; the clock is CLOCK_MONOTONIC, shared
by all processes of the host.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as EventType
from typing import Any
from urllib.parse import urlsplit

_EXT = re.compile(rb'"ext":\{"k":(\d+),"t0":(\d+)\}')


def client_frame(text: str) -> bytes:
    """A masked text frame (mask key zero: the payload is unchanged)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, 0x80 | size))
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    return header + b"\x00\x00\x00\x00" + payload


class RawSubscriber(asyncio.Protocol):
    """One connection: upgrade, optional subscribe, then count alert frames."""

    def __init__(self, request: bytes, mode: str, on_ready: Callable[[], None],
                 samples: list[tuple[int, int]]) -> None:
        self.request = request
        self.mode = mode
        self.on_ready = on_ready
        self.samples = samples
        self.buffer = bytearray()
        self.upgraded = False
        self.frames_seen = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(bytes(self.buffer[:200]).decode(errors="replace"))
            del self.buffer[: end + 4]
            self.upgraded = True
            if self.mode == "bare":
                self.on_ready()
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        now = time.monotonic_ns()
        start = 0
        while True:
            if len(buffer) - start < 2:
                break
            size = buffer[start + 1] & 0x7F
            offset = start + 2
            if size == 126:
                if len(buffer) - start < 4:
                    break
                size = int.from_bytes(buffer[offset:offset + 2], "big")
                offset += 2
            elif size == 127:
                if len(buffer) - start < 10:
                    break
                size = int.from_bytes(buffer[offset:offset + 8], "big")
                offset += 8
            if len(buffer) < offset + size:
                break
            self._message(buffer, offset, offset + size, now)
            start = offset + size
        del buffer[:start]

    def _message(self, buffer: bytearray, begin: int, end: int, now: int) -> None:
        self.frames_seen += 1
        if self.mode == "relay" and self.frames_seen <= 2:
            if self.frames_seen == 1:
                assert self.transport is not None
                self.transport.write(client_frame('{"type":"subscribe","id":"s"}'))
            elif self.frames_seen == 2:
                self.on_ready()
            return
        if self.mode == "idle":
            self.on_ready()
            return
        match = _EXT.search(buffer, begin, end)
        if match:
            self.samples.append((int(match[1]), now - int(match[2])))


def upgrade_request(url: str, token: str | None) -> bytes:
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: relay.v1.json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _run(url: str, tokens: list[str | None], mode: str, ready_q: Any, stop_evt: EventType,
               result_q: Any) -> None:
    loop = asyncio.get_running_loop()
    samples: list[tuple[int, int]] = []
    parts = urlsplit(url)
    ready = 0
    all_ready = loop.create_future()

    def on_ready() -> None:
        nonlocal ready
        ready += 1
        if ready == len(tokens) and not all_ready.done():
            all_ready.set_result(None)

    transports = []
    for index, token in enumerate(tokens):
        request = upgrade_request(url, token)
        transport, _ = await loop.create_connection(
            lambda request=request: RawSubscriber(request, mode, on_ready, samples),
            parts.hostname, parts.port)
        transports.append(transport)
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(all_ready, 300)
    ready_q.put(len(tokens))
    while not stop_evt.is_set():
        await asyncio.sleep(0.05)
    for transport in transports:
        transport.close()
    result_q.put(samples)


def subscriber_worker(url: str, tokens: list[str | None], mode: str, ready_q: Any,
                      stop_evt: EventType, result_q: Any, idle: bool = False) -> None:
    """Entry point of a worker process; ``mode`` is relay or bare (``idle`` for relay)."""
    asyncio.run(_run(url, tokens, "idle" if idle else mode, ready_q, stop_evt, result_q))
