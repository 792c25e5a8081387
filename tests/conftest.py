"""Fixtures: one embedded PostgreSQL for the run, a fresh database per module, relays.

The server is the relay's own embedded PostgreSQL (relay.embedded), started once. Each
test module gets a new database cloned from a migrated template, so modules do not see
each other's events.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings

from relay.store.embedded import EmbeddedPostgres
from relay.store.migrations import apply_migrations, discover_migrations
from tests.support import RelayProcess

# Hypothesis fails an example slower than 200 ms: a timed assertion, which a loaded
# machine trips on an example that only warms a cache (it failed a full run once). Speed
# is measured in bench/; here only what the properties say counts.
settings.register_profile("relay", deadline=None)
settings.load_profile("relay")

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    root = Path(tempfile.mkdtemp(prefix="relay-pg-"))
    server = EmbeddedPostgres(root)
    server.start(owner=True)
    try:
        yield server
    finally:
        server.force_stop()
        shutil.rmtree(root, ignore_errors=True)


def database_url(server: EmbeddedPostgres, name: str) -> str:
    return server.dsn().replace("/postgres?", f"/{name}?")


@pytest.fixture(scope="session")
async def template_db(pg_server: EmbeddedPostgres) -> str:
    conn = await asyncpg.connect(pg_server.dsn())
    try:
        await conn.execute("DROP DATABASE IF EXISTS relay_template")
        await conn.execute("CREATE DATABASE relay_template")
    finally:
        await conn.close()
    conn = await asyncpg.connect(database_url(pg_server, "relay_template"))
    try:
        await apply_migrations(conn, discover_migrations())
    finally:
        await conn.close()
    return "relay_template"


async def fresh_database(pg_server: EmbeddedPostgres, template: str) -> str:
    name = f"relay_test_{next(_databases)}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(pg_server.dsn())
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return database_url(pg_server, name)


@pytest.fixture(scope="module")
async def dsn(pg_server: EmbeddedPostgres, template_db: str) -> str:
    return await fresh_database(pg_server, template_db)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="relay-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def running_relay(dsn: str, workdir: Path, config_text: str = "") -> AsyncIterator[RelayProcess]:
    """A relay process with its own configuration, stopped (SIGTERM) at the end."""
    process = RelayProcess(dsn, workdir, config_text=config_text)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture(scope="module")
async def relay(dsn: str, workdir: Path) -> AsyncIterator[RelayProcess]:
    """One relay process shared by the tests of a module (modules may override it)."""
    async with running_relay(dsn, workdir, REGIONS_CONFIG) as process:
        yield process


REGIONS_CONFIG = """
[regions]
"G5-SAHEL" = ["BF", "ML", "MR", "NE", "TD"]
"MAGHREB" = ["MA", "DZ", "TN"]
"""
