"""Subscription filters (protocol.md "subscribe"): parsed once, matched per event.

Every key narrows; none widens what visibility allows. Receipts are not alerts and are
not narrowed by a filter: a unit that may see a receipt receives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relay.contract import reference
from relay.contract.errors import InvalidFilter
from relay.contract.model import (
    COMMODITIES,
    KINDS,
    PRIORITIES,
    PRIORITY_RANK,
    STATUSES,
    AlertFacts,
)
from relay.contract.problems import Problem

__all__ = ["MATCH_ALL", "Filter", "parse_filter"]


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter; ``None`` for a key means "not narrowed by this key"."""

    kinds: frozenset[str] | None = None
    airports: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    commodities: frozenset[str] | None = None
    min_priority: int = 0
    statuses: frozenset[str] | None = None

    def matches(self, facts: AlertFacts) -> bool:
        """True when the alert passes every key of the filter."""
        if self.kinds is not None and facts.kind not in self.kinds:
            return False
        if self.airports is not None and self.airports.isdisjoint(facts.airports):
            return False
        if self.countries is not None and self.countries.isdisjoint(facts.countries):
            return False
        if self.commodities is not None and self.commodities.isdisjoint(facts.commodities):
            return False
        if PRIORITY_RANK[facts.priority] < self.min_priority:
            return False
        return self.statuses is None or facts.status in self.statuses


MATCH_ALL = Filter()


def _check_item(key: str, path: str, item: str) -> Problem | None:
    """The problem of one item of the list ``key`` of a filter, if any."""
    if key == "airports":
        return None if reference.is_airport(item) else Problem(
            path, "unknown_airport", {"value": item[:200]})
    if key == "countries":
        return None if reference.is_country(item) else Problem(
            path, "bad_country", {"value": item[:200]})
    allowed = _CHOICES[key]
    if item in allowed:
        return None
    return Problem(path, "not_one_of", {"allowed": list(allowed), "value": item[:200]})


_CHOICES: dict[str, tuple[str, ...]] = {"kinds": KINDS, "commodities": COMMODITIES,
                                        "statuses": STATUSES}
_LIST_KEYS = ("kinds", "airports", "countries", "commodities", "statuses")


def parse_filter(raw: object) -> Filter:
    """Parse the ``filter`` of a subscribe frame; every problem is reported at once.

    A value that could never match (an unknown kind, country, airport, commodity or
    status) is refused, naming it, so that a typo cannot silently mute a feed.
    """
    if raw is None:
        return MATCH_ALL
    if not isinstance(raw, dict):
        raise InvalidFilter("the filter must be a map", [Problem("filter", "not_a_map")])
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"filter.{key}"
        if key == "min_priority":
            if isinstance(value, str) and value in PRIORITIES:
                values[key] = PRIORITY_RANK[value]
            else:
                problems.append(Problem(path, "not_one_of", {"allowed": list(PRIORITIES)}))
        elif key in _LIST_KEYS:
            values[key] = _parse_list(key, path, value, problems)
        else:
            problems.append(Problem(path, "unknown_filter_key"))
    if problems:
        raise InvalidFilter(f"the filter has {_count(problems)}", problems)
    return Filter(**values)


def _parse_list(key: str, path: str, value: object, problems: list[Problem]) -> frozenset[str]:
    if not isinstance(value, list):
        problems.append(Problem(path, "not_a_list"))
        return frozenset()
    for index, item in enumerate(value):
        inner = f"{path}[{index}]"
        problem = _check_item(key, inner, item) if isinstance(item, str) else Problem(inner, "not_a_string")
        if problem:
            problems.append(problem)
    return frozenset(item for item in value if isinstance(item, str))


def _count(problems: list[Problem]) -> str:
    return "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
