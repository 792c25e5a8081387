"""Units and their tokens in the database: add, list, revoke, issue, authenticate."""

from __future__ import annotations

import asyncpg

from relay.contract import reference
from relay.contract.ids import is_unit_id
from relay.contract.roles import ROLES
from relay.core.principals import Principal, Unit
from relay.store.pool import translate_errors
from relay.store.tokens import looks_like_token, new_token, token_digest

__all__ = [
    "KnownUnits",
    "UnitError",
    "add_unit",
    "authenticate",
    "check_new_unit",
    "issue_token",
    "known_unit_ids",
    "list_units",
    "revoke_unit",
    "revoked_token_ids",
]



class UnitError(Exception):
    """A unit command was refused; the message says why."""


def check_new_unit(unit_id: str, country: str, airport: str | None, roles: list[str]) -> None:
    """Refuse a bad unit id, country, airport or role with a message naming it."""
    if not is_unit_id(unit_id):
        raise UnitError(f"unit id {unit_id!r} must match [A-Z0-9-]{{3,40}}")
    if not reference.is_country(country):
        raise UnitError(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    if airport is not None and not reference.is_airport(airport):
        raise UnitError(f"airport {airport!r} is not a known IATA airport code")
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise UnitError(f"roles must be some of {', '.join(sorted(ROLES))}; got {','.join(roles)!r}")


def _unit(row: asyncpg.Record) -> Unit:
    return Unit(row["unit_id"], row["country"], row["airport"], row["name"],
                frozenset(row["roles"]), row["created_at"], row["revoked_at"])


async def add_unit(conn: asyncpg.Connection, unit_id: str, *, country: str,
                   airport: str | None, name: str, roles: list[str]) -> str:
    """Create the unit and its first token; return the token (shown once)."""
    check_new_unit(unit_id, country, airport, roles)
    async with conn.transaction():
        try:
            await conn.execute(
                "INSERT INTO relay_units (unit_id, country, airport, name, roles)"
                " VALUES ($1, $2, $3, $4, $5)",
                unit_id, country, airport, name, sorted(set(roles)),
            )
        except asyncpg.UniqueViolationError:
            raise UnitError(f"unit {unit_id} already exists") from None
        token = await _insert_token(conn, unit_id)
        await conn.execute("SELECT pg_notify('relay_units', $1)", unit_id)
    return token


async def _insert_token(conn: asyncpg.Connection, unit_id: str) -> str:
    token = new_token()
    await conn.execute(
        "INSERT INTO relay_tokens (unit_id, token_hash) VALUES ($1, $2)",
        unit_id, token_digest(token),
    )
    return token


async def list_units(conn: asyncpg.Connection) -> list[tuple[Unit, int]]:
    """Every unit with its number of active tokens."""
    rows = await conn.fetch(
        "SELECT u.*, (SELECT count(*) FROM relay_tokens t"
        "  WHERE t.unit_id = u.unit_id AND t.revoked_at IS NULL) AS active_tokens"
        " FROM relay_units u ORDER BY u.unit_id"
    )
    return [(_unit(row), row["active_tokens"]) for row in rows]


async def revoke_unit(conn: asyncpg.Connection, unit_id: str) -> int:
    """Revoke the unit and all its tokens; return how many tokens were active."""
    async with conn.transaction():
        status = await conn.execute(
            "UPDATE relay_units SET revoked_at = now() WHERE unit_id = $1 AND revoked_at IS NULL",
            unit_id,
        )
        if status == "UPDATE 0":
            exists = await conn.fetchval("SELECT 1 FROM relay_units WHERE unit_id = $1", unit_id)
            raise UnitError(f"unit {unit_id} is already revoked" if exists else f"no unit {unit_id}")
        count = await conn.fetchval(
            "WITH r AS (UPDATE relay_tokens SET revoked_at = now()"
            " WHERE unit_id = $1 AND revoked_at IS NULL RETURNING 1) SELECT count(*) FROM r",
            unit_id,
        )
        await conn.execute("SELECT pg_notify('relay_revocations', $1)", unit_id)
    return int(count)


async def issue_token(conn: asyncpg.Connection, unit_id: str) -> str:
    """A new token for an active unit; its earlier tokens stay valid."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT revoked_at FROM relay_units WHERE unit_id = $1", unit_id)
        if row is None:
            raise UnitError(f"no unit {unit_id}")
        if row["revoked_at"] is not None:
            raise UnitError(f"unit {unit_id} is revoked")
        return await _insert_token(conn, unit_id)


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    """The unit of an active token, or None (unknown, revoked, or unit revoked)."""
    if not looks_like_token(token):
        return None
    row = await conn.fetchrow(
        "SELECT t.token_id, u.* FROM relay_tokens t JOIN relay_units u USING (unit_id)"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.revoked_at IS NULL",
        token_digest(token),
    )
    return None if row is None else Principal(_unit(row), row["token_id"])


async def revoked_token_ids(conn: asyncpg.Connection | asyncpg.Pool, token_ids: list[int]) -> set[int]:
    """Those of ``token_ids`` that are no longer valid."""
    rows = await conn.fetch(
        "SELECT t.token_id FROM relay_tokens t JOIN relay_units u USING (unit_id)"
        " WHERE t.token_id = ANY($1::bigint[])"
        " AND (t.revoked_at IS NOT NULL OR u.revoked_at IS NOT NULL)",
        token_ids,
    )
    return {row["token_id"] for row in rows}


async def known_unit_ids(conn: asyncpg.Connection | asyncpg.Pool) -> frozenset[str]:
    """Every unit id, revoked ones included (an alert may still name them)."""
    rows = await conn.fetch("SELECT unit_id FROM relay_units")
    return frozenset(row["unit_id"] for row in rows)


class KnownUnits:
    """The unit ids a distribution may name (:class:`relay.core.ports.UnitDirectory`);
    refreshed on ``relay_units`` notifications."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.ids: frozenset[str] = frozenset()

    async def refresh(self) -> None:
        async with translate_errors("reading units"):
            self.ids = await known_unit_ids(self._pool)
