"""structlog set up once: JSON lines off a terminal, readable lines on one.

Secrets and personal data are removed by a processor, not at each call site: any event
key named like a token or a passenger field is replaced by ``[redacted]``. The stdlib
loggers of websockets, aiohttp and asyncpg go through the same chain.

Repeated lines are rate-limited (:class:`Repeats`): past ``burst`` lines of one event (or
one stdlib message) within ``window`` seconds the rest are dropped, and the next line
after the window says how many were (``"suppressed": N``), so that a flood of bad
connections cannot fill the disk.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

__all__ = ["REDACTED_KEYS", "Repeats", "configure_logging", "install_loop_error_handler", "redact"]

_loop_log = structlog.get_logger("relay.loop")
REDACTED_KEYS = frozenset({
    "token", "authorization", "password", "secret", "surname", "given_names", "birth_date",
    "document", "subjects", "pnr_locator", "seat", "bag_tags", "summary", "note", "alert",
})


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor removing secrets and personal data by key name."""
    for key in list(event_dict):
        if key.lower() in REDACTED_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


class Repeats:
    """How often each kind of line was written lately; decides which to drop."""

    def __init__(self, *, burst: int = 20, window: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._burst = burst
        self._window = window
        self._clock = clock
        self._seen: dict[str, tuple[float, int, int]] = {}  # key -> (start, count, dropped)

    def admit(self, key: str) -> int | None:
        """None to drop this line; else how many of its kind were dropped before it."""
        now = self._clock()
        start, count, dropped = self._seen.get(key, (now, 0, 0))
        if now - start >= self._window:
            start, count = now, 0
        if count >= self._burst:
            self._seen[key] = (start, count, dropped + 1)
            return None
        self._seen[key] = (start, count + 1, 0)
        if len(self._seen) > 10_000:  # many kinds of lines: forget the oldest
            self._seen.pop(next(iter(self._seen)))
        return dropped


def _rate_limit(repeats: Repeats) -> Callable[[Any, str, MutableMapping[str, Any]], Any]:
    def processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
        dropped = repeats.admit(str(event_dict.get("event", "")))
        if dropped is None:
            raise structlog.DropEvent
        if dropped:
            event_dict["suppressed"] = dropped
        return event_dict
    return processor


class _StdlibRepeats(logging.Filter):
    def __init__(self, repeats: Repeats) -> None:
        super().__init__()
        self._repeats = repeats

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("relay"):
            return True  # structlog's own lines are limited by the processor
        dropped = self._repeats.admit(f"{record.name}:{record.msg}")
        if dropped:
            record.msg = f"{record.msg} ({dropped} similar lines suppressed)"
        return dropped is not None


def install_loop_error_handler(loop: asyncio.AbstractEventLoop,
                               on_accept_error: Callable[[], None]) -> None:
    """Errors the event loop reports (``socket.accept() out of system resource`` when the
    file descriptors run out...): counted, and logged through the rate-limited chain."""
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if "accept" in message:
            on_accept_error()
        exc = context.get("exception")
        _loop_log.warning("event_loop_error", message=message[:200],
                          error=type(exc).__name__ if exc is not None else None)
    loop.set_exception_handler(handler)


def configure_logging(*, level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and route the stdlib logging through it."""
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    repeats = Repeats()
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    numeric = getattr(logging, level.upper())
    structlog.configure(
        processors=[_rate_limit(repeats), *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_StdlibRepeats(repeats))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in ("websockets", "aiohttp.access", "asyncpg"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
