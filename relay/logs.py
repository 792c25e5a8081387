"""structlog set up once: JSON lines off a terminal, readable lines on one.

Secrets and personal data are removed by a processor, not at each call site: any event
key named like a token or a passenger field is replaced by ``[redacted]``. The stdlib
loggers of websockets, aiohttp and asyncpg go through the same chain.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["REDACTED_KEYS", "configure_logging", "redact"]

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


def configure_logging(*, level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and route the stdlib logging through it."""
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    numeric = getattr(logging, level.upper())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in ("websockets", "aiohttp.access", "asyncpg"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
