"""The history as SQL: one parameterised SELECT over alerts for a :class:`HistoryQuery`.

Newest first (exports: oldest first), with the caller's visibility
(:mod:`relay.store.visibility_sql`), the filters as conditions on the fact columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay.contract.history_query import HistoryQuery
from relay.contract.visibility import Viewer
from relay.store.visibility_sql import sql_may_see_alert

__all__ = ["history_sql"]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def history_sql(query: HistoryQuery, viewer: Viewer | None,
                regions: Mapping[str, frozenset[str]], columns: str, *,
                oldest_first: bool = False) -> tuple[str, list[Any]]:
    """One SELECT over alerts, newest first (exports: oldest first).
    ``viewer`` None: everything (role audit)."""
    where = ["kind = 'alert'"]
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if viewer is not None:
        condition, values = sql_may_see_alert(viewer, regions, len(params) + 1)
        params.extend(values)
        where.append(condition)
    f = query.filters
    simple = {"kind": "alert_kind", "origin_unit": "origin_unit", "flight": "flight_number"}
    for key, column in simple.items():
        if key in f:
            where.append(f"{column} = {param(f[key])}")
    for key, column in (("airport", "airports"), ("country", "countries"),
                        ("commodity", "commodities")):
        if key in f:
            where.append(f"{column} @> ARRAY[{param(f[key])}]::text[]")
    if "from" in f:
        where.append(f"received_at >= {param(f['from'])}")
    if "to" in f:
        where.append(f"received_at < {param(f['to'])}")
    if "q" in f:
        where.append(f"summary ILIKE {param(_like(f['q']))}")
    if query.before_seq is not None:
        where.append(f"seq < {param(query.before_seq)}")
    order = "ASC" if oldest_first else "DESC"
    sql = f"SELECT {columns} FROM relay_events WHERE {' AND '.join(where)} ORDER BY seq {order}"
    return sql, params
