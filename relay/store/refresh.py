"""One read at a time of something the relay keeps in memory, however often it is asked
for: requests that arrive during a read ask for one more read, not one each (an import of
thousands of units must not queue thousands of reads)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

__all__ = ["CoalescedRefresh"]

_log = structlog.get_logger("relay.refresh")


class CoalescedRefresh:
    def __init__(self, read: Callable[[], Awaitable[None]], *, what: str) -> None:
        self._read = read
        self._what = what
        self._reading: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        """Read soon; coalesces with a read already running."""
        if self._reading is not None and not self._reading.done():
            self._again = True
            return
        self._reading = asyncio.create_task(self._until_current())

    async def _until_current(self) -> None:
        while True:
            self._again = False
            try:
                await self._read()
            except Exception as exc:  # noqa: BLE001 - the next request or start retries
                _log.warning("refresh_failed", what=self._what, error=type(exc).__name__)
            if not self._again:
                return
