"""Where the database comes from: an external URL, or the embedded PostgreSQL.

:func:`open_database` resolves the URL (starting the embedded server when no URL is
configured) and applies the migrations; :meth:`DatabaseHandle.close` stops the embedded
server when this process is the last one using it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

from relay import protection
from relay.config import Config, ConfigError
from relay.protection.keyring import KeyFileError, Keyring
from relay.store.embedded import EmbeddedPostgres
from relay.store.migrations import apply_migrations, discover_migrations

__all__ = ["DatabaseHandle", "connect_once", "open_database", "open_protection"]
_log = structlog.get_logger("relay.storage")


@dataclass
class DatabaseHandle:
    dsn: str
    embedded: EmbeddedPostgres | None
    owner: bool
    key_created: Path | None = None  # the protection key file this opening generated

    async def close(self) -> None:
        if self.embedded is not None:
            stopped = await asyncio.to_thread(self.embedded.stop, owner=self.owner)
            if stopped:
                _log.info("embedded_postgres_stopped", data_dir=str(self.embedded.pgdata))


def open_protection(config: Config) -> Path | None:
    """Install the process's protection from its key file (protection.md "At rest"):
    the configured one must exist; with none configured, the data directory's is
    created on first use. Returns the file's path when it was just created."""
    path = config.key_path
    try:
        if config.protection.key_file:
            protection.install(Keyring.open(path))
            return None
        keyring, created = Keyring.open_or_create(path)
    except KeyFileError as exc:
        raise ConfigError(f"bad value for 'protection.key_file': {exc}") from None
    protection.install(keyring)
    if created:
        _log.info("protection_key_created", key_file=str(path), key_id=keyring.current.key_id)
    return path if created else None


async def open_database(config: Config, *, owner: bool, migrate: bool = True) -> DatabaseHandle:
    """Resolve the database (starting the embedded one if needed), migrate it, and
    install the protection key."""
    key_created = open_protection(config)
    embedded = None
    dsn = config.database.url
    if not dsn:
        embedded = EmbeddedPostgres(config.data_dir)
        started = await asyncio.to_thread(embedded.start, owner=owner)
        _log.info("embedded_postgres", data_dir=str(embedded.pgdata), started=started)
        dsn = embedded.dsn()
    handle = DatabaseHandle(dsn, embedded, owner, key_created)
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
async def connect_once(config: Config, *, on_open: Callable[[DatabaseHandle], None] | None = None
                       ) -> AsyncIterator[asyncpg.Connection]:
    """One connection for a one-shot command, beside or without a running relay;
    ``on_open`` is given the handle once the database is open (it says, for one, whether
    the protection key file was just created)."""
    handle = await open_database(config, owner=False)
    try:
        if on_open is not None:
            on_open(handle)
        conn = await asyncpg.connect(handle.dsn, timeout=10)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await handle.close()
