"""Start-up in order, shutdown in the reverse order, every step even when one fails.

The composition root (:mod:`relay.app`) registers the stop of each service right after
starting it; on the way out the steps run last-registered first, through an
:class:`contextlib.AsyncExitStack`. A step that raises (or outlasts its time limit) is
logged with its name and the others still run, so a failing HTTP cleanup can no longer
skip the delivery flush or leave the pool open; the failures are raised together at the
end as :class:`ShutdownIncomplete`, and the process exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType

import structlog

__all__ = ["Lifecycle", "ShutdownIncomplete"]
_log = structlog.get_logger("relay.lifecycle")


class ShutdownIncomplete(Exception):
    """Some shutdown steps failed; ``steps`` names them, in the order they ran."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__(f"shutdown steps failed: {', '.join(steps)}")
        self.steps = steps


class Lifecycle:
    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self.failed: list[str] = []
        self.ran: list[str] = []

    def on_stop(self, name: str, step: Callable[[], Awaitable[object]], *,
                timeout: float | None = None) -> None:
        """Run ``step`` at shutdown, before every step registered earlier."""

        async def guarded() -> None:
            self.ran.append(name)
            try:
                await asyncio.wait_for(step(), timeout)
            except Exception as exc:  # noqa: BLE001 - one failed step must not skip the rest
                self.failed.append(name)
                _log.error("shutdown_step_failed", step=name, error=type(exc).__name__)

        self._stack.push_async_callback(guarded)

    async def __aenter__(self) -> Lifecycle:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self._stack.__aexit__(exc_type, exc, traceback)
        if self.failed and exc is None:
            raise ShutdownIncomplete(self.failed)
