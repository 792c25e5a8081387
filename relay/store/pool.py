"""The connection pool and the translation of database failures.

Errors of asyncpg and of the network become :class:`relay.errors.Unavailable` here and
nowhere else (shared/STYLE.md §6): a client is told to retry, and nothing it sent was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

from relay.config import DatabaseConfig
from relay.contract.errors import Unavailable

__all__ = ["STORE_DOWN_ERRORS", "assume_role", "close_pool", "create_pool", "translate_errors"]

STORE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InsufficientResourcesError,
    asyncpg.ConnectionDoesNotExistError,
)


async def assume_role(conn: asyncpg.Connection, role: str) -> None:
    """Work as the least-privileged ``role`` (sql/migrations/004): it cannot alter or delete events."""
    if role:
        await conn.execute(f'SET ROLE "{role}"')  # role name checked by relay.config


async def create_pool(dsn: str, config: DatabaseConfig) -> asyncpg.Pool:
    """A pool whose connections are recycled after a database restart and work as
    ``config.role``."""

    async def init(conn: asyncpg.Connection) -> None:
        await assume_role(conn, config.role)

    return await asyncpg.create_pool(
        dsn,
        min_size=config.pool_min,
        max_size=config.pool_max,
        command_timeout=config.command_timeout,
        max_inactive_connection_lifetime=60.0,
        server_settings={"application_name": "relay"},
        init=init,
    )


async def close_pool(pool: asyncpg.Pool, *, grace: float = 10.0) -> None:
    """Close gracefully (each connection once released); after ``grace`` seconds, or if
    the graceful close fails, terminate the connections."""
    try:
        await asyncio.wait_for(pool.close(), grace)
    except STORE_DOWN_ERRORS:  # TimeoutError among them
        pool.terminate()


@contextlib.asynccontextmanager
async def translate_errors(action: str) -> AsyncIterator[None]:
    """Turn a failure of the store into :class:`Unavailable` naming ``action``."""
    try:
        yield
    except STORE_DOWN_ERRORS as exc:
        raise Unavailable(f"the store is unavailable ({action}); retry later") from exc
