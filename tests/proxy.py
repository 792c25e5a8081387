"""A TCP proxy that cuts its connections at random: a poor airport link, for tests.

Each accepted connection is piped to the target; a cutter aborts a random open
connection (a TCP reset, no WebSocket close) every ``min_gap`` to ``max_gap`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

__all__ = ["CuttingProxy"]


@dataclass
class CuttingProxy:
    target_port: int
    min_gap: float = 0.05
    max_gap: float = 0.4
    seed: int = 0
    cuts: int = 0
    _pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _cutter: asyncio.Task[None] | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self._cutter = asyncio.create_task(self._cut_forever())

    async def stop(self) -> None:
        if self._cutter is not None:
            self._cutter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cutter
        if self._server is not None:
            self._server.close()
        for client, upstream in list(self._pairs):
            client.transport.abort()
            upstream.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.append(pair)
        tasks = [asyncio.create_task(self._pipe(reader, up_writer)),
                 asyncio.create_task(self._pipe(up_reader, writer))]
        self._pipes.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            writer.transport.abort()
            up_writer.transport.abort()
            with contextlib.suppress(ValueError):
                self._pairs.remove(pair)
            self._pipes.difference_update(tasks)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _cut_forever(self) -> None:
        chance = random.Random(self.seed)
        while True:
            await asyncio.sleep(chance.uniform(self.min_gap, self.max_gap))
            if self._pairs:
                client, upstream = chance.choice(self._pairs)
                client.transport.abort()
                upstream.transport.abort()
                self.cuts += 1
