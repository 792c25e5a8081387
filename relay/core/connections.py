"""The open connections of a relay process, by token, and their revocation.

A token revoked (or its unit suspended) must stop working on open connections within 5
seconds (protocol.md "Words"). Whatever holds a token open registers here (a stream
session; later, an HTTP response still streaming) and is told to stop through
:meth:`Revocable.revoke`. Two ways in: a ``relay_revocations`` notification names a unit
(:meth:`Connections.revoke_unit`, at once), and :func:`watch_revocations` asks the store
every ``interval`` seconds which of the open tokens are no longer valid (the safety net
for a missed notification).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from relay.core.principals import Principal

__all__ = ["Connections", "Revocable", "watch_revocations"]
_log = structlog.get_logger("relay.connections")


class Revocable(Protocol):
    @property
    def principal(self) -> Principal | None: ...

    def revoke(self) -> None:
        """The token is no longer valid: stop serving at once (4401 on the stream)."""

    def reconnect(self) -> None:
        """The unit's roles changed: end, so that the client comes back with the new ones
        (1012 on the stream)."""


class Connections:
    """Open token holders, and the tokens this process has seen revoked."""

    def __init__(self) -> None:
        self._open: set[Revocable] = set()
        self._revoked: set[int] = set()
        self.stopping = False  # the process is shutting down: refuse new work

    def __len__(self) -> int:
        return len(self._open)

    def add(self, holder: Revocable) -> None:
        self._open.add(holder)

    def discard(self, holder: Revocable) -> None:
        self._open.discard(holder)

    def is_revoked(self, principal: Principal | None) -> bool:
        """Checked on every frame: has this token been revoked?"""
        return principal is not None and principal.token_id in self._revoked

    def held_tokens(self) -> dict[int, frozenset[str]]:
        """The tokens held open now, with the roles their holders work with."""
        return {h.principal.token_id: h.principal.unit.roles for h in self._open
                if h.principal is not None}

    def revoke_unit(self, unit_id: str) -> int:
        """Stop every holder of a token of ``unit_id``; how many were stopped."""
        holders = [h for h in self._open
                   if h.principal is not None and h.principal.unit.unit_id == unit_id]
        for holder in holders:
            assert holder.principal is not None
            self._stop(holder, holder.principal.token_id)
        return len(holders)

    def on_revocation_notice(self, payload: str) -> int:
        """A ``relay_revocations`` notification: ``token:<id>`` (one token revoked),
        ``roles:<unit>`` (its roles changed) or a unit id (suspended)."""
        kind, _, value = payload.partition(":")
        if kind == "token" and value.isascii() and value.isdigit():
            return self.revoke_tokens({int(value)})
        if kind == "roles" and value:
            return self.reconnect_unit(value)
        return self.revoke_unit(payload)

    def reconnect_unit(self, unit_id: str) -> int:
        """Tell every holder of a token of ``unit_id`` to end and come back."""
        holders = [h for h in self._open
                   if h.principal is not None and h.principal.unit.unit_id == unit_id]
        for holder in holders:
            self._open.discard(holder)
            holder.reconnect()
        return len(holders)

    def reconnect_tokens(self, token_ids: set[int]) -> int:
        """Tell every holder of one of ``token_ids`` to end and come back (roles changed)."""
        holders = [h for h in self._open
                   if h.principal is not None and h.principal.token_id in token_ids]
        for holder in holders:
            self._open.discard(holder)
            holder.reconnect()
        return len(holders)

    def revoke_tokens(self, token_ids: set[int]) -> int:
        """Stop every holder of one of ``token_ids``; how many were stopped."""
        holders = [h for h in self._open
                   if h.principal is not None and h.principal.token_id in token_ids]
        for holder in holders:
            assert holder.principal is not None
            self._stop(holder, holder.principal.token_id)
        return len(holders)

    def _stop(self, holder: Revocable, token_id: int) -> None:
        self._revoked.add(token_id)
        self._open.discard(holder)
        _log.info("session_revoked", token_id=token_id)
        holder.revoke()


async def watch_revocations(connections: Connections, *,
                            check: Callable[[dict[int, frozenset[str]]],
                                            Awaitable[tuple[set[int], set[int]]]],
                            interval: float) -> None:
    """Background task: every ``interval`` seconds, ask the store which open tokens are
    no longer valid (revoked, expired, unit suspended: their holders are stopped) and
    whose unit's roles changed (their holders reconnect). The safety net of the
    notifications, which a listener reconnecting or an authentication in progress can
    miss; a failing store is retried at the next round."""
    while True:
        await asyncio.sleep(interval)
        held = connections.held_tokens()
        if not held:
            continue
        try:
            revoked, changed = await check(held)
        except Exception as exc:  # noqa: BLE001 - store down: try again next round
            _log.warning("revocation_check_failed", error=type(exc).__name__)
            continue
        connections.revoke_tokens(revoked)
        connections.reconnect_tokens(changed - revoked)
