"""Where the database comes from: an external URL, or the embedded PostgreSQL.

:func:`open_database` resolves the URL (starting the embedded server when no URL is
configured) and applies the migrations; :meth:`DatabaseHandle.close` stops the embedded
server when this process is the last one using it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import structlog

from relay.config import Config
from relay.store.embedded import EmbeddedPostgres
from relay.store.migrations import apply_migrations, discover_migrations

__all__ = ["DatabaseHandle", "connect_once", "open_database"]
_log = structlog.get_logger("relay.storage")


@dataclass
class DatabaseHandle:
    dsn: str
    embedded: EmbeddedPostgres | None
    owner: bool

    async def close(self) -> None:
        if self.embedded is not None:
            stopped = await asyncio.to_thread(self.embedded.stop, owner=self.owner)
            if stopped:
                _log.info("embedded_postgres_stopped", data_dir=str(self.embedded.pgdata))


async def open_database(config: Config, *, owner: bool, migrate: bool = True) -> DatabaseHandle:
    """Resolve the database (starting the embedded one if needed) and migrate it."""
    embedded = None
    dsn = config.database.url
    if not dsn:
        embedded = EmbeddedPostgres(config.data_dir)
        started = await asyncio.to_thread(embedded.start, owner=owner)
        _log.info("embedded_postgres", data_dir=str(embedded.pgdata), started=started)
        dsn = embedded.dsn()
    handle = DatabaseHandle(dsn, embedded, owner)
    if migrate:
        try:
            conn = await asyncpg.connect(dsn, timeout=10)
            try:
                applied = await apply_migrations(conn, discover_migrations())
            finally:
                await conn.close()
        except BaseException:
            await handle.close()
            raise
        if applied.migrations or applied.functions:
            _log.info("schema_applied", migrations=applied.migrations, functions=applied.functions)
    return handle


@contextlib.asynccontextmanager
async def connect_once(config: Config) -> AsyncIterator[asyncpg.Connection]:
    """One connection for a one-shot command, beside or without a running relay."""
    handle = await open_database(config, owner=False)
    try:
        conn = await asyncpg.connect(handle.dsn, timeout=10)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await handle.close()
