"""The SQL rendering of the visibility rule agrees with the Python one, case by case.

Hypothesis draws distributions, TLPs and viewers; each drawn alert's facts are written to
a temporary table with the columns of relay_events, and the SQL condition is evaluated by
the real PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.contract.model import TLP_LEVELS, AlertFacts, Distribution
from relay.contract.visibility import Viewer, may_see_alert
from relay.store.visibility_sql import sql_may_see_alert

UNITS = ["ML-BKO-JAITF", "TG-LFW-CAAT", "FR-CDG-OFAST", "BR-GRU-PF"]
COUNTRIES = ["ML", "TG", "FR", "BR", "NE"]
REGIONS = {"G5-SAHEL": frozenset({"ML", "NE", "BF"}), "EUROPE": frozenset({"FR", "BE"}),
           "EMPTY": frozenset()}

distributions = st.one_of(
    st.just(Distribution(all=True)),
    st.builds(Distribution, units=st.frozensets(st.sampled_from(UNITS)),
              countries=st.frozensets(st.sampled_from(COUNTRIES)),
              regions=st.frozensets(st.sampled_from(sorted(REGIONS)))),
)
cases = st.tuples(
    st.sampled_from(UNITS),  # origin
    st.sampled_from(TLP_LEVELS),
    distributions,
    st.builds(Viewer, st.sampled_from(UNITS), st.sampled_from(COUNTRIES), st.just(frozenset())),
)


@pytest.fixture(scope="module")
def connection(dsn):
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(dsn))
    yield loop, conn
    loop.run_until_complete(conn.close())
    loop.close()


def sql_verdict(loop, conn, origin: str, tlp: str, dist: Distribution, viewer: Viewer) -> bool:
    condition, params = sql_may_see_alert(viewer, REGIONS, 1)
    values = len(params)
    query = (f"SELECT {condition} FROM (SELECT ${values + 1}::text AS origin_unit, ${values + 2}::text AS tlp,"
             f" ${values + 3}::boolean AS dist_all, ${values + 4}::text[] AS dist_units,"
             f" ${values + 5}::text[] AS dist_countries, ${values + 6}::text[] AS dist_regions) AS e")
    return bool(loop.run_until_complete(conn.fetchval(
        query, *params, origin, tlp, dist.all, sorted(dist.units), sorted(dist.countries),
        sorted(dist.regions))))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases)
def test_sql_and_python_visibility_agree(connection, case):
    """For any alert and viewer, the database decides as relay.visibility does."""
    loop, conn = connection
    origin, tlp, dist, viewer = case
    facts = AlertFacts(kind="seizure", msg_type="alert", status="actual", priority="urgent", tlp=tlp,
                       distribution=dist, airports=frozenset(), countries=frozenset(),
                       commodities=frozenset(), references=None)
    assert may_see_alert(viewer, origin, facts, REGIONS) == sql_verdict(loop, conn, origin, tlp, dist, viewer)
