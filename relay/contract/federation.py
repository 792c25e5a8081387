"""What crosses a link between two relays, decided without I/O (docs/federation.md).

The sending relay decides, once and with its own configuration, which of its events a
peer gets and, for an alert, its *audience*: the countries and units of the peer's scope
that the distribution reaches. The receiving relay stores that audience as the alert's
distribution columns, so that the one visibility rule of :mod:`relay.contract.visibility`
serves its units live, in replays, in the history and in exports. Everything fails
closed: an empty distribution, an unknown region, a ``red`` alert naming none of the
peer's units reach no peer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from relay.contract.errors import BadFrame
from relay.contract.model import AlertFacts, Distribution
from relay.contract.problems import Problem

__all__ = [
    "PEER_UNIT_PREFIX",
    "RELAY_ID",
    "Audience",
    "PeerScope",
    "RemoteUnit",
    "audience_distribution",
    "audience_for",
    "is_relay_id",
    "parse_audience",
    "parse_directory",
    "peer_recipient",
]

RELAY_ID: Final = re.compile(r"[A-Z0-9-]{2,20}")
_UNIT_ID: Final = re.compile(r"[A-Z0-9-]{3,40}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_AIRPORT: Final = re.compile(r"[A-Z]{3}")
# Delivery records name a peer relay as "relay:<id>" (a unit id never holds a colon).
PEER_UNIT_PREFIX: Final = "relay:"
MAX_DIRECTORY_UNITS: Final = 20_000


def is_relay_id(value: object) -> bool:
    """``[A-Z0-9-]{2,20}``: ``ML``, ``SN``, ``G5-PCMS``."""
    return isinstance(value, str) and RELAY_ID.fullmatch(value) is not None


def peer_recipient(peer_id: str) -> str:
    """How a delivery record names a peer relay."""
    return f"{PEER_UNIT_PREFIX}{peer_id}"


@dataclass(frozen=True, slots=True)
class PeerScope:
    """A peer as the sending relay sees it: the countries it was granted and the units
    it published within them."""

    peer_id: str
    countries: frozenset[str]
    units: frozenset[str]


@dataclass(frozen=True, slots=True)
class Audience:
    """The peer's countries and units an alert reaches (for ``red``: units only)."""

    countries: frozenset[str]
    units: frozenset[str]

    def as_dict(self) -> dict[str, list[str]]:
        return {"countries": sorted(self.countries), "units": sorted(self.units)}


def audience_for(scope: PeerScope, facts: AlertFacts,
                 regions: Mapping[str, frozenset[str]]) -> Audience | None:
    """The audience of an alert at ``scope``'s relay, or None when it reaches nobody there.

    A country of the scope is reached by ``all``, by being named, or by a region of the
    origin's configuration that contains it (an unknown region reaches nothing); a unit of
    the peer by being named. A ``red`` alert reaches only the units it names.
    """
    distribution = facts.distribution
    units = distribution.units & scope.units
    countries: frozenset[str] = frozenset()
    if facts.tlp != "red":
        if distribution.all:
            countries = scope.countries
        else:
            in_regions = {country for name in distribution.regions
                          for country in regions.get(name, ())}
            countries = scope.countries & (distribution.countries | in_regions)
    if not units and not countries:
        return None
    return Audience(countries, units)


def audience_distribution(audience: Audience) -> Distribution:
    """The audience as the distribution columns of the receiving relay: exactly its
    units named, or of its countries (a ``red`` alert's audience has no countries)."""
    return Distribution(all=False, units=audience.units, countries=audience.countries,
                        regions=frozenset())


def parse_audience(value: object, local_units: frozenset[str] | None, tlp: str) -> Audience:
    """A received audience, checked: lists of country codes and unit ids. Units that are
    not ``local_units`` are dropped (None: keep all) and a ``red`` alert keeps no
    countries (fail closed)."""
    if not isinstance(value, dict) or set(value) - {"countries", "units"}:
        raise BadFrame("the audience must be a map of countries and units",
                       [Problem("audience", "not_a_map")])
    countries = _codes(value.get("countries", []), _COUNTRY, "audience.countries")
    units = _codes(value.get("units", []), _UNIT_ID, "audience.units")
    return Audience(frozenset() if tlp == "red" else countries,
                    units if local_units is None else units & local_units)


def _codes(value: object, pattern: re.Pattern[str], path: str) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_DIRECTORY_UNITS or not all(
            isinstance(item, str) and pattern.fullmatch(item) for item in value):
        raise BadFrame(f"{path} must be a list of codes", [Problem(path, "not_a_list")])
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class RemoteUnit:
    unit_id: str
    country: str
    airport: str | None
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "country": self.country, "airport": self.airport,
                "name": self.name}


def parse_directory(frame: Mapping[str, Any]) -> list[RemoteUnit]:
    """The units of a ``directory`` frame; BadFrame naming the first bad entry."""
    units = frame.get("units")
    if not isinstance(units, list) or len(units) > MAX_DIRECTORY_UNITS:
        raise BadFrame("directory.units must be a list", [Problem("units", "not_a_list")])
    parsed = []
    for index, entry in enumerate(units):
        path = f"units[{index}]"
        if not isinstance(entry, dict):
            raise BadFrame(f"{path} must be a map", [Problem(path, "not_a_map")])
        unit_id, country = entry.get("unit_id"), entry.get("country")
        airport, name = entry.get("airport"), entry.get("name", "")
        if not (isinstance(unit_id, str) and _UNIT_ID.fullmatch(unit_id)
                and isinstance(country, str) and _COUNTRY.fullmatch(country)
                and (airport is None or (isinstance(airport, str) and _AIRPORT.fullmatch(airport)))
                and isinstance(name, str) and len(name) <= 200):
            raise BadFrame(f"{path} is not a unit", [Problem(path, "not_a_unit")])
        parsed.append(RemoteUnit(unit_id, country, airport, name))
    return parsed
