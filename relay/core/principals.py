"""Who is connected: a unit and the token it authenticated with (protocol.md "Words")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relay.contract.visibility import Viewer

__all__ = ["Principal", "Unit"]


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    country: str
    airport: str | None
    name: str
    roles: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated connection or request: the unit and the token it used."""

    unit: Unit
    token_id: int  # the database's key: what revocations name
    public_id: str = ""  # tok_...: safe to show and log (admin.md)
    peer_id: str | None = None  # a peer relay's federation token (federation.md)

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.unit.unit_id, self.unit.country, self.unit.roles)
