"""The facts of a valid alert that visibility and filters use (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay.model import AlertFacts, Distribution
from relay.reference import airport_country

__all__ = ["alert_airports", "alert_facts"]


def alert_airports(alert: Mapping[str, Any]) -> frozenset[str]:
    """``flight.origin``, ``flight.destination``, ``flight.route[]`` and ``location``."""
    codes: set[str] = set()
    flight = alert.get("flight") or {}
    for key in ("origin", "destination"):
        if flight.get(key):
            codes.add(flight[key])
    codes.update(flight.get("route") or ())
    if alert.get("location"):
        codes.add(alert["location"])
    return frozenset(codes)


def alert_facts(alert: Mapping[str, Any]) -> AlertFacts:
    """The facts of an alert already checked by :func:`relay.validation.validate_alert`."""
    airports = alert_airports(alert)
    countries = {airport_country(code) for code in airports}
    dist = alert["distribution"]
    return AlertFacts(
        kind=alert["kind"],
        msg_type=alert.get("msg_type", "alert"),
        status=alert.get("status", "actual"),
        priority=alert["priority"],
        tlp=alert["tlp"],
        distribution=Distribution(
            all=dist.get("all") is True,
            units=frozenset(dist.get("units", ())),
            countries=frozenset(dist.get("countries", ())),
            regions=frozenset(dist.get("regions", ())),
        ),
        airports=airports,
        countries=frozenset(c for c in countries if c is not None),
        commodities=frozenset(item["commodity"] for item in alert.get("seizures") or ()),
        references=alert.get("references"),
    )
