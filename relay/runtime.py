"""The services one relay process shares between its stream and HTTP servers.

Built by :mod:`relay.app` (the composition root) and passed explicitly; nothing here
is global. It also watches revocations: a ``relay_revocations`` notification closes the
unit's sessions at once, and a check every ``revocation_check_seconds`` catches a missed
notification, so a revoked token stops working on open connections within 5 seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
import structlog

from relay.config import Config
from relay.core.hub import Hub
from relay.core.publishing import KnownUnits, Publisher
from relay.metrics import RelayMetrics
from relay.store.units import revoked_token_ids
from relay.store.writer import EventWriter

if TYPE_CHECKING:
    from relay.stream.session import Session

__all__ = ["Runtime"]
_log = structlog.get_logger("relay.runtime")


@dataclass(eq=False)
class Runtime:
    config: Config
    pool: asyncpg.Pool
    hub: Hub
    writer: EventWriter
    publisher: Publisher
    known_units: KnownUnits
    metrics: RelayMetrics
    sessions: set[Session] = field(default_factory=set)
    revoked_tokens: set[int] = field(default_factory=set)
    shutting_down: bool = False

    def revoked(self, session: Session) -> bool:
        """Checked on every frame: has the session's token been revoked?"""
        principal = session.principal
        return principal is not None and principal.token_id in self.revoked_tokens

    def revoke_unit(self, unit_id: str) -> None:
        for session in list(self.sessions):
            if session.principal is not None and session.principal.unit.unit_id == unit_id:
                self.revoked_tokens.add(session.principal.token_id)
                _log.info("session_revoked", unit=unit_id, conn=session.conn_id)
                session.revoke()

    async def check_revocations(self) -> None:
        """Close every session whose token or unit is no longer valid."""
        by_token: dict[int, list[Session]] = {}
        for session in self.sessions:
            if session.principal is not None:
                by_token.setdefault(session.principal.token_id, []).append(session)
        if not by_token:
            return
        revoked = await revoked_token_ids(self.pool, list(by_token))
        for token_id in revoked:
            self.revoked_tokens.add(token_id)
            for session in by_token[token_id]:
                _log.info("session_revoked", conn=session.conn_id)
                session.revoke()

    async def watch_revocations(self) -> None:
        """Background task: the periodic safety net behind the notifications."""
        interval = self.config.limits.revocation_check_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_revocations()
            except Exception as exc:  # noqa: BLE001 - store down: try again next round
                _log.warning("revocation_check_failed", error=type(exc).__name__)
