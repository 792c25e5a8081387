"""Three national relays in a triangle (ML, SN, FR), each its own process and database:
every alert appears exactly where its distribution and TLP send it, live, on resume and
in the HTTP history and detail, and nowhere else; receipts go back to the origin live;
updates and cancellations follow their alert; a revoked peer stops receiving within 5 s.
(federation.md; docs/federation.md)"""

from __future__ import annotations

import contextlib
from typing import Any

import aiohttp
import pytest

from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.federation import Federation, build_federation, read_replay
from tests.support import stream_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGIONS = """
[regions]
"G5-SAHEL" = ["BF", "ML", "MR", "NE", "TD"]
"DAKAR-BAMAKO" = ["ML", "SN"]
"""
UNITS = {
    "ML": ["ML-BKO-JAITF", "ML-BKO-DOUANE"],
    "SN": ["SN-DSS-JAITF", "SN-DSS-POLICE"],
    "FR": ["FR-CDG-OFAST"],
}


@pytest.fixture(scope="module")
async def triangle(pg_server, template_db, workdir):
    dsns = {rid: await fresh_database(pg_server, template_db) for rid in ("ML", "SN", "FR")}
    async with build_federation(dsns, workdir, countries={"ML": "ML", "SN": "SN", "FR": "FR"},
                                regions=REGIONS) as federation:
        for rid, units in UNITS.items():
            for unit_id in units:
                await federation[rid].add_unit(unit_id)
        # every relay took in the others' units (the directories crossed, the scopes know them)
        for rid in UNITS:
            for peer in UNITS:
                if peer != rid:
                    await federation[rid].process.log_lines(
                        lambda line, peer=peer: line.get("event") == "peer_directory"
                        and line.get("peer") == peer and line.get("accepted") == len(UNITS[peer]))
        yield federation


async def _history(federation: Federation, rid: str, unit_id: str) -> list[dict[str, Any]]:
    relay = federation[rid]
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.process.http}/v1/alerts?limit=500",
            headers={"Authorization": f"Bearer {relay.units[unit_id]}"}) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["alerts"]


# Each case: the distribution (and TLP) posted at ML, and the units at SN and FR that see it.
CASES: list[tuple[str, dict[str, Any], str, set[str]]] = [
    ("senegal", {"countries": ["SN"]}, "amber", {"SN-DSS-JAITF", "SN-DSS-POLICE"}),
    ("everyone", {"all": True}, "green", {"SN-DSS-JAITF", "SN-DSS-POLICE", "FR-CDG-OFAST"}),
    ("red-one-unit", {"units": ["SN-DSS-JAITF", "ML-BKO-DOUANE"]}, "red", {"SN-DSS-JAITF"}),
    ("region", {"regions": ["DAKAR-BAMAKO"]}, "amber", {"SN-DSS-JAITF", "SN-DSS-POLICE"}),
    ("sahel-only", {"regions": ["G5-SAHEL"]}, "amber", set()),
    ("mali-only", {"countries": ["ML"]}, "green", set()),
    ("one-french-unit", {"units": ["FR-CDG-OFAST"]}, "amber", {"FR-CDG-OFAST"}),
    ("red-no-remote", {"units": ["ML-BKO-DOUANE"]}, "red", set()),
]
REMOTE = [unit for rid in ("SN", "FR") for unit in UNITS[rid]]


async def test_each_alert_reaches_exactly_the_units_it_names_live_on_resume_and_in_history(triangle):
    ml, sn, fr = triangle["ML"], triangle["SN"], triangle["FR"]
    subscribers: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        for rid, relay in (("SN", sn), ("FR", fr)):
            for unit_id in UNITS[rid]:
                client = await stack.enter_async_context(stream_client(relay.process, relay.units[unit_id]))
                await client.subscribe()
                subscribers[unit_id] = client
        posted: dict[str, str] = {}
        async with stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as publisher:
            for name, distribution, tlp, _ in CASES:
                ack = await publisher.publish(seizure_alert(distribution=distribution, tlp=tlp,
                                                            summary=f"case {name}"))
                assert ack["type"] == "ack", ack
                posted[name] = ack["alert_id"]
        expected = {unit: [posted[name] for name, _, _, seen in CASES if unit in seen] for unit in REMOTE}
        for unit, alert_ids in expected.items():
            frames = await subscribers[unit].events(len(alert_ids))
            assert alert_ids == [frame["alert"]["alert_id"] for frame in frames], unit
            assert all(frame["alert"]["origin_relay"] == "ML" for frame in frames)
            await subscribers[unit].no_event(0.5)
    for rid, relay in (("SN", sn), ("FR", fr)):
        for unit in UNITS[rid]:
            replayed = [f["alert"]["alert_id"] for f in await read_replay(relay, unit)]
            assert expected[unit] == replayed, unit
            history = [a["alert"]["alert_id"] if "alert" in a else a["alert_id"]
                       for a in await _history(triangle, rid, unit)]
            assert sorted(expected[unit]) == sorted(set(history) & set(posted.values())), unit
