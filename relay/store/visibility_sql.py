"""The visibility rule of :mod:`relay.contract.visibility` rendered as SQL.

The HTTP history filters in the database, so the rule is written once more as a condition
over the columns of ``relay_events``; tests/test_visibility_sql.py checks that both
renderings agree on every combination of distribution, TLP and viewer.
"""

from __future__ import annotations

from collections.abc import Mapping

from relay.contract.filters import Filter
from relay.contract.model import PRIORITIES
from relay.contract.visibility import Viewer, regions_of

__all__ = ["SqlCondition", "sql_filter", "sql_may_see_alert", "sql_replay_condition"]


class SqlCondition:
    """A SQL condition and its parameters, numbered from ``first_param``."""

    def __init__(self, first_param: int) -> None:
        self.first_param = first_param
        self.params: list[object] = []

    def param(self, value: object) -> str:
        self.params.append(value)
        return f"${self.first_param + len(self.params) - 1}"


def sql_may_see_alert(
    viewer: Viewer, regions: Mapping[str, frozenset[str]], first_param: int
) -> tuple[str, list[object]]:
    """:func:`may_see_alert` as a SQL condition over ``relay_events`` columns.

    The same rule for the database's side of the HTTP history; a test checks that both
    renderings agree on every combination of distribution, TLP and viewer.
    """
    unit, country, names = (f"${first_param + i}" for i in range(3))
    condition = (
        f"(origin_unit = {unit} OR {unit} = ANY(dist_units) OR (tlp <> 'red' AND ("
        f"dist_all OR {country} = ANY(dist_countries) OR dist_regions && {names}::text[])))"
    )
    return condition, [viewer.unit_id, viewer.country, regions_of(viewer.country, regions)]


def sql_filter(flt: Filter, condition: SqlCondition) -> str:
    """:meth:`relay.contract.filters.Filter.matches` as SQL over an alert's columns:
    ``TRUE`` when the filter narrows nothing. tests/test_visibility_sql.py checks both agree."""
    terms: list[str] = []
    if flt.kinds is not None:
        terms.append(f"alert_kind = ANY({condition.param(sorted(flt.kinds))}::text[])")
    for key, column in (("airports", "airports"), ("countries", "countries"),
                        ("commodities", "commodities")):
        wanted = getattr(flt, key)
        if wanted is not None:
            terms.append(f"{column} && {condition.param(sorted(wanted))}::text[]")
    if flt.min_priority > 0:
        allowed = list(PRIORITIES[flt.min_priority:])
        terms.append(f"priority = ANY({condition.param(allowed)}::text[])")
    if flt.statuses is not None:
        terms.append(f"status = ANY({condition.param(sorted(flt.statuses))}::text[])")
    return " AND ".join(terms) if terms else "TRUE"


def sql_replay_condition(viewer: Viewer, flt: Filter, regions: Mapping[str, frozenset[str]],
                         first_param: int) -> tuple[str, list[object]]:
    """What a replay sends, as SQL: the alerts the viewer may see that pass its filter, and
    the receipts it may see (receipts are not filtered): :meth:`Subscription.wants`."""
    alert_visible, values = sql_may_see_alert(viewer, regions, first_param)
    condition = SqlCondition(first_param + len(values))
    unit = condition.param(viewer.unit_id)
    alerts = f"(kind = 'alert' AND {alert_visible} AND {sql_filter(flt, condition)})"
    receipts = f"(kind = 'receipt' AND {unit} IN (origin_unit, author_unit))"
    return f"({alerts} OR {receipts})", [*values, *condition.params]
