"""Units and tokens as serving needs them: authenticate a token, tell which open tokens
stopped being valid, know the unit ids. Changing them is :mod:`relay.store.admin`'s job."""

from __future__ import annotations

import asyncpg
import structlog

from relay.contract.federation import peer_recipient
from relay.contract.roles import FEDERATION
from relay.core.principals import Principal, Unit
from relay.store.pool import translate_errors
from relay.store.refresh import CoalescedRefresh
from relay.store.tokens import looks_like_token, token_digest

_log = structlog.get_logger("relay.units")

__all__ = [
    "KnownUnits",
    "authenticate",
    "known_unit_ids",
    "stale_tokens",
]


def _unit(row: asyncpg.Record) -> Unit:
    return Unit(row["unit_id"], row["country"], row["airport"], row["name"],
                frozenset(row["roles"]), row["created_at"], row["revoked_at"])


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    """The unit of a valid token, or None (unknown, revoked, expired, or unit suspended)."""
    if not looks_like_token(token):
        return None
    # The minute of last use is written at most once a minute per token (admin.md).
    row = await conn.fetchrow(
        "WITH found AS (SELECT t.token_id, t.public_id, t.last_used_at, u.* FROM relay_tokens t"
        "  JOIN relay_units u USING (unit_id) WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        "  AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.revoked_at IS NULL"
        "  AND (u.reinstated_at IS NULL OR t.created_at > u.reinstated_at)),"
        " touched AS (UPDATE relay_tokens SET last_used_at = date_trunc('minute', now())"
        "  WHERE token_id = (SELECT token_id FROM found)"
        "  AND ((SELECT last_used_at FROM found) IS NULL"
        "       OR (SELECT last_used_at FROM found) < date_trunc('minute', now())))"
        " SELECT * FROM found",
        token_digest(token),
    )
    if row is not None:
        return Principal(_unit(row), row["token_id"], row["public_id"])
    return await _authenticate_peer(conn, token)


async def _authenticate_peer(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    """A peer relay's federation token (federation.md): a principal with the one role
    ``federation``, named ``relay:<peer>`` in logs and delivery records."""
    row = await conn.fetchrow(
        "SELECT t.token_id, t.public_id, p.peer_id, p.created_at FROM relay_tokens t"
        " JOIN relay_peers p USING (peer_id) WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        " AND (t.expires_at IS NULL OR t.expires_at > now()) AND p.revoked_at IS NULL",
        token_digest(token))
    if row is None:
        return None
    unit = Unit(peer_recipient(row["peer_id"]), "", None, f"peer relay {row['peer_id']}",
                frozenset({FEDERATION}), row["created_at"], None)
    return Principal(unit, row["token_id"], row["public_id"], peer_id=row["peer_id"])


async def stale_tokens(conn: asyncpg.Connection | asyncpg.Pool,
                       held: dict[int, frozenset[str]]) -> tuple[set[int], set[int]]:
    """Of the ``held`` tokens (with the roles their holders work with): those no longer
    valid (revoked, expired, unit suspended), and those whose unit's roles changed."""
    rows = await conn.fetch(
        "SELECT t.token_id, coalesce(u.roles, ARRAY[$2]) AS roles, (t.revoked_at IS NOT NULL"
        " OR u.revoked_at IS NOT NULL OR p.revoked_at IS NOT NULL OR t.expires_at <= now())"
        " AS invalid FROM relay_tokens t LEFT JOIN relay_units u ON u.unit_id = t.unit_id"
        " LEFT JOIN relay_peers p ON p.peer_id = t.peer_id WHERE t.token_id = ANY($1::bigint[])",
        list(held), FEDERATION,
    )
    invalid = {row["token_id"] for row in rows if row["invalid"]}
    changed = {row["token_id"] for row in rows if frozenset(row["roles"]) != held[row["token_id"]]}
    return invalid, changed


async def known_unit_ids(conn: asyncpg.Connection | asyncpg.Pool) -> frozenset[str]:
    """Every unit id, revoked ones included (an alert may still name them), and the units
    that peers published here (federation.md "Peers and links")."""
    rows = await conn.fetch("SELECT unit_id FROM relay_units UNION ALL"
                            " SELECT unit_id FROM relay_remote_units")
    return frozenset(row["unit_id"] for row in rows)


class KnownUnits:
    """The unit ids a distribution may name (:class:`relay.core.ports.UnitDirectory`);
    refreshed on ``relay_units`` notifications, one read at a time: notifications that
    arrive during a read ask for one more read, not one each (an import of thousands of
    units must not queue thousands of reads of the table)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.ids: frozenset[str] = frozenset()
        self._refresh = CoalescedRefresh(self.refresh, what="units")

    async def refresh(self) -> None:
        async with translate_errors("reading units"):
            self.ids = await known_unit_ids(self._pool)

    def request_refresh(self) -> None:
        """Read the units soon; coalesces with a read already running."""
        self._refresh.request()
