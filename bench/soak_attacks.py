"""The attacks of the soak (bench/soak.py): each one of issue 9's hostile clients, run
from another loopback address (127.0.0.2) until cancelled.

Every attack expects to be cut, refused or dropped by the relay, and to have its relay
killed under it: it counts what happened to it and starts again. None of them may make
the relay lose or repeat anything the ordinary traffic (bench/soak_traffic.py) sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import websockets
from websockets.asyncio.client import connect

ATTACKER = "127.0.0.2"
HANDSHAKE = (b"GET /v1/stream HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             b"Sec-WebSocket-Version: 13\r\n\r\n")
# Frames a careless or hostile client sends once authenticated: each must get an error.
BAD_FRAMES = [
    "not json at all",
    '{"type":"publish","type":"subscribe","id":"dup"}',
    '{"type":"publish","id":"deep","alert":{"ext":' + "[" * 300 + "]" * 300 + "}}",
    '{"type":"receipt","id":"ctl","alert_id":"00000000-0000-4000-8000-000000000000",'
    '"status":"received","note":"a\\u0001b"}',
    '{"type":"subscribe","id":"f","filter":{"airports":["NOPE"]}}',
    '{"type":"publish","id":"x","alert":{"kind":"seizure"}}',
    "[1,2,3]",
]


@dataclass
class Target:
    """Where the attacks aim, and with which credentials."""

    stream_ports: list[int]
    http_ports: list[int]
    attacker_token: str  # a unit with publish and subscribe rights
    audit_token: str  # a unit with the audit role (slow exports)
    replay_tokens: list[str]  # units that replay much and do not read

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/v1/stream"


class Attacks:
    """The attacks, and a tally of what the relay did to each (``outcomes``)."""

    def __init__(self, target: Target, *, scale: int = 1) -> None:
        self.target = target
        self.scale = scale
        self.outcomes: Counter[str] = Counter()
        self._ports = itertools.count()

    @property
    def all(self) -> dict[str, Callable[[], Awaitable[None]]]:
        return {
            "slow_headers": self.slow_headers,
            "preauth_large_frames": self.preauth_large_frames,
            "connection_flood": self.connection_flood,
            "wrong_tokens": self.wrong_tokens,
            "bad_frames": self.bad_frames,
            "slow_exports": self.slow_exports,
            "idle_replays": self.idle_replays,
        }

    def _next(self, ports: list[int]) -> int:
        return ports[next(self._ports) % len(ports)]

    async def _open(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", port, local_addr=(ATTACKER, 0))

    async def _many(self, count: int, one: Callable[[], Awaitable[None]]) -> None:
        await asyncio.gather(*(self._forever(one) for _ in range(count)))

    async def _forever(self, one: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await one()
            except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError,
                    websockets.WebSocketException) as exc:
                self.outcomes[f"error:{type(exc).__name__}"] += 1
                await asyncio.sleep(0.2)

    async def _until_closed(self, reader: asyncio.StreamReader, name: str, limit: float) -> None:
        try:
            async with asyncio.timeout(limit):
                while await reader.read(65536):
                    pass
            self.outcomes[f"{name}:cut"] += 1
        except TimeoutError:
            self.outcomes[f"{name}:not_cut"] += 1

    # -- without a token --------------------------------------------------------------

    async def slow_headers(self) -> None:
        """HTTP requests whose headers come one line a second and never end."""
        async def one() -> None:
            reader, writer = await self._open(self._next(self.target.http_ports))
            writer.write(b"GET /v1/alerts HTTP/1.1\r\nHost: relay\r\n")
            dribble = asyncio.create_task(self._dribble(writer))
            try:
                await self._until_closed(reader, "slow_headers", 60)
            finally:
                dribble.cancel()
                writer.close()
        await self._many(100 * self.scale, one)

    async def _dribble(self, writer: asyncio.StreamWriter) -> None:
        for n in itertools.count():
            writer.write(f"X-Slow-{n}: 1\r\n".encode())
            await asyncio.sleep(1)

    async def preauth_large_frames(self) -> None:
        """Unauthenticated stream connections that start sending a 1 MiB frame."""
        async def one() -> None:
            reader, writer = await self._open(self._next(self.target.stream_ports))
            try:
                writer.write(HANDSHAKE)
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"\x82\xff" + (1 << 20).to_bytes(8, "big") + b"\x00\x00\x00\x00")
                for _ in range(16):
                    writer.write(b"\x00" * 65536)
                    await writer.drain()
                await self._until_closed(reader, "preauth_large_frames", 30)
            finally:
                writer.close()
        await self._many(50 * self.scale, one)

    async def connection_flood(self) -> None:
        """TCP connections opened and held silent, as many as the relay lets in."""
        async def one() -> None:
            reader, writer = await self._open(self._next(self.target.stream_ports))
            try:
                await self._until_closed(reader, "connection_flood", 30)
            finally:
                writer.close()
        await self._many(300 * self.scale, one)

    async def wrong_tokens(self) -> None:
        """Handshakes with a token that does not exist."""
        async def one() -> None:
            port = self._next(self.target.stream_ports)
            try:
                async with connect(self.target.url(port), subprotocols=["relay.v1.json"],  # type: ignore[list-item]
                                   additional_headers={"Authorization": "Bearer rly_wrong"},
                                   open_timeout=10, local_addr=(ATTACKER, 0)):
                    self.outcomes["wrong_tokens:accepted"] += 1
            except websockets.InvalidStatus as exc:
                self.outcomes[f"wrong_tokens:{exc.response.status_code}"] += 1
            await asyncio.sleep(0.05)
        await self._many(2, one)

    # -- with a token -----------------------------------------------------------------

    async def bad_frames(self) -> None:
        """An authenticated client sending malformed frames: an error for each."""
        async def one() -> None:
            port = self._next(self.target.stream_ports)
            async with connect(self.target.url(port), subprotocols=["relay.v1.json"],  # type: ignore[list-item]
                               additional_headers={"Authorization": f"Bearer {self.target.attacker_token}"},
                               open_timeout=10, local_addr=(ATTACKER, 0)) as ws:
                await ws.recv()  # welcome
                for text in itertools.cycle(BAD_FRAMES):
                    await ws.send(text)
                    reply = await asyncio.wait_for(ws.recv(), 10)
                    self.outcomes["bad_frames:" + ("error" if '"error"' in str(reply) else "other")] += 1
                    await asyncio.sleep(0.01)
        await self._many(2, one)

    async def slow_exports(self) -> None:
        """Audit exports whose reader takes the first bytes and then stops reading."""
        async def one() -> None:
            reader, writer = await self._open(self._next(self.target.http_ports))
            try:
                writer.write(f"GET /v1/audit/export?format=ndjson HTTP/1.1\r\nHost: relay\r\n"
                             f"Authorization: Bearer {self.target.audit_token}\r\n\r\n".encode())
                head = await asyncio.wait_for(reader.read(1024), 30)
                status = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "none"
                self.outcomes[f"slow_exports:{status}"] += 1
                writer.transport.pause_reading()
                await asyncio.sleep(20)
            finally:
                writer.close()
        await self._many(6, one)

    async def idle_replays(self) -> None:
        """Subscriptions from the start of the log that never read their events."""
        async def one(token: str) -> None:
            port = self._next(self.target.stream_ports)
            async with connect(self.target.url(port), subprotocols=["relay.v1.json"],  # type: ignore[list-item]
                               additional_headers={"Authorization": f"Bearer {token}"},
                               open_timeout=10, max_size=2**22, local_addr=(ATTACKER, 0)) as ws:
                await ws.recv()  # welcome
                await ws.send('{"type":"subscribe","id":"s","since":0}')
                ws.transport.pause_reading()
                await asyncio.sleep(40)  # past stream.replay_drain_timeout (30 s)
                ws.transport.resume_reading()
                try:
                    async with asyncio.timeout(30):
                        async for _ in ws:
                            pass
                except TimeoutError:
                    self.outcomes["idle_replays:held"] += 1
                except websockets.ConnectionClosed:
                    pass
                self.outcomes[f"idle_replays:closed_{ws.close_code}"] += 1
        await asyncio.gather(*(self._forever(lambda token=token: one(token))
                               for token in self.target.replay_tokens for _ in range(2)))


async def run_for(attack: Callable[[], Awaitable[None]], seconds: float) -> None:
    """Run one attack for ``seconds``, then cancel it (and its connections)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await attack()
