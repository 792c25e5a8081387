"""A peer is another state's relay: what it sends is checked before anything is stored.

A scripted peer (a WebSocket server speaking the link protocol, nothing of the relay's)
feeds a real relay SN: alerts that claim another origin, invalid ones, a red alert whose
audience names countries and foreign units, a receipt for an alert that did not originate
at SN, an old seq sent again, a directory with units SN did not grant, then garbage. SN
stores exactly the valid events once, with the audience cut down to its own units, logs
every refusal, resumes from the cursor it committed, and keeps serving its own units.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import msgpack
import pytest
from websockets.asyncio.server import ServerConnection, serve

from relay.store.federation import grant_peer
from tests.alert_examples import seizure_alert
from tests.federation import FAST
from tests.support import SETUP, RelayProcess, create_unit, run_relay, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _pack(frame: dict[str, Any]) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)


def _alert(seq: int, audience: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    alert = {**seizure_alert(distribution={"countries": ["SN"]}), "alert_id": str(uuid.uuid4()),
             "origin_unit": "ML-BKO-JAITF", "received_at": "2026-11-23T09:30:01.000Z",
             "origin_relay": "ML", **changes}
    return {"type": "alert", "seq": seq, "alert": alert,
            "audience": audience or {"countries": ["SN"], "units": []}}


class ScriptedPeer:
    """Answers the link's handshake as relay ML, then sends ``script``; records each
    ``since`` the link asked for."""

    def __init__(self) -> None:
        self.script: list[bytes | dict[str, Any]] = []
        self.go = asyncio.Event()  # set once the script is written
        self.since: list[int] = []
        self.tokens: list[str] = []
        self.connected = asyncio.Event()

    async def handler(self, ws: ServerConnection) -> None:
        self.tokens.append(ws.request.headers.get("Authorization", "") if ws.request else "")
        await ws.send(_pack({"type": "welcome", "unit": "relay:SN", "roles": ["federation"],
                             "head": 20, "protocol": "relay.v1", "server_time": "2026-11-23T10:00:00Z"}))
        federate = msgpack.unpackb(await ws.recv())
        self.since.append(federate["since"])
        await ws.send(_pack({"type": "federating", "id": federate["id"], "relay": "ML", "peer": "SN",
                             "countries": ["SN"], "head": 20}))
        if len(self.since) == 1:
            await self.go.wait()
            for item in self.script:
                await ws.send(item if isinstance(item, bytes) else _pack(item))
        self.connected.set()
        await ws.wait_closed()


@pytest.fixture(scope="module")
async def attacked(dsn, workdir):
    """SN, linked to the scripted ML; yields (relay, peer, the ids of the valid alerts)."""
    _, sn_token = await create_unit(dsn, "SN-DSS-JAITF", country="SN")
    conn = await asyncpg.connect(dsn)
    try:
        await grant_peer(conn, SETUP, "ML", ["ML"])  # what SN accepts of ML's directory
        await conn.execute("INSERT INTO relay_remote_units (unit_id, relay_id, country)"
                           " VALUES ('FR-CDG-OFAST', 'FR', 'FR')")  # as if FR's directory came
    finally:
        await conn.close()
    good, red = _alert(1), _alert(4, {"countries": ["SN"], "units": ["SN-DSS-JAITF", "FR-CDG-OFAST"]},
                                  tlp="red", distribution={"units": ["SN-DSS-JAITF"]})
    peer = ScriptedPeer()
    async with serve(peer.handler, "127.0.0.1", 0, subprotocols=["relay.v1.msgpack"]) as server:
        port = server.sockets[0].getsockname()[1]
        token_file = workdir / "ml.token"
        token_file.write_text("relay_" + "x" * 43 + "\n")
        relay = RelayProcess(dsn, workdir, config_text=(
            f'[relay]\nid = "SN"\n{FAST}\n[[federation.peers]]\nid = "ML"\n'
            f'url = "ws://127.0.0.1:{port}/v1/stream"\ntoken_file = "{token_file}"\n'))
        await relay.start()
        try:
            async with stream_client(relay, sn_token) as officer:  # an alert of SN's own
                own = await officer.publish(seizure_alert(distribution={"countries": ["ML"]}))
            peer.script = _script(good, red, own["alert_id"])
            peer.go.set()
            await relay.log_lines(lambda line: line.get("event") == "link_up"
                                  and line.get("since") == 11, timeout=15)
            yield relay, peer, sn_token, (good["alert"]["alert_id"], red["alert"]["alert_id"], own["seq"])
        finally:
            await relay.stop()


def _script(good: dict[str, Any], red: dict[str, Any], own_alert: str) -> list[bytes | dict[str, Any]]:
    return [
        {"type": "directory", "units": [
            {"unit_id": "ML-BKO-JAITF", "country": "ML", "airport": "BKO", "name": "JAITF"},
            {"unit_id": "FR-CDG-OFAST", "country": "FR", "airport": None, "name": "not granted"},
            {"unit_id": "SN-DSS-JAITF", "country": "ML", "airport": None, "name": "a local id"}]},
        good,
        _alert(2, origin_relay="FR"),  # claims another origin
        _alert(3, priority="whenever"),  # not a valid alert
        red,
        {"type": "receipt", "seq": 5, "receipt": {  # for an alert that is not SN's own
            "alert_id": good["alert"]["alert_id"], "unit": "ML-BKO-JAITF", "status": "positive",
            "at": "2026-11-23T10:00:00Z"}},
        _alert(1),  # an old seq again: never applied twice
        _alert(6, origin_unit="SN-DSS-JAITF"),  # speaks for a unit of SN
        {"type": "receipt", "seq": 7, "receipt": {  # a receipt "by" a unit of SN
            "alert_id": own_alert, "unit": "SN-DSS-JAITF", "status": "negative",
            "at": "2026-11-23T10:00:00Z"}},
        {**_alert(8), "alert": {**good["alert"], "summary": "same id, other content"}},
        _alert(9, msg_type="cancel", references=own_alert, summary="cancelled by ML"),  # SN's alert
        _alert(10, origin_unit="FR-CDG-OFAST"),  # passed off as FR's
        {"type": "position", "seq": 11, "head": 20},
        b"\xc1 not msgpack",  # garbage: the link is dropped and comes back from its cursor
    ]


async def test_only_the_valid_events_are_stored_once_with_the_audience_cut_to_local_units(attacked, dsn):
    _, peer, _, (good_id, red_id, own_seq) = attacked
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT alert_id::text, origin_relay, origin_seq, dist_units,"
                                " dist_countries FROM relay_events WHERE seq <> $1 ORDER BY seq", own_seq)
        link = await conn.fetchrow("SELECT position, applied_events FROM relay_links WHERE peer_id = 'ML'")
        remote = await conn.fetch("SELECT unit_id FROM relay_remote_units WHERE relay_id = 'ML' ORDER BY unit_id")
    finally:
        await conn.close()
    assert [(good_id, "ML", 1, [], ["SN"]), (red_id, "ML", 4, ["SN-DSS-JAITF"], [])] == [tuple(r) for r in rows]
    assert (11, 2) == (link["position"], link["applied_events"])
    assert ["ML-BKO-JAITF"] == [row["unit_id"] for row in remote]
    assert [0, 11] == peer.since[:2]  # it resumed from the cursor it had committed
    assert peer.tokens[0] == "Bearer relay_" + "x" * 43


async def test_every_refusal_is_logged_without_the_content(attacked):
    relay, _, _, _ = attacked
    lines = await relay.log_lines(lambda line: line.get("event") == "peer_frame_refused")
    refused = [line["reason"] for line in lines if line.get("event") == "peer_event_refused"]
    assert 8 == len(refused), refused
    assert any("another origin relay" in reason for reason in refused)
    assert any("invalid_alert" in reason for reason in refused)
    assert any("no alert that originated here" in reason for reason in refused)
    assert any("its origin unit is a unit of this relay" in reason for reason in refused)
    assert any("its unit is a unit of this relay" in reason for reason in refused)
    assert any("alert id is already stored" in reason for reason in refused)
    assert any("amends an alert that is not its unit's" in reason for reason in refused)
    assert any("its unit is a unit of relay FR" in reason for reason in refused)
    units = {line["unit"]: line["reason"] for line in lines if line.get("event") == "remote_unit_refused"}
    assert {"FR-CDG-OFAST": "country_not_granted", "SN-DSS-JAITF": "local_unit_id"} == units
    text = relay.log_path.read_text()
    assert "2.4 kg of cocaine" not in text  # no alert content in the logs


async def test_the_relay_keeps_serving_its_units_and_its_chain_verifies(attacked, dsn):
    relay, _, sn_token, (good_id, red_id, _) = attacked
    async with stream_client(relay, sn_token) as client:
        await client.subscribe(since=0)
        frames = [f for f in await client.events(3) if f["alert"]["origin_unit"] != "SN-DSS-JAITF"]
        ack = await client.publish(seizure_alert(distribution={"countries": ["SN"]}))
    assert [good_id, red_id] == [frame["alert"]["alert_id"] for frame in frames]
    assert "ack" == ack["type"]
    verified = run_relay("audit", "verify", dsn=dsn)
    assert 0 == verified.returncode, verified.stdout + verified.stderr


async def test_changing_who_may_see_a_received_alert_breaks_the_chain_at_its_seq(attacked, dsn):
    """The audience is in the hashed body: widening the stored audience columns of the red
    alert (as a superuser, triggers off) is named by verify. (Last: it tampers.)"""
    _, _, _, (_, red_id, _) = attacked
    conn = await asyncpg.connect(dsn)
    try:
        seq = await conn.fetchval("SELECT seq FROM relay_events WHERE alert_id = $1::uuid", red_id)
        await conn.execute("ALTER TABLE relay_events DISABLE TRIGGER USER")
        await conn.execute("UPDATE relay_events SET dist_countries = '{SN}' WHERE seq = $1", seq)
        await conn.execute("ALTER TABLE relay_events ENABLE TRIGGER USER")
    finally:
        await conn.close()
    verified = run_relay("audit", "verify", dsn=dsn)
    assert 1 == verified.returncode
    assert str(seq) in verified.stdout + verified.stderr


async def test_a_stopped_relay_shows_its_link_down_and_a_link_no_longer_configured_says_so(
        attacked, dsn, workdir):
    """The module's relay stopped (last test): its link is shown down ("this relay
    stopped"); a start without that [[federation.peers]] shows it "not configured"."""
    assert 0 == await attacked[0].stop()
    conn = await asyncpg.connect(dsn)
    try:
        stopped = await conn.fetchrow("SELECT state, last_error FROM relay_links WHERE peer_id = 'ML'")
    finally:
        await conn.close()
    assert ("down", "this relay stopped") == (stopped["state"], stopped["last_error"])
    relay = RelayProcess(dsn, workdir / "without-links", config_text='[relay]\nid = "SN"\n')
    await relay.start()
    try:
        listed = run_relay("peers", "list", dsn=dsn)
    finally:
        await relay.stop()
    assert "not configured on this relay" in listed.stdout
