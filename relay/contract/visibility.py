"""Who may see which event: the one implementation of protocol.md "Visibility".

The stream, the replay and the HTTP API all ask these functions (the HTTP history
through their SQL rendering, :mod:`relay.store.visibility_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relay.contract.model import AlertFacts, Distribution

__all__ = [
    "Viewer",
    "is_addressed_to",
    "may_see_alert",
    "may_see_receipt",
    "regions_of",
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
