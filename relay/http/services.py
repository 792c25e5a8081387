"""What the HTTP handlers of one relay process share, passed by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from relay.core.hub import Hub
from relay.core.ports import UnitDirectory
from relay.core.principals import Principal
from relay.core.publishing import Publisher
from relay.metrics import RelayMetrics

__all__ = ["SERVICES", "HttpServices"]


@dataclass(frozen=True, eq=False)
class HttpServices:
    pool: asyncpg.Pool
    regions: Mapping[str, frozenset[str]]
    publisher: Publisher
    known_units: UnitDirectory
    hub: Hub
    metrics: RelayMetrics
    authenticate: Callable[[str], Awaitable[Principal | None]]


SERVICES = web.AppKey("services", HttpServices)
