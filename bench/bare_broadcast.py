"""The ceiling: a bare websockets server that only broadcasts (no database, no checks).

Subscribers connect to ``/sub``; every text frame received on ``/pub`` is written, as is,
to every subscriber with ``websockets.broadcast``. Run: ``python bench/bare_broadcast.py PORT``.
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(port: int) -> None:
    subscribers: set[ServerConnection] = set()

    async def handler(conn: ServerConnection) -> None:
        if conn.request is not None and conn.request.path == "/pub":
            async for message in conn:
                broadcast(subscribers, message)
            return
        subscribers.add(conn)
        try:
            await conn.wait_closed()
        finally:
            subscribers.discard(conn)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
