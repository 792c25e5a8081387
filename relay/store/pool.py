"""The connection pool and the translation of database failures.

Errors of asyncpg and of the network become :class:`relay.errors.Unavailable` here and
nowhere else (shared/STYLE.md §6): a client is told to retry, and nothing it sent was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import structlog

from relay.config import DatabaseConfig
from relay.contract.errors import Unavailable

T = TypeVar("T")
_log = structlog.get_logger("relay.store")

__all__ = [
    "STORE_DOWN_ERRORS",
    "Pools",
    "assume_role",
    "close_pool",
    "create_pool",
    "create_pools",
    "translate_errors",
    "widen_send_buffer",
    "within",
]

STORE_DOWN_ERRORS: tuple[type[Exception], ...] = (
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
    # asyncpg's "cannot switch to state N" / "unknown protocol state": seen when the server
    # ends a session in the middle of a statement (an immediate shutdown); the connection
    # is then unusable and is terminated rather than reused (writer.py).
    asyncpg.InternalClientError,
)


async def assume_role(conn: asyncpg.Connection, role: str) -> None:
    """Work as the least-privileged ``role`` (sql/migrations/004): it cannot alter or delete events."""
    if role:
        await conn.execute(f'SET ROLE "{role}"')  # role name checked by relay.config


@dataclass(frozen=True, slots=True)
class Pools:
    """The relay's database capacity, split so that no kind of work can take another's:

    - ``writes``: the group commit and what publishing and authentication read;
    - ``reads``: the history, alert files, replays, revocation checks;
    - ``exports``: exports and chain verifications, which hold a connection for long.
    """

    writes: asyncpg.Pool
    reads: asyncpg.Pool
    exports: asyncpg.Pool

    async def close(self) -> None:
        await asyncio.gather(*(close_pool(pool) for pool in (self.exports, self.reads, self.writes)))


async def create_pool(dsn: str, config: DatabaseConfig, *, min_size: int | None = None,
                      max_size: int | None = None, statement_timeout: float | None = None,
                      name: str = "relay", idle_in_transaction: bool = False,
                      send_buffer_bytes: int | None = None) -> asyncpg.Pool:
    """A pool whose connections are recycled after a database restart, work as
    ``config.role`` and cancel any statement running longer than ``statement_timeout``
    (server side, so that a forgotten query cannot hold a connection forever);
    ``idle_in_transaction``: the same limit between two statements of a transaction;
    ``send_buffer_bytes``: the socket's send buffer (:func:`widen_send_buffer`)."""

    async def init(conn: asyncpg.Connection) -> None:
        await assume_role(conn, config.role)
        if send_buffer_bytes is not None:
            widen_send_buffer(conn, send_buffer_bytes)

    timeout = config.statement_timeout if statement_timeout is None else statement_timeout
    settings = {"application_name": name, "statement_timeout": str(int(timeout * 1000))}
    if idle_in_transaction:
        settings["idle_in_transaction_session_timeout"] = settings["statement_timeout"]
    return await asyncpg.create_pool(
        dsn,
        min_size=config.pool_min if min_size is None else min_size,
        max_size=config.pool_max if max_size is None else max_size,
        command_timeout=max(config.command_timeout, timeout),
        max_inactive_connection_lifetime=60.0,
        server_settings=settings,
        init=init,
    )


def widen_send_buffer(conn: asyncpg.Connection, size: int) -> int:
    """Give ``conn``'s socket a send buffer of ``size`` bytes (the kernel caps it at
    ``net.core.wmem_max``) and return what it got.

    A group commit of 500 sealed alerts is about 1.5 MB. Through the default buffer
    (~200 KB) it leaves in pieces, each sent only when the event loop comes back to the
    socket, and under load every turn of the loop is long: the statement reached the
    server 150-380 ms after it was sent (docs/performance.md). With room for the whole
    statement, it leaves in one write. asyncpg has no option for it, hence its transport.
    """
    transport = getattr(conn, "_transport", None)  # the pool's init gets the Connection itself
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return 0
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < size:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
    got: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    if got < size and not _CAPPED:
        _CAPPED.append(got)
        _log.warning("send_buffer_capped", wanted=size, got=got,
                     hint="raise the kernel's net.core.wmem_max (docs/deployment.md)")
    return got


_CAPPED: list[int] = []


async def create_pools(dsn: str, config: DatabaseConfig) -> Pools:
    """The three pools of a relay process (:class:`Pools`)."""
    return Pools(
        writes=await create_pool(dsn, config, min_size=1, max_size=config.write_pool_max,
                                 name="relay-writes", send_buffer_bytes=config.write_send_buffer_bytes),
        reads=await create_pool(dsn, config, name="relay-reads"),
        # An export whose reader stalls between two batches lets its transaction go.
        exports=await create_pool(dsn, config, min_size=0, max_size=config.export_pool_max,
                                  statement_timeout=config.export_statement_timeout,
                                  name="relay-exports", idle_in_transaction=True),
    )


_ABANDONED: set[asyncio.Task[Any]] = set()


async def within(deadline: float, action: str, work: Awaitable[T]) -> T:
    """The result of ``work`` if it comes within ``deadline`` seconds, else
    :class:`Unavailable` at once.

    The work is then cancelled in the background rather than awaited: cancelling a query
    makes asyncpg send a cancel request to the server and wait for it, and a frozen server
    is precisely what does not answer. Failures of the store are translated as usual.
    """
    task: asyncio.Task[T] = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=deadline)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        _ABANDONED.add(task)
        task.add_done_callback(_forget)
        raise Unavailable(f"the store did not answer within {deadline:g} s ({action}); retry later")
    async with translate_errors(action):
        return task.result()


def _forget(task: asyncio.Task[Any]) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved, so that it is not reported as never retrieved


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
