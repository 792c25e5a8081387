"""The schema from ``sql/``: numbered migrations, then the current function definitions.

- ``sql/migrations/NNN_name.sql`` change tables and data. Each is applied once, in its
  own transaction, and recorded in ``relay_schema_migrations``; numbers have no gaps.
- ``sql/functions/name.sql`` hold the one current definition of each server-side
  function (and the types it takes). After the migrations, each file whose SHA-256
  differs from the one recorded in ``relay_schema_functions`` is applied again, in a
  transaction, so a change to a function is a change to one file that a reviewer reads
  whole. A function file must be safe to re-apply (it drops what it re-creates).

An advisory lock makes relay processes starting together on one database apply each step
exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import asyncpg

__all__ = [
    "SQL_DIR",
    "Applied",
    "Migration",
    "SqlFunction",
    "apply_migrations",
    "discover_functions",
    "discover_migrations",
]

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_MIGRATION = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_FUNCTION = re.compile(r"^([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x52454C4159  # "RELAY"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class SqlFunction:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    """What one run applied: migration versions, and function files (re)defined."""

    migrations: list[int] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


def _sql_dir() -> Path:
    if SQL_DIR.is_dir():
        return SQL_DIR
    return Path(str(resources.files("relay") / "sql"))


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations in version order; a gap or a duplicate version is an error."""
    folder = directory or _sql_dir() / "migrations"
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        match = _MIGRATION.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations in {folder} must be numbered 001, 002, ... without gaps")
    return found


def discover_functions(directory: Path | None = None) -> list[SqlFunction]:
    """The function definitions, by file name."""
    folder = directory or _sql_dir() / "functions"
    return [SqlFunction(match[1], path.read_text(encoding="utf-8"))
            for path in sorted(folder.iterdir()) if (match := _FUNCTION.match(path.name))]


async def apply_migrations(conn: asyncpg.Connection, migrations: list[Migration],
                           functions: list[SqlFunction] | None = None) -> Applied:
    """Apply the migrations not yet recorded, then every function file that changed
    (``functions``: those of ``sql/functions`` unless given)."""
    current = discover_functions() if functions is None else functions
    applied = Applied()
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS relay_schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())""")
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS relay_schema_functions (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())""")
        done = {r["version"] for r in await conn.fetch("SELECT version FROM relay_schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO relay_schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version, migration.name)
            applied.migrations.append(migration.version)
        recorded = {r["name"]: r["checksum"]
                    for r in await conn.fetch("SELECT name, checksum FROM relay_schema_functions")}
        for function in current:
            if recorded.get(function.name) == function.checksum:
                continue
            async with conn.transaction():
                await conn.execute(function.sql)
                await conn.execute(
                    "INSERT INTO relay_schema_functions (name, checksum) VALUES ($1, $2)"
                    " ON CONFLICT (name) DO UPDATE SET checksum = $2, applied_at = now()",
                    function.name, function.checksum)
            applied.functions.append(function.name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
