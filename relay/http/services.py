"""What the HTTP handlers of one relay process share, passed by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from relay.config import HttpConfig, StreamConfig
from relay.core.connections import Connections
from relay.core.hub import Hub
from relay.core.ports import UnitDirectory
from relay.core.publishing import Publisher
from relay.metrics import RelayMetrics
from relay.store.storage import Storage

__all__ = ["SERVICES", "HttpServices"]


@dataclass(frozen=True, eq=False)
class HttpServices:
    config: HttpConfig
    storage: Storage
    regions: Mapping[str, frozenset[str]]
    publisher: Publisher
    known_units: UnitDirectory
    hub: Hub
    connections: Connections
    metrics: RelayMetrics
    stream: StreamConfig = field(default_factory=StreamConfig)  # where the console finds it
    relay_id: str | None = None  # federation.md "Identity"


SERVICES = web.AppKey("services", HttpServices)
