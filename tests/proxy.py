"""A TCP proxy that cuts its connections at random: a poor airport link, for tests.

Each accepted connection is piped to the target and gets a random budget of bytes
(``min_bytes`` to ``max_bytes``, both directions together); when it is spent, the proxy
aborts both sides (a TCP reset, no WebSocket close), often in the middle of a frame.
The cuts follow the traffic, not the clock, so a fast or a slow machine sees as many.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

__all__ = ["CuttingProxy"]


@dataclass
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    budget: int

    def cut(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()


@dataclass
class CuttingProxy:
    target_port: int
    min_bytes: int = 2_000
    max_bytes: int = 30_000
    seed: int = 0
    cuts: int = 0
    _chance: random.Random = field(init=False)
    _links: list[_Link] = field(default_factory=list)
    _server: asyncio.Server | None = None

    def __post_init__(self) -> None:
        self._chance = random.Random(self.seed)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, up_writer, self._chance.randint(self.min_bytes, self.max_bytes))
        self._links.append(link)
        pipes = [asyncio.create_task(self._pipe(reader, up_writer, link)),
                 asyncio.create_task(self._pipe(up_reader, writer, link))]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            link.cut()
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._links.remove(link)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(4096):
                if len(data) >= link.budget:
                    writer.write(data[:link.budget])  # part of a frame, then the reset
                    link.budget = 0
                    self.cuts += 1
                    return
                link.budget -= len(data)
                writer.write(data)
                await writer.drain()
