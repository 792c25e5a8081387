"""LISTEN/NOTIFY: how relay processes sharing a database learn of each other's commits.

One dedicated connection listens on ``relay_events`` (payload: the new head seq),
``relay_revocations`` (a unit id, ``token:<id>`` or ``roles:<unit id>``) and ``relay_units`` (a unit was added). Notifications
are the main path. The same task also reads ``relay_head`` once a second, a safety net
for a notification lost while the connection was down; after the database restarts the
task reconnects with backoff and catches up the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import structlog

from relay.store.eventlog import read_head
from relay.store.pool import STORE_DOWN_ERRORS, assume_role
from relay.store.writer import EVENTS_CHANNEL

__all__ = ["Listener"]
_log = structlog.get_logger("relay.listener")
_POLL_SECONDS = 1.0


# The database is gone or restarting: reconnect (never let the listener die).
_RETRIED: tuple[type[Exception], ...] = (*STORE_DOWN_ERRORS, asyncpg.PostgresError)

class Listener:
    def __init__(
        self,
        dsn: str,
        *,
        role: str,
        on_head: Callable[[int], None],
        on_revocation: Callable[[str], object],
        on_unit_added: Callable[[], None],
    ) -> None:
        self._dsn = dsn
        self._role = role
        self._on_head = on_head
        self._on_revocation = on_revocation
        self._on_unit_added = on_unit_added
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Forever: connect, listen, poll the head; reconnect after any failure."""
        delay = 0.1
        while True:
            try:
                await self._session()
            except _RETRIED as exc:
                self.connected.clear()
                _log.warning("listener_reconnecting", error=type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            else:
                delay = 0.1

    async def _session(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=5, server_settings={
            "application_name": "relay-listener"})
        try:
            await assume_role(conn, self._role)
            await conn.add_listener(EVENTS_CHANNEL, self._events)
            await conn.add_listener("relay_revocations", self._revocation)
            await conn.add_listener("relay_units", self._unit)
            self.connected.set()
            self._on_unit_added()
            while not conn.is_closed():
                self._on_head(await read_head(conn))
                await asyncio.sleep(_POLL_SECONDS)
            raise ConnectionError("listener connection closed")
        finally:
            self.connected.clear()
            conn.terminate()

    def _events(self, conn: object, pid: int, channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload.isdigit():
            self._on_head(int(payload))

    def _revocation(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self._on_revocation(str(payload))

    def _unit(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self._on_unit_added()
