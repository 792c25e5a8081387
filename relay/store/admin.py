"""Administration of units and tokens (admin.md): the one place that changes them.

Used by the ``relay`` command and the admin HTTP API alike, so both follow the same
rules: a token is shown once and stored as its digest; revoking one token leaves the
unit's others working; suspending a unit revokes all its tokens, and reinstating it lets
only tokens issued afterwards work; the last active unit with the role ``admin`` can
neither lose that role nor be suspended. Every change is written to the access log in
the transaction that makes it (who, what, to which unit or token; never a token), and
announced on ``relay_revocations`` / ``relay_units`` so that every relay process acts on
it at once.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from relay.contract import reference
from relay.contract.errors import BadFrame, Conflict, NotFound, RelayError, Unauthorized
from relay.contract.ids import is_unit_id
from relay.contract.problems import Problem
from relay.contract.roles import ROLES, Role
from relay.contract.times import rfc3339
from relay.core.principals import Unit
from relay.store.tokens import new_token, token_digest

__all__ = [
    "ADMIN_ACTIONS",
    "MAX_EXPIRY_DAYS",
    "TOKEN_ID",
    "Actor",
    "IssuedToken",
    "RowRefused",
    "TokenInfo",
    "UnitChange",
    "UnitInfo",
    "add_unit",
    "add_units",
    "change_unit",
    "get_unit",
    "issue_token",
    "list_tokens",
    "list_units",
    "new_public_id",
    "new_unit_problems",
    "record_action",
    "reinstate_unit",
    "revoke_token",
    "suspend_unit",
]

MAX_EXPIRY_DAYS = 3650
# What the access log's ``action`` says of each change.
ADMIN_ACTIONS = ("unit.add", "unit.set", "unit.suspend", "unit.reinstate", "token.issue", "token.revoke",
                 "peer.add", "peer.revoke", "key.rotate", "key.retire")
MAX_LABEL = 200
MAX_NAME = 200
_PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_IATA = re.compile(r"[A-Z]{3}")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TOKEN_ID = re.compile(r"tok_[a-z0-9]{12}")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a unit over HTTP, or ``cli:<system user>`` for the relay command."""

    name: str
    method: str  # the HTTP method, or "CLI"
    path: str  # the HTTP path, or the command line ("relay units add")
    token_id: int | None = None  # the token of an HTTP request, checked again in the change


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    unit_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return None if value is None else rfc3339(value)
        return {"token_id": self.token_id, "unit_id": self.unit_id, "label": self.label,
                "created_at": rfc3339(self.created_at), "expires_at": moment(self.expires_at),
                "last_used_at": moment(self.last_used_at), "revoked_at": moment(self.revoked_at)}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # the secret: shown once, never stored
    info: TokenInfo


@dataclass(frozen=True, slots=True)
class UnitInfo:
    unit: Unit
    reinstated_at: datetime | None
    active_tokens: int

    def as_dict(self) -> dict[str, Any]:
        unit = self.unit
        return {"unit_id": unit.unit_id, "country": unit.country, "airport": unit.airport,
                "name": unit.name, "roles": sorted(unit.roles),
                "created_at": rfc3339(unit.created_at), "suspended": unit.revoked_at is not None,
                "suspended_at": None if unit.revoked_at is None else rfc3339(unit.revoked_at),
                "reinstated_at": None if self.reinstated_at is None else rfc3339(self.reinstated_at),
                "active_tokens": self.active_tokens}


@dataclass(frozen=True, slots=True)
class UnitChange:
    """What ``relay units set`` / ``PATCH`` change; None leaves a field as it is."""

    roles: Sequence[str] | None = None
    name: str | None = None
    airport: str | None = None


# -- checks (pure) --------------------------------------------------------------------


def _roles_problems(roles: Sequence[str], field: str = "roles") -> list[Problem]:
    if not roles:
        return [Problem(field, "item_count", {"low": 1, "high": len(ROLES)})]
    return [Problem(f"{field}[{n}]", "not_one_of", {"allowed": sorted(ROLES)})
            for n, role in enumerate(roles) if role not in ROLES]


def _text_problems(field: str, text: str, limit: int) -> list[Problem]:
    """A unit's name or a token's label: at most ``limit`` characters, and none that
    PostgreSQL cannot store (NUL) or that would act on a terminal or reorder what an
    operator reads (control characters, bidirectional overrides)."""
    if len(text) > limit:
        return [Problem(field, "length", {"low": 0, "high": limit})]
    if "\x00" in text:
        return [Problem(field, "nul_character")]
    for character in text:
        if unicodedata.category(character) == "Cc" or character in _BIDI_CONTROLS:
            return [Problem(field, "control_character", {"character": f"U+{ord(character):04X}"})]
    return []


def _name_problems(name: str) -> list[Problem]:
    return _text_problems("name", name, MAX_NAME)


def _airport_problems(airport: str | None) -> list[Problem]:
    if airport is None or reference.is_airport(airport):
        return []
    if not _IATA.fullmatch(airport):
        return [Problem("airport", "bad_iata")]
    return [Problem("airport", "unknown_airport", {"value": airport})]


def new_unit_problems(unit_id: str, country: str, airport: str | None, name: str,
                      roles: Sequence[str]) -> list[Problem]:
    """Every problem of a new unit's fields, each naming its field."""
    problems = []
    if not is_unit_id(unit_id):
        problems.append(Problem("unit_id", "bad_unit_id"))
    if not reference.is_country(country):
        problems.append(Problem("country", "bad_country", {"value": country}))
    return problems + _airport_problems(airport) + _name_problems(name) + _roles_problems(roles)


def _refuse(message: str, problems: list[Problem]) -> None:
    if problems:
        raise BadFrame(message, problems)


def _expiry(days: int | None) -> timedelta | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise BadFrame("the expiry is out of range", [
            Problem("expires_in_days", "integer_range", {"low": 1, "high": MAX_EXPIRY_DAYS})])
    return timedelta(days=days)


def _public_id() -> str:
    return "tok_" + "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(12))


new_public_id = _public_id  # a token's public id (tok_...), for the peers' tokens too


# -- reads ----------------------------------------------------------------------------

_UNIT_COLUMNS = ("u.unit_id, u.country, u.airport, u.name, u.roles, u.created_at, u.revoked_at,"
                 " u.reinstated_at, (SELECT count(*) FROM relay_tokens t WHERE t.unit_id = u.unit_id"
                 " AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()))"
                 " AS active_tokens")
_TOKEN_COLUMNS = "public_id, unit_id, label, created_at, expires_at, last_used_at, revoked_at"  # noqa: S105 - column names


def _unit_info(row: asyncpg.Record) -> UnitInfo:
    unit = Unit(row["unit_id"], row["country"], row["airport"], row["name"],
                frozenset(row["roles"]), row["created_at"], row["revoked_at"])
    return UnitInfo(unit, row["reinstated_at"], int(row["active_tokens"]))


def _token_info(row: asyncpg.Record | None) -> TokenInfo:
    assert row is not None  # the statement returns the row it wrote
    return TokenInfo(row["public_id"], row["unit_id"], row["label"], row["created_at"],
                     row["expires_at"], row["last_used_at"], row["revoked_at"])


async def list_units(conn: asyncpg.Connection | asyncpg.Pool) -> list[UnitInfo]:
    rows = await conn.fetch(f"SELECT {_UNIT_COLUMNS} FROM relay_units u ORDER BY u.unit_id")
    return [_unit_info(row) for row in rows]


async def get_unit(conn: asyncpg.Connection | asyncpg.Pool, unit_id: str, *,
                   for_update: bool = False) -> UnitInfo:
    if not is_unit_id(unit_id):  # not even the form of one: no need to ask the database
        raise NotFound("no such unit", [Problem("unit_id", "bad_unit_id")])
    lock = " FOR UPDATE OF u" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_UNIT_COLUMNS} FROM relay_units u WHERE u.unit_id = $1{lock}",
                              unit_id)
    if row is None:
        raise NotFound(f"no unit {unit_id}", [Problem("unit_id", "unknown_unit", {"value": unit_id})])
    return _unit_info(row)


async def list_tokens(conn: asyncpg.Connection | asyncpg.Pool,
                      unit_id: str | None = None) -> list[TokenInfo]:
    """Every token (of one unit, if given), oldest first; never the secret."""
    if unit_id is not None:
        await get_unit(conn, unit_id)
    rows = await conn.fetch(
        f"SELECT {_TOKEN_COLUMNS} FROM relay_tokens WHERE unit_id IS NOT NULL"
        " AND ($1::text IS NULL OR unit_id = $1)"
        " ORDER BY unit_id, token_id", unit_id)
    return [_token_info(row) for row in rows]


# -- changes --------------------------------------------------------------------------


async def _record(conn: asyncpg.Connection, actor: Actor, action: str, target: str,
                  details: Mapping[str, Any] | None = None, status: int = 200) -> None:
    await conn.execute(
        "INSERT INTO relay_access_log (unit_id, method, path, query, rows, status, action, target)"
        " VALUES ($1, $2, $3, $4::jsonb, NULL, $5, $6, $7)",
        actor.name, actor.method, actor.path, orjson.dumps(dict(details or {})).decode(),
        status, action, target)


record_action = _record  # the access log line of an administrative change


async def _check_actor(conn: asyncpg.Connection, actor: Actor) -> None:
    """An HTTP actor's token is still valid and its unit still an active admin, checked in
    the transaction of the change: a request begun before a revocation does not act after
    it. (The relay command's authority is the database login it runs with.)"""
    if actor.token_id is None:
        return
    still = await conn.fetchval(
        "SELECT 1 FROM relay_tokens t JOIN relay_units u USING (unit_id) WHERE t.token_id = $1"
        " AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())"
        " AND u.revoked_at IS NULL AND $2 = ANY(u.roles)", actor.token_id, Role.ADMIN.value)
    if still is None:
        raise Unauthorized("the token was revoked, or its unit lost the role admin, during the request")


async def _insert_token(conn: asyncpg.Connection, unit_id: str, label: str,
                        expires_in_days: int | None) -> IssuedToken:
    _refuse("the label cannot be used", _text_problems("label", label, MAX_LABEL))
    lifetime = _expiry(expires_in_days)
    token = new_token()
    row = await conn.fetchrow(
        "INSERT INTO relay_tokens (unit_id, token_hash, public_id, label, expires_at)"
        " VALUES ($1, $2, $3, $4, now() + $5::interval)"
        f" RETURNING {_TOKEN_COLUMNS}",
        unit_id, token_digest(token), _public_id(), label, lifetime)
    return IssuedToken(token, _token_info(row))


async def add_unit(conn: asyncpg.Connection, actor: Actor, unit_id: str, *, country: str,
                   airport: str | None, name: str, roles: Sequence[str],
                   label: str = "") -> tuple[UnitInfo, IssuedToken]:
    """Create the unit and its first token."""
    _refuse(f"unit {unit_id} cannot be added", new_unit_problems(unit_id, country, airport, name, roles))
    async with conn.transaction():
        await _check_actor(conn, actor)
        remote = await conn.fetchval("SELECT relay_id FROM relay_remote_units WHERE unit_id = $1",
                                     unit_id)
        if remote is not None:  # never merged with a peer's unit (federation.md)
            raise Conflict(f"unit {unit_id} is a unit of peer relay {remote}",
                           [Problem("unit_id", "already_exists", {"value": unit_id})])
        try:
            await conn.execute(
                "INSERT INTO relay_units (unit_id, country, airport, name, roles)"
                " VALUES ($1, $2, $3, $4, $5)", unit_id, country, airport, name, sorted(set(roles)))
        except asyncpg.UniqueViolationError:
            raise Conflict(f"unit {unit_id} already exists",
                           [Problem("unit_id", "already_exists", {"value": unit_id})]) from None
        issued = await _insert_token(conn, unit_id, label, None)
        await _record(conn, actor, "unit.add", unit_id,
                      {"country": country, "airport": airport, "roles": sorted(set(roles)),
                       "token_id": issued.info.token_id}, status=201)
        # An empty payload: PostgreSQL sends one notification per transaction for many
        # units added together (an import), and the relays read the units once.
        await conn.execute("SELECT pg_notify('relay_units', '')")
        return await get_unit(conn, unit_id), issued


class RowRefused(Exception):
    """One unit of :func:`add_units` was refused (the ``index``-th); nothing was added."""

    def __init__(self, index: int, error: RelayError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


async def add_units(conn: asyncpg.Connection, actor: Actor,
                    units: Iterable[tuple[str, str, str | None, str, list[str]]]
                    ) -> list[tuple[str, str]]:
    """Add many units in one transaction (all or nothing): their (unit_id, token)."""
    issued: list[tuple[str, str]] = []
    async with conn.transaction():
        for index, (unit_id, country, airport, name, roles) in enumerate(units):
            try:
                _, token = await add_unit(conn, actor, unit_id, country=country, airport=airport,
                                          name=name, roles=roles)
            except RelayError as exc:
                raise RowRefused(index, exc) from None
            issued.append((unit_id, token.token))
    return issued


async def _active_admins_besides(conn: asyncpg.Connection, unit_id: str) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM relay_units WHERE unit_id <> $1 AND revoked_at IS NULL"
        " AND $2 = ANY(roles)", unit_id, Role.ADMIN.value))


async def _lock_admins(conn: asyncpg.Connection) -> None:
    """Two admins removing each other at once must not both succeed."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('relay_admins'))")


async def change_unit(conn: asyncpg.Connection, actor: Actor, unit_id: str,
                      change: UnitChange) -> UnitInfo:
    """Change a unit's roles, name or airport."""
    problems = []
    if change.roles is not None:
        problems += _roles_problems(change.roles)
    if change.name is not None:
        problems += _name_problems(change.name)
    problems += _airport_problems(change.airport)
    _refuse(f"unit {unit_id} cannot be changed", problems)
    async with conn.transaction():
        await _lock_admins(conn)
        await _check_actor(conn, actor)
        before = await get_unit(conn, unit_id, for_update=True)
        roles = sorted(set(change.roles)) if change.roles is not None else sorted(before.unit.roles)
        loses_admin = Role.ADMIN in before.unit.roles and Role.ADMIN not in roles
        if loses_admin and before.unit.revoked_at is None and not await _active_admins_besides(conn, unit_id):
            raise Conflict(f"unit {unit_id} is the last active admin unit",
                           [Problem("roles", "last_admin")])
        await conn.execute(
            "UPDATE relay_units SET roles = $2, name = coalesce($3, name), airport = coalesce($4, airport)"
            " WHERE unit_id = $1", unit_id, roles, change.name, change.airport)
        details = {key: value for key, value in (("roles", change.roles and roles),
                                                 ("name", change.name), ("airport", change.airport))
                   if value is not None}
        await _record(conn, actor, "unit.set", unit_id, details)
        if roles != sorted(before.unit.roles):
            # Open connections hold the roles they authenticated with: end them, so that
            # the unit's clients reconnect with the new ones.
            await conn.execute("SELECT pg_notify('relay_revocations', $1)", f"roles:{unit_id}")
        return await get_unit(conn, unit_id)


async def suspend_unit(conn: asyncpg.Connection, actor: Actor, unit_id: str) -> int:
    """Suspend the unit and revoke all its tokens; how many tokens were active."""
    async with conn.transaction():
        await _lock_admins(conn)
        await _check_actor(conn, actor)
        before = await get_unit(conn, unit_id, for_update=True)
        if before.unit.revoked_at is not None:
            raise Conflict(f"unit {unit_id} is already suspended",
                           [Problem("unit_id", "unit_suspended", {"value": unit_id})])
        if Role.ADMIN in before.unit.roles and not await _active_admins_besides(conn, unit_id):
            raise Conflict(f"unit {unit_id} is the last active admin unit",
                           [Problem("unit_id", "last_admin")])
        await conn.execute("UPDATE relay_units SET revoked_at = now() WHERE unit_id = $1", unit_id)
        count = await conn.fetchval(
            "WITH r AS (UPDATE relay_tokens SET revoked_at = now()"
            " WHERE unit_id = $1 AND revoked_at IS NULL RETURNING 1) SELECT count(*) FROM r", unit_id)
        await _record(conn, actor, "unit.suspend", unit_id, {"tokens_revoked": int(count)})
        await conn.execute("SELECT pg_notify('relay_revocations', $1)", unit_id)
    return int(count)


async def reinstate_unit(conn: asyncpg.Connection, actor: Actor, unit_id: str) -> UnitInfo:
    """Lift a suspension; the tokens revoked by it stay revoked (issue new ones)."""
    async with conn.transaction():
        await _check_actor(conn, actor)
        before = await get_unit(conn, unit_id, for_update=True)
        if before.unit.revoked_at is None:
            raise Conflict(f"unit {unit_id} is not suspended",
                           [Problem("unit_id", "not_suspended", {"value": unit_id})])
        await conn.execute("UPDATE relay_units SET revoked_at = NULL, reinstated_at = now()"
                           " WHERE unit_id = $1", unit_id)
        await _record(conn, actor, "unit.reinstate", unit_id)
        return await get_unit(conn, unit_id)


async def issue_token(conn: asyncpg.Connection, actor: Actor, unit_id: str, *, label: str = "",
                      expires_in_days: int | None = None) -> IssuedToken:
    """A new token for an active unit; its other tokens stay valid."""
    async with conn.transaction():
        await _check_actor(conn, actor)
        unit = await get_unit(conn, unit_id, for_update=True)
        if unit.unit.revoked_at is not None:
            raise Conflict(f"unit {unit_id} is suspended; reinstate it first",
                           [Problem("unit_id", "unit_suspended", {"value": unit_id})])
        issued = await _insert_token(conn, unit_id, label, expires_in_days)
        await _record(conn, actor, "token.issue", issued.info.token_id,
                      {"unit_id": unit_id, "label": label, "expires_in_days": expires_in_days},
                      status=201)
        return issued


async def revoke_token(conn: asyncpg.Connection, actor: Actor, token_id: str) -> TokenInfo:
    """Revoke one token; the unit's other tokens keep working."""
    if not TOKEN_ID.fullmatch(token_id):
        raise NotFound("no such token", [Problem("token_id", "unknown_token", {"value": token_id})])
    async with conn.transaction():
        await _check_actor(conn, actor)
        row = await conn.fetchrow(
            f"SELECT token_id AS internal_id, {_TOKEN_COLUMNS} FROM relay_tokens"
            " WHERE public_id = $1 FOR UPDATE", token_id)
        if row is None:
            raise NotFound(f"no token {token_id}",
                           [Problem("token_id", "unknown_token", {"value": token_id})])
        if row["revoked_at"] is not None:
            raise Conflict(f"token {token_id} is already revoked",
                           [Problem("token_id", "already_revoked", {"value": token_id})])
        revoked = await conn.fetchrow(
            f"UPDATE relay_tokens SET revoked_at = now() WHERE public_id = $1 RETURNING {_TOKEN_COLUMNS}",
            token_id)
        await _record(conn, actor, "token.revoke", token_id, {"unit_id": row["unit_id"]}, status=204)
        await conn.execute("SELECT pg_notify('relay_revocations', $1)", f"token:{row['internal_id']}")
        return _token_info(revoked)
