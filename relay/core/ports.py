"""What the core needs from the store, as protocols: the core never imports the store.

:mod:`relay.store` implements each (``EventWriter``, ``EventReader``, ``KnownUnits``);
the composition root (:mod:`relay.app`) passes them in; tests of the core pass their own.
"""

from __future__ import annotations

from typing import Protocol

from relay.core.events import Event, PendingEvent, StoredAlert, WriteResult

__all__ = ["Committer", "EventSource", "UnitDirectory"]


class Committer(Protocol):
    async def submit(self, pending: PendingEvent) -> WriteResult:
        """Commit ``pending`` (group commit); return once it is durable, or raise a
        :class:`~relay.contract.errors.RelayError` (nothing was stored)."""


class EventSource(Protocol):
    async def find_alert(self, alert_id: str) -> StoredAlert | None:
        """The stored alert with this id, or None."""

    async def events_between(self, after: int, upto: int, limit: int) -> list[Event]:
        """Committed events with ``after < seq <= upto`` in seq order, at most ``limit``."""

    async def head(self) -> int:
        """The highest committed seq."""


class UnitDirectory(Protocol):
    """The unit ids a distribution may name."""

    @property
    def ids(self) -> frozenset[str]: ...

    async def refresh(self) -> None:
        """Read the ids again (a unit was added, or a distribution named one not seen)."""
