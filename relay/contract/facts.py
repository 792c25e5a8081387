"""The facts of a valid alert that visibility and subscription filters use (pure).

:func:`alert_facts` reads an alert that :func:`relay.validation.validate_alert` returned;
given anything else its result is unspecified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay.contract.model import AlertFacts, Distribution
from relay.contract.reference import airport_country

__all__ = ["alert_airports", "alert_facts"]


def alert_airports(alert: Mapping[str, Any]) -> frozenset[str]:
    """Every IATA code of ``flight.origin``, ``flight.destination``, ``flight.route[]``
    and ``location`` (the AlertFacts ``airports`` of model.py)."""
    codes: set[str] = set()
    flight = alert.get("flight")
    if flight is not None:
        codes.update((flight["origin"], flight["destination"]))
        codes.update(flight.get("route", ()))
    if "location" in alert:
        codes.add(alert["location"])
    return frozenset(codes)


def alert_facts(alert: Mapping[str, Any]) -> AlertFacts:
    """The facts of a valid, normalised alert.

    ``countries`` are the countries of its airports (an airport without a known country
    adds none); ``commodities`` those of ``seizures[]``.
    """
    airports = alert_airports(alert)
    countries = (airport_country(code) for code in airports)
    return AlertFacts(
        kind=alert["kind"],
        msg_type=alert.get("msg_type", "alert"),
        status=alert.get("status", "actual"),
        priority=alert["priority"],
        tlp=alert["tlp"],
        distribution=_distribution(alert["distribution"]),
        airports=airports,
        countries=frozenset(country for country in countries if country is not None),
        commodities=frozenset(item["commodity"] for item in alert.get("seizures", ())),
        references=alert.get("references"),
    )


def _distribution(dist: Mapping[str, Any]) -> Distribution:
    return Distribution(
        all=dist.get("all") is True,
        units=frozenset(dist.get("units", ())),
        countries=frozenset(dist.get("countries", ())),
        regions=frozenset(dist.get("regions", ())),
    )
