"""Who may see which event: the one implementation of protocol.md "Visibility".

The stream, the replay and the HTTP API all ask these functions (the HTTP history
through their SQL rendering, :mod:`relay.store.visibility_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relay.contract.model import AlertFacts, Distribution
from relay.contract.roles import Action, allows

__all__ = [
    "Viewer",
    "history_scope",
    "is_addressed_to",
    "may_read_delivery",
    "may_read_receipt",
    "may_see_alert",
    "may_see_receipt",
    "regions_of",
    "sees_whole_history",
]


@dataclass(frozen=True, slots=True)
class Viewer:
    """An authenticated unit as visibility sees it."""

    unit_id: str
    country: str
    roles: frozenset[str]


def is_addressed_to(
    viewer: Viewer, tlp: str, distribution: Distribution, regions: Mapping[str, frozenset[str]]
) -> bool:
    """True when the distribution reaches the viewer's unit.

    It names the unit, the unit's country, a region containing that country, or ``all``;
    a ``red`` alert reaches only the units it names.
    """
    if viewer.unit_id in distribution.units:
        return True
    if tlp == "red":
        return False
    if distribution.all or viewer.country in distribution.countries:
        return True
    return any(viewer.country in regions.get(name, ()) for name in distribution.regions)


def may_see_alert(
    viewer: Viewer, origin_unit: str, facts: AlertFacts, regions: Mapping[str, frozenset[str]]
) -> bool:
    """Every unit sees its own alerts; otherwise the distribution decides."""
    if viewer.unit_id == origin_unit:
        return True
    return is_addressed_to(viewer, facts.tlp, facts.distribution, regions)


def may_see_receipt(viewer: Viewer, alert_origin: str, receipt_author: str) -> bool:
    """A receipt is seen by the alert's origin and by the receipt's author."""
    return viewer.unit_id in (alert_origin, receipt_author)


def regions_of(country: str, regions: Mapping[str, frozenset[str]]) -> list[str]:
    """The names of the configured regions that contain ``country``."""
    return sorted(name for name, members in regions.items() if country in members)


# -- the HTTP history (protocol.md "HTTP API") -----------------------------------------------

def sees_whole_history(viewer: Viewer) -> bool:
    """A unit with role ``audit`` reads the whole history over HTTP (never the live stream
    of others' restricted alerts unless it also subscribes, and then as any unit)."""
    return allows(viewer.roles, Action.AUDIT)


def history_scope(viewer: Viewer) -> Viewer | None:
    """Whose visibility bounds the viewer's history: its own, or None (everything)."""
    return None if sees_whole_history(viewer) else viewer


def may_read_receipt(viewer: Viewer, alert_origin: str, receipt_author: str) -> bool:
    """A receipt in an alert's file: as on the stream, or every receipt for an auditor."""
    return sees_whole_history(viewer) or may_see_receipt(viewer, alert_origin, receipt_author)


def may_read_delivery(viewer: Viewer, alert_origin: str, recipient: str) -> bool:
    """A delivery line in an alert's file: every line for the alert's origin and an
    auditor, its own line for a recipient."""
    return sees_whole_history(viewer) or viewer.unit_id in (alert_origin, recipient)
