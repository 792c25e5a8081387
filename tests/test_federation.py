"""Three national relays in a triangle (ML, SN, FR), each its own process and database:
every alert appears exactly where its distribution and TLP send it, live, on resume and
in the HTTP history and detail, and nowhere else; receipts go back to the origin live;
updates and cancellations follow their alert; a revoked peer stops receiving within 5 s.
(federation.md; docs/federation.md)"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import aiohttp
import asyncpg
import pytest

from relay.store.federation import grant_peer, revoke_peer
from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.federation import Federation, build_federation, read_replay, wait_for
from tests.support import SETUP, run_relay, stream_client

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
    ("clear-everyone", {"all": True}, "clear", {"SN-DSS-JAITF", "SN-DSS-POLICE", "FR-CDG-OFAST"}),
    ("strict-senegal-and-a-unit", {"countries": ["SN"], "units": ["FR-CDG-OFAST"]}, "amber+strict",
     {"SN-DSS-JAITF", "SN-DSS-POLICE", "FR-CDG-OFAST"}),
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


async def _get(relay, unit_id: str, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.process.http}{path}",
            headers={"Authorization": f"Bearer {relay.units[unit_id]}"}) as response:
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return response.status, body


async def test_a_receipt_at_the_peer_reaches_the_officer_who_posted_live(triangle):
    """SN's unit answers ML's alert at SN: the receipt is stored at SN and reaches the ML
    officer's live feed through ML's link from SN; FR never holds it."""
    ml, sn, fr = triangle["ML"], triangle["SN"], triangle["FR"]
    async with stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as officer, \
            stream_client(sn.process, sn.units["SN-DSS-JAITF"]) as partner:
        await officer.subscribe()
        await partner.subscribe()
        ack = await officer.publish(seizure_alert(distribution={"countries": ["SN", "FR"]}))
        [received] = await partner.events(1)
        assert ack["alert_id"] == received["alert"]["alert_id"]
        answer = await partner.request({"type": "receipt", "alert_id": ack["alert_id"],
                                        "status": "positive", "note": "saisie confirmée"})
        assert "ack" == answer["type"], answer
        receipt = await officer.recv_until(lambda f: f["type"] == "receipt")
    assert {"alert_id": ack["alert_id"], "unit": "SN-DSS-JAITF", "status": "positive",
            "note": "saisie confirmée", "origin_relay": "SN",
            "origin_seq": answer["seq"]} == {k: v for k, v in receipt["receipt"].items() if k != "at"}
    assert [] == await _rows(fr.dsn, "SELECT seq FROM relay_events WHERE kind = 'receipt'"
                                     " AND alert_id = $1::uuid", ack["alert_id"])


async def test_updates_and_cancellations_travel_each_with_its_own_distribution(triangle):
    ml, sn, fr = triangle["ML"], triangle["SN"], triangle["FR"]
    async with stream_client(sn.process, sn.units["SN-DSS-POLICE"]) as senegal, \
            stream_client(fr.process, fr.units["FR-CDG-OFAST"]) as france, \
            stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as officer:
        await senegal.subscribe()
        await france.subscribe()
        original = seizure_alert(distribution={"countries": ["SN"]})
        first = await officer.publish(original)
        update = {**original, "msg_type": "update", "references": first["alert_id"],
                  "distribution": {"countries": ["SN", "FR"]}, "summary": "now 3.1 kg"}
        second = await officer.publish(update)
        cancel = {**original, "msg_type": "cancel", "references": first["alert_id"],
                  "summary": "wrong flight"}
        third = await officer.publish(cancel)
        assert ["ack"] * 3 == [a["type"] for a in (first, second, third)], (first, second, third)
        at_sn = await senegal.events(3)
        [at_fr] = await france.events(1)
        await france.no_event(0.5)
    assert [first["alert_id"], second["alert_id"], third["alert_id"]] == [
        f["alert"]["alert_id"] for f in at_sn]
    assert ["alert", "update", "cancel"] == [f["alert"]["msg_type"] for f in at_sn]
    assert [first["alert_id"]] * 2 == [f["alert"]["references"] for f in at_sn[1:]]
    assert (second["alert_id"], "now 3.1 kg") == (at_fr["alert"]["alert_id"], at_fr["alert"]["summary"])
    status, file = await _get(sn, "SN-DSS-POLICE", f"/v1/alerts/{first['alert_id']}")
    assert 200 == status
    assert [second["alert_id"]] == [u["alert"]["alert_id"] for u in file["updates"]]
    assert third["alert_id"] == file["cancellation"]["alert"]["alert_id"]


async def _rows(dsn: str, query: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_the_audit_trail_names_the_peer_each_event_came_from_and_went_to(triangle):
    """At the receiving relay each event keeps its origin relay and seq; at the sending one,
    the alert's delivery lines name the peer relay; the chain verifies at every relay."""
    ml, sn = triangle["ML"], triangle["SN"]
    async with stream_client(sn.process, sn.units["SN-DSS-JAITF"]) as partner, \
            stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as officer:
        await partner.subscribe()
        ack = await officer.publish(seizure_alert(distribution={"countries": ["SN"]}))
        [frame] = await partner.events(1)
    assert ("ML", ack["seq"]) == (frame["alert"]["origin_relay"], frame["alert"]["origin_seq"])
    [row] = await _rows(sn.dsn, "SELECT origin_relay, origin_seq FROM relay_events WHERE alert_id = $1::uuid",
                        ack["alert_id"])
    assert ("ML", ack["seq"]) == (row["origin_relay"], row["origin_seq"])

    async def delivered_to_peer() -> bool:
        _, file = await _get(ml, "ML-BKO-JAITF", f"/v1/alerts/{ack['alert_id']}")
        return "relay:SN" in {line["unit"] for line in file["deliveries"]}

    await wait_for(delivered_to_peer, what="the delivery line of the peer relay")
    _, file = await _get(ml, "ML-BKO-JAITF", f"/v1/alerts/{ack['alert_id']}")
    assert "relay:FR" not in {line["unit"] for line in file["deliveries"]}
    for relay in triangle.relays.values():
        verified = run_relay("audit", "verify", dsn=relay.dsn)
        assert 0 == verified.returncode, (relay.relay_id, verified.stdout, verified.stderr)


async def test_operators_see_each_link_in_peers_list_the_http_api_and_metrics(triangle):
    ml = triangle["ML"]
    listed = run_relay("peers", "list", dsn=ml.dsn)
    assert 0 == listed.returncode, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert {"FR", "SN"} == set(lines)
    assert " up " in lines["SN"] and "SN" in lines["SN"].split()[1]
    french = run_relay("--lang", "fr", "peers", "list", dsn=ml.dsn)
    assert french.stdout.startswith("PAIR") and " actif " in french.stdout
    await ml.add_unit("ML-BKO-AUDIT", roles="audit")
    status, body = await _get(ml, "ML-BKO-AUDIT", "/v1/federation/peers")
    assert 200 == status, body
    assert "ML" == body["relay_id"]
    peers = {peer["peer_id"]: peer for peer in body["peers"]}
    assert ["SN"] == peers["SN"]["grant"]["countries"]
    assert "up" == peers["SN"]["link"]["state"] and 2 == peers["SN"]["units"]
    assert 403 == (await _get(ml, "ML-BKO-JAITF", "/v1/federation/peers"))[0]
    async with aiohttp.ClientSession() as http, http.get(f"{ml.process.http}/metrics") as response:
        text = await response.text()
    assert 'relay_federation_link_up{peer="SN"} 1.0' in text
    assert 'relay_federation_last_applied_age_seconds{peer="SN"}' in text
    assert 'relay_federation_events_behind{peer="FR"}' in text


async def test_peers_units_appear_in_unit_lists_as_remote_and_can_be_named(triangle):
    """SN's units are listed at ML with their relay (CLI and HTTP), may be named in a
    distribution there, and have no token at ML."""
    ml = triangle["ML"]
    listed = run_relay("units", "list", dsn=ml.dsn)
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "remote (SN)" in rows["SN-DSS-JAITF"] and "remote (FR)" in rows["FR-CDG-OFAST"]
    assert "distante (SN)" in run_relay("--lang", "fr", "units", "list", dsn=ml.dsn).stdout
    await ml.add_unit("ML-BKO-ADMIN", roles="admin")
    status, body = await _get(ml, "ML-BKO-ADMIN", "/v1/admin/units")
    assert 200 == status
    assert {"unit_id": "SN-DSS-JAITF", "country": "SN", "airport": None, "name": "test",
            "relay": "SN"} in body["remote_units"]
    assert "SN-DSS-JAITF" not in {unit["unit_id"] for unit in body["units"]}
    assert [] == await _rows(ml.dsn, "SELECT token_id FROM relay_tokens WHERE unit_id = 'SN-DSS-JAITF'")


async def test_a_unit_out_of_the_granted_scope_is_refused_and_an_id_is_never_shared(triangle):
    """FR publishes a unit of a country ML did not grant FR: ML refuses it (logged). FR
    cannot add a unit with the id of one of ML's (it knows ML's units); the refusal of a
    peer's unit whose id is local is tested with a scripted peer
    (tests/test_federation_hostile.py)."""
    ml, fr = triangle["ML"], triangle["FR"]
    await fr.add_unit("DE-FRA-BKA", country="DE")
    lines = await ml.process.log_lines(lambda line: line.get("event") == "remote_unit_refused"
                                       and line.get("unit") == "DE-FRA-BKA")
    refused = {line["unit"]: line["reason"] for line in lines if line.get("event") == "remote_unit_refused"}
    assert {"DE-FRA-BKA": "country_not_granted"} == refused
    assert [] == await _rows(ml.dsn, "SELECT unit_id FROM relay_remote_units WHERE unit_id = 'DE-FRA-BKA'")
    taken = run_relay("units", "add", "ML-BKO-DOUANE", "--country", "FR", "--roles", "subscribe", dsn=fr.dsn)
    assert 0 != taken.returncode and "peer relay ML" in taken.stderr


async def test_a_local_unit_cannot_take_the_id_of_a_peers_unit(triangle):
    """Else a red alert naming it would cross to the peer: the id is refused at ML."""
    ml = triangle["ML"]
    added = run_relay("units", "add", "SN-DSS-POLICE", "--country", "ML", "--roles", "subscribe", dsn=ml.dsn)
    assert 0 != added.returncode
    assert "peer relay SN" in added.stderr
    assert [] == await _rows(ml.dsn, "SELECT unit_id FROM relay_units WHERE unit_id = 'SN-DSS-POLICE'")


async def test_a_federation_token_may_only_federate(triangle):
    """The peer's token is not a unit's: no publish, no subscribe, no history; and a unit's
    token cannot federate."""
    ml = triangle["ML"]
    conn = await asyncpg.connect(ml.dsn)
    try:
        token = (await grant_peer(conn, SETUP, "GM", ["GM"])).token
    finally:
        await conn.close()
    ml.units["relay:GM"] = token
    async with stream_client(ml.process, token) as peer:
        assert (["federation"], "relay:GM") == (peer.welcome["roles"], peer.welcome["unit"])
        assert "forbidden" == (await peer.subscribe())["code"]
        assert "forbidden" == (await peer.publish(seizure_alert()))["code"]
    assert 403 == (await _get(ml, "relay:GM", "/v1/alerts"))[0]
    async with stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as unit:
        refused = await unit.request({"type": "federate", "since": 0})
        assert "forbidden" == refused["code"]


async def test_a_revoked_peer_stops_receiving_within_5_seconds(triangle):
    """ML cuts FR: FR's link is closed within 5 s and what ML publishes for France after
    that never reaches FR. (Last in the module: FR stays cut.)"""
    ml, fr = triangle["ML"], triangle["FR"]
    async with stream_client(fr.process, fr.units["FR-CDG-OFAST"]) as france, \
            stream_client(ml.process, ml.units["ML-BKO-JAITF"]) as officer:
        await france.subscribe()
        before = await officer.publish(seizure_alert(distribution={"countries": ["FR"]}))
        await france.events(1)
        conn = await asyncpg.connect(ml.dsn)
        try:
            await revoke_peer(conn, SETUP, "FR")
        finally:
            await conn.close()
        started = time.monotonic()
        await fr.process.log_lines(lambda line: line.get("event") == "link_down"
                                   and line.get("peer") == "ML", timeout=5)
        assert time.monotonic() - started < 5
        after = await officer.publish(seizure_alert(distribution={"countries": ["FR"]}))
        await france.no_event(1.5)
    assert "ack" == after["type"] and after["seq"] > before["seq"]
    assert [] == await _rows(fr.dsn, "SELECT seq FROM relay_events WHERE alert_id = $1::uuid",
                             after["alert_id"])
    listed = run_relay("peers", "list", dsn=ml.dsn)
    assert "revoked" in {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}["FR"]
