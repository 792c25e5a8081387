"""What the console's scripts run against: an embedded PostgreSQL in a temporary
directory, migrated, and one ``relay serve`` process on it (tests/support.py's
RelayProcess), all stopped at the end. Used by bench/console_latency.py and
bench/console_screenshots.py."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.store.embedded import EmbeddedPostgres  # noqa: E402
from relay.store.migrations import apply_migrations, discover_migrations  # noqa: E402
from tests.support import RelayProcess  # noqa: E402

__all__ = ["console_stack"]


@contextlib.asynccontextmanager
async def console_stack(config_text: str) -> AsyncIterator[tuple[RelayProcess, str]]:
    """A relay with ``config_text`` on a fresh database; yields it and the database URL."""
    tmp = Path(tempfile.mkdtemp(prefix="relay-console-"))
    database = EmbeddedPostgres(tmp / "pg")
    database.start(owner=True)
    try:
        dsn = database.dsn()
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn, discover_migrations())
        finally:
            await conn.close()
        relay = RelayProcess(dsn, tmp / "relay", config_text=config_text)
        await relay.start()
        try:
            yield relay, dsn
        finally:
            await relay.stop()
    finally:
        database.force_stop()
        shutil.rmtree(tmp, ignore_errors=True)
