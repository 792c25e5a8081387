"""The full visibility matrix over the stream, live and on replay.

Each distribution form (units, countries, regions, all) × each TLP × each kind of
viewer (named unit, unit of a named country, unit of a country in a named region,
unit elsewhere, the origin, a subscriber without the role). The expectation comes from
an oracle written here from protocol.md "Visibility", not from the relay's code.
"""

from __future__ import annotations

import itertools

import pytest

from tests.alert_examples import seizure_alert
from tests.support import create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

TLPS = ["clear", "green", "amber", "amber+strict", "red"]
FORMS = ["units", "countries", "regions", "all"]
VIEWERS = ["named", "country", "region", "elsewhere", "origin"]


def expected_visible(form: str, tlp: str, viewer: str) -> bool:
    """protocol.md: named unit, its country, a region holding its country, or all; red only named.

    The named unit is in Togo, which the countries form names and G5-SAHEL does not hold.
    """
    if viewer == "origin":
        return True
    if tlp == "red":
        return viewer == "named"
    return {
        "units": viewer == "named",
        "countries": viewer in ("named", "country"),
        "regions": viewer == "region",
        "all": True,
    }[form]


@pytest.fixture(scope="module")
async def cast(dsn):
    """origin (Mali), named unit (Togo), country unit (Ethiopia), region unit (Niger, G5-SAHEL), elsewhere (Brazil)."""
    return {
        "origin": await create_unit(dsn, unique_unit("ML"), country="ML"),
        "named": await create_unit(dsn, unique_unit("TG"), country="TG"),
        "country": await create_unit(dsn, unique_unit("ET"), country="ET"),
        "region": await create_unit(dsn, unique_unit("NE"), country="NE"),
        "elsewhere": await create_unit(dsn, unique_unit("BR"), country="BR"),
    }


def distribution(form: str, named_unit: str) -> dict:
    if form == "all":
        return {"all": True}
    if form == "units":
        return {"units": [named_unit]}
    if form == "countries":
        return {"countries": ["TG", "ET"]}
    return {"regions": ["G5-SAHEL"]}


async def test_visibility_matrix_live_and_on_replay(relay, cast):
    """Each viewer receives exactly the alerts the oracle allows, live and when replaying."""
    named_unit = cast["named"][0]
    clients = {}
    published: dict[int, tuple[str, str]] = {}
    rejected = []
    async with stream_client(relay, cast["origin"][1]) as origin:
        viewers = {name: stream_client(relay, cast[name][1]) for name in VIEWERS if name != "origin"}
        for name, ctx in viewers.items():
            clients[name] = await ctx.__aenter__()
            await clients[name].subscribe()
        clients["origin"] = origin
        await origin.subscribe()
        try:
            start = None
            for form, tlp in itertools.product(FORMS, TLPS):
                reply = await origin.publish(seizure_alert(tlp=tlp, distribution=distribution(form, named_unit)))
                if tlp == "red" and form != "units":
                    assert "invalid_alert" == reply["code"], (form, tlp)
                    rejected.append((form, tlp))
                    continue
                assert "ack" == reply["type"], reply
                published[reply["seq"]] = (form, tlp)
                start = reply["seq"] if start is None else start
            last = max(published)
            live = {}
            for name in VIEWERS:
                want = {s for s, (f, t) in published.items() if expected_visible(f, t, name)}
                got = [e["seq"] for e in await clients[name].events(len(want))]
                await clients[name].no_event(0.2)
                live[name] = got
                assert sorted(want) == got, name
        finally:
            for ctx in viewers.values():
                await ctx.__aexit__(None, None, None)
    assert 3 == len(rejected)
    for name in VIEWERS:
        async with stream_client(relay, cast[name][1]) as late:
            await late.subscribe(since=start - 1)
            frames = []
            while True:
                frame = await late.recv()
                if frame["type"] == "caught_up":
                    break
                if frame["type"] == "alert":
                    frames.append(frame["seq"])
        assert live[name] == [s for s in frames if s <= last], name


async def test_the_visibility_oracle_has_the_shape_of_the_contract():
    """Sanity of the oracle itself: red reaches only named units and the origin."""
    assert [True, False, False, False, True] == [expected_visible("units", "red", v) for v in VIEWERS]
    assert [True, True, False, False, True] == [expected_visible("countries", "amber", v) for v in VIEWERS]
    assert [False, False, True, False, True] == [expected_visible("regions", "green", v) for v in VIEWERS]
    assert [True] * 5 == [expected_visible("all", "clear", v) for v in VIEWERS]
