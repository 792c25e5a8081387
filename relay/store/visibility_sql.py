"""The visibility rule of :mod:`relay.contract.visibility` rendered as SQL.

The HTTP history filters in the database, so the rule is written once more as a condition
over the columns of ``relay_events``; tests/test_visibility_sql.py checks that both
renderings agree on every combination of distribution, TLP and viewer.
"""

from __future__ import annotations

from collections.abc import Mapping

from relay.contract.visibility import Viewer, regions_of

__all__ = ["sql_may_see_alert"]


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
