"""Federation in the database (docs/federation.md): the relay's id, the peers it grants
access to, the links it pulls from, the units its peers published, the events it sends
and applies.

- Grants (``relay_peers``): a peer's scope of countries and its federation token, in
  ``relay_tokens`` beside the units' tokens, so revocation works as for any token.
- Links (``relay_links``): per peer this relay pulls from, the resume cursor
  (``position``) moved in the same transaction as the events it applied, and the state
  that ``relay peers list``, ``/metrics`` and ``GET /v1/federation/peers`` show.
- Directories (``relay_remote_units``): a peer's units, accepted only within the
  countries this relay granted that peer; an id used locally or by another peer is
  refused, never merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from relay.contract import reference
from relay.contract.errors import BadFrame, Conflict, NotFound
from relay.contract.federation import PeerScope, RemoteUnit, is_relay_id
from relay.contract.problems import Problem
from relay.contract.times import rfc3339
from relay.core.events import Event, PendingEvent, WriteResult
from relay.store.admin import Actor, IssuedToken, TokenInfo, new_public_id, record_action
from relay.store.eventlog import bounded_page
from relay.store.refresh import CoalescedRefresh
from relay.store.tokens import new_token, token_digest
from relay.store.writer import new_events

__all__ = [
    "IdentityConflict",
    "LinkStatus",
    "PeerScopes",
    "PeerStatus",
    "apply_remote",
    "ensure_identity",
    "fetch_outbound_events",
    "forget_unconfigured_links",
    "grant_peer",
    "link_position",
    "local_directory",
    "local_unit_ids",
    "peer_scope",
    "peer_statuses",
    "read_identity",
    "remote_units",
    "replace_directory",
    "revoke_peer",
    "set_link_state",
]

_log = structlog.get_logger("relay.federation")
Connection = asyncpg.Connection | PoolConnectionProxy


class IdentityConflict(Exception):
    """The configuration names another relay id than the one this database belongs to."""


# -- identity -------------------------------------------------------------------------

async def read_identity(conn: asyncpg.Connection | asyncpg.Pool) -> str | None:
    value = await conn.fetchval("SELECT relay_id FROM relay_identity")
    return str(value) if value is not None else None


async def ensure_identity(conn: asyncpg.Connection | asyncpg.Pool, configured: str | None) -> str | None:
    """The relay's id: stored by the first start that has one, never changed afterwards."""
    stored = await read_identity(conn)
    if configured is None or configured == stored:
        return stored
    if stored is not None:
        raise IdentityConflict(
            f"relay.id is {configured!r} but this database belongs to relay {stored!r}:"
            " a relay's id never changes")
    await conn.execute("INSERT INTO relay_identity (relay_id) VALUES ($1) ON CONFLICT DO NOTHING",
                       configured)
    return await ensure_identity(conn, configured)


# -- grants (peers that pull from this relay) -------------------------------------------

def _grant_problems(peer_id: str, countries: Sequence[str]) -> list[Problem]:
    problems = []
    if not is_relay_id(peer_id):
        problems.append(Problem("peer_id", "bad_relay_id"))
    if not countries:
        problems.append(Problem("countries", "required"))
    problems.extend(Problem("countries", "bad_country", {"value": code[:10]})
                    for code in countries if not reference.is_country(code))
    return problems


async def grant_peer(conn: asyncpg.Connection, actor: Actor, peer_id: str,
                     countries: Sequence[str]) -> IssuedToken:
    """Grant ``peer_id`` access to what reaches ``countries``; its federation token.

    A peer already granted is refused (revoke it first); a revoked one is granted again
    with the new scope and a new token.
    """
    problems = _grant_problems(peer_id, countries)
    if problems:
        raise BadFrame(f"peer {peer_id[:20]} cannot be added", problems)
    scope = sorted(set(countries))
    async with conn.transaction():
        row = await conn.fetchrow("SELECT revoked_at FROM relay_peers WHERE peer_id = $1 FOR UPDATE",
                                  peer_id)
        if row is not None and row["revoked_at"] is None:
            raise Conflict(f"peer {peer_id} is already granted; revoke it first to change it",
                           [Problem("peer_id", "already_exists", {"value": peer_id})])
        await conn.execute(
            "INSERT INTO relay_peers (peer_id, countries) VALUES ($1, $2) ON CONFLICT (peer_id)"
            " DO UPDATE SET countries = excluded.countries, revoked_at = NULL, created_at = now()",
            peer_id, scope)
        token = new_token()
        created = await conn.fetchrow(
            "INSERT INTO relay_tokens (peer_id, token_hash, public_id, label) VALUES ($1, $2, $3, $4)"
            " RETURNING public_id, created_at", peer_id, token_digest(token), new_public_id(),
            f"federation {peer_id}")
        assert created is not None  # the statement returns the row it wrote
        await record_action(conn, actor, "peer.add", peer_id,
                            {"countries": scope, "token_id": created["public_id"]}, status=201)
        await conn.execute("SELECT pg_notify('relay_units', '')")
    info = TokenInfo(created["public_id"], f"relay:{peer_id}", f"federation {peer_id}",
                     created["created_at"], None, None, None)
    return IssuedToken(token, info)


async def revoke_peer(conn: asyncpg.Connection, actor: Actor, peer_id: str) -> None:
    """Cut the peer: its grant and tokens are revoked; open links close within seconds."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT revoked_at FROM relay_peers WHERE peer_id = $1 FOR UPDATE",
                                  peer_id)
        if row is None:
            raise NotFound(f"no peer {peer_id[:20]}",
                           [Problem("peer_id", "unknown_peer", {"value": peer_id[:20]})])
        if row["revoked_at"] is not None:
            raise Conflict(f"peer {peer_id} is already revoked",
                           [Problem("peer_id", "peer_revoked", {"value": peer_id})])
        await conn.execute("UPDATE relay_peers SET revoked_at = now() WHERE peer_id = $1", peer_id)
        tokens = await conn.fetch("UPDATE relay_tokens SET revoked_at = now() WHERE peer_id = $1"
                                  " AND revoked_at IS NULL RETURNING token_id", peer_id)
        await record_action(conn, actor, "peer.revoke", peer_id, status=204)
        await conn.execute("SELECT pg_notify('relay_units', '')")
        for token in tokens:
            await conn.execute("SELECT pg_notify('relay_revocations', $1)", f"token:{token['token_id']}")


async def peer_scope(conn: asyncpg.Connection | asyncpg.Pool, peer_id: str) -> PeerScope | None:
    """What the sending relay may give ``peer_id``: its granted countries and the units it
    published within them; None once it is revoked."""
    countries = await conn.fetchval(
        "SELECT countries FROM relay_peers WHERE peer_id = $1 AND revoked_at IS NULL", peer_id)
    if countries is None:
        return None
    rows = await conn.fetch("SELECT unit_id FROM relay_remote_units r WHERE relay_id = $1"
                            " AND country = ANY($2::text[]) AND NOT EXISTS"
                            " (SELECT 1 FROM relay_units u WHERE u.unit_id = r.unit_id)",
                            peer_id, countries)
    return PeerScope(peer_id, frozenset(countries), frozenset(row["unit_id"] for row in rows))


async def peer_scopes(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, PeerScope]:
    """The scope of every peer granted now."""
    rows = await conn.fetch(
        "SELECT p.peer_id, p.countries, coalesce(array_agg(r.unit_id) FILTER (WHERE r.unit_id"
        " IS NOT NULL), '{}') AS units FROM relay_peers p LEFT JOIN relay_remote_units r"
        " ON r.relay_id = p.peer_id AND r.country = ANY(p.countries)"
        " AND NOT EXISTS (SELECT 1 FROM relay_units u WHERE u.unit_id = r.unit_id)"
        " WHERE p.revoked_at IS NULL GROUP BY p.peer_id, p.countries")
    return {r["peer_id"]: PeerScope(r["peer_id"], frozenset(r["countries"]), frozenset(r["units"]))
            for r in rows}


class PeerScopes:
    """The scopes of the peers, in memory, for the feeds to decide each event without a
    read: refreshed at start, by the link that applied a directory (before it goes on),
    and on ``relay_units`` notifications (grants and directories of other processes),
    one read at a time."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.scopes: dict[str, PeerScope] = {}
        self._refresh = CoalescedRefresh(self.refresh, what="peer scopes")

    def get(self, peer_id: str) -> PeerScope | None:
        return self.scopes.get(peer_id)

    async def refresh(self) -> None:
        self.scopes = await peer_scopes(self._pool)

    def request_refresh(self) -> None:
        self._refresh.request()


# -- directories ----------------------------------------------------------------------

async def local_directory(conn: asyncpg.Connection | asyncpg.Pool) -> list[RemoteUnit]:
    """This relay's own active units as its peers see them (never a token)."""
    rows = await conn.fetch("SELECT unit_id, country, airport, name FROM relay_units"
                            " WHERE revoked_at IS NULL ORDER BY unit_id")
    return [RemoteUnit(r["unit_id"], r["country"], r["airport"], r["name"]) for r in rows]


async def remote_units(conn: Connection | asyncpg.Pool) -> list[tuple[str, RemoteUnit]]:
    """The units peers published here, with the relay of each: they may be named in
    distributions and never connect here."""
    rows = await conn.fetch("SELECT relay_id, unit_id, country, airport, name FROM relay_remote_units"
                            " ORDER BY unit_id")
    return [(r["relay_id"], RemoteUnit(r["unit_id"], r["country"], r["airport"], r["name"]))
            for r in rows]


async def local_unit_ids(conn: Connection | asyncpg.Pool) -> frozenset[str]:
    rows = await conn.fetch("SELECT unit_id FROM relay_units")
    return frozenset(row["unit_id"] for row in rows)


@dataclass(frozen=True, slots=True)
class DirectoryResult:
    accepted: int
    refused: dict[str, str]  # unit id -> why
    changed: bool = True


async def replace_directory(conn: Connection, peer_id: str,
                            units: Sequence[RemoteUnit]) -> DirectoryResult:
    """Make ``units`` the directory of ``peer_id``: within the countries granted to that
    peer, no id of a local unit or of another peer's; the peer's other units go."""
    refused: dict[str, str] = {}
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('relay_directory:' || $1))", peer_id)
        granted = await conn.fetchval(
            "SELECT countries FROM relay_peers WHERE peer_id = $1 AND revoked_at IS NULL", peer_id)
        scope = frozenset(granted or ())
        local = await local_unit_ids(conn)
        others = {row["unit_id"]: row["relay_id"] for row in await conn.fetch(
            "SELECT unit_id, relay_id FROM relay_remote_units WHERE relay_id <> $1", peer_id)}
        kept = []
        for unit in units:
            if unit.country not in scope:
                refused[unit.unit_id] = "country_not_granted"
            elif unit.unit_id in local:
                refused[unit.unit_id] = "local_unit_id"
            elif unit.unit_id in others:
                refused[unit.unit_id] = f"unit_of_{others[unit.unit_id]}"
            else:
                kept.append(unit)
        stored = {RemoteUnit(r["unit_id"], r["country"], r["airport"], r["name"]) for r in await conn.fetch(
            "SELECT unit_id, country, airport, name FROM relay_remote_units WHERE relay_id = $1", peer_id)}
        if stored == set(kept):  # the same directory again: nothing to write or announce
            return DirectoryResult(len(kept), refused, changed=False)
        await conn.execute(
            "DELETE FROM relay_remote_units WHERE relay_id = $1 AND NOT unit_id = ANY($2::text[])",
            peer_id, [unit.unit_id for unit in kept])
        await conn.executemany(
            "INSERT INTO relay_remote_units (unit_id, relay_id, country, airport, name)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (unit_id) DO UPDATE SET"
            " country = excluded.country, airport = excluded.airport, name = excluded.name,"
            " updated_at = now() WHERE relay_remote_units.relay_id = excluded.relay_id",
            [(u.unit_id, peer_id, u.country, u.airport, u.name) for u in kept])
        await conn.execute("SELECT pg_notify('relay_units', '')")
    return DirectoryResult(len(kept), refused)


# -- outbound: what a peer's link reads ------------------------------------------------

async def fetch_outbound_events(conn: asyncpg.Connection | asyncpg.Pool, *, after: int,
                                upto: int, limit: int, max_bytes: int) -> tuple[list[Event], bool]:
    """Events of ``after < seq <= upto`` that originated here (the only ones a link may
    carry), with their JSON body; and whether the page holds all of them. A masked or
    reduced alert no longer crosses (docs/protection.md "Federation")."""
    return await bounded_page(conn, bodies="body_json",
                               where="seq > $1 AND seq <= $2 AND origin_relay IS NULL"
                                     " AND reduced_at IS NULL AND NOT EXISTS (SELECT 1 FROM relay_masks m"
                                     "  WHERE m.seq = relay_events.seq)",
                               params=[after, upto], limit=limit, max_bytes=max_bytes)


# -- links (this relay pulling from its peers) -----------------------------------------

async def link_position(conn: asyncpg.Connection | asyncpg.Pool, peer_id: str) -> int:
    await conn.execute("INSERT INTO relay_links (peer_id) VALUES ($1) ON CONFLICT DO NOTHING",
                       peer_id)
    return int(await conn.fetchval("SELECT position FROM relay_links WHERE peer_id = $1", peer_id))


async def set_link_state(conn: asyncpg.Connection | asyncpg.Pool, peer_id: str, state: str, *,
                         error: str | None = None, peer_head: int | None = None) -> None:
    await conn.execute(
        "UPDATE relay_links SET state_since = CASE WHEN state = $2 THEN state_since ELSE now() END,"
        " state = $2, last_error = $3, peer_head = coalesce($4, peer_head) WHERE peer_id = $1",
        peer_id, state, error, peer_head)


async def forget_unconfigured_links(conn: asyncpg.Connection | asyncpg.Pool,
                                    configured: Sequence[str]) -> None:
    """Links of earlier starts that the configuration no longer has: shown down, with why
    (their cursor stays, for a link configured again later)."""
    await conn.execute(
        "UPDATE relay_links SET state = 'down', state_since = now(),"
        " last_error = 'not configured on this relay' WHERE NOT peer_id = ANY($1::text[])"
        " AND last_error IS DISTINCT FROM 'not configured on this relay'", list(configured))


_APPEND = "SELECT o_seq, o_alert_id, o_duplicate FROM relay_append($1::relay_new_event[])"


async def apply_remote(conn: Connection, peer_id: str, batch: Sequence[PendingEvent],
                       position: int, peer_head: int | None) -> tuple[list[WriteResult], list[Event]]:
    """Append the peer's events and move the link's cursor, in one transaction: after a
    crash either both happened or neither. An event already stored is not stored again."""
    async with conn.transaction():
        rows = await conn.fetch(_APPEND, new_events(list(batch))) if batch else []
        results = [WriteResult(r["o_seq"], str(r["o_alert_id"]), r["o_duplicate"]) for r in rows]
        fresh = [p.event(r.seq) for p, r in zip(batch, results, strict=True) if not r.duplicate]
        last = batch[-1].origin_seq if batch else None
        await conn.execute(
            "UPDATE relay_links SET position = greatest(position, $2),"
            " applied_origin_seq = coalesce($3, applied_origin_seq),"
            " applied_at = CASE WHEN $4 > 0 THEN now() ELSE applied_at END,"
            " applied_events = applied_events + $4, peer_head = coalesce($5, peer_head)"
            " WHERE peer_id = $1", peer_id, position, last, len(fresh), peer_head)
    return results, fresh


# -- status ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LinkStatus:
    state: str
    state_since: datetime
    position: int
    applied_origin_seq: int | None
    applied_at: datetime | None
    applied_events: int
    peer_head: int | None
    last_error: str | None

    @property
    def behind(self) -> int | None:
        return None if self.peer_head is None else max(0, self.peer_head - self.position)


@dataclass(frozen=True, slots=True)
class PeerStatus:
    peer_id: str
    countries: list[str] | None  # granted scope (None: not granted)
    granted_at: datetime | None
    revoked_at: datetime | None
    units: int  # units of its directory accepted here
    link: LinkStatus | None  # this relay's link pulling from it

    def as_dict(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return rfc3339(value) if value is not None else None

        link = None
        if self.link is not None:
            link = {"state": self.link.state, "state_since": when(self.link.state_since),
                    "position": self.link.position,
                    "last_applied_origin_seq": self.link.applied_origin_seq,
                    "last_applied_at": when(self.link.applied_at),
                    "applied_events": self.link.applied_events, "peer_head": self.link.peer_head,
                    "behind": self.link.behind, "last_error": self.link.last_error}
        return {"peer_id": self.peer_id,
                "grant": None if self.countries is None else {
                    "countries": self.countries, "granted_at": when(self.granted_at),
                    "revoked_at": when(self.revoked_at)},
                "units": self.units, "link": link}


async def peer_statuses(conn: asyncpg.Connection | asyncpg.Pool) -> list[PeerStatus]:
    """Every peer this relay grants or pulls from, by id."""
    rows = await conn.fetch(
        "SELECT coalesce(p.peer_id, l.peer_id) AS peer_id, p.countries, p.created_at, p.revoked_at,"
        " (SELECT count(*) FROM relay_remote_units r WHERE r.relay_id = coalesce(p.peer_id, l.peer_id))"
        " AS units, l.peer_id AS linked, l.state, l.state_since, l.position, l.applied_origin_seq,"
        " l.applied_at, l.applied_events, l.peer_head, l.last_error"
        " FROM relay_peers p FULL JOIN relay_links l ON l.peer_id = p.peer_id ORDER BY 1")
    statuses = []
    for r in rows:
        link = None if r["linked"] is None else LinkStatus(
            r["state"], r["state_since"], r["position"], r["applied_origin_seq"], r["applied_at"],
            r["applied_events"], r["peer_head"], r["last_error"])
        statuses.append(PeerStatus(r["peer_id"], None if r["countries"] is None else list(r["countries"]),
                                   r["created_at"], r["revoked_at"], int(r["units"]), link))
    return statuses
