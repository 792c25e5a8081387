"""The stream end to end: handshake, every frame type and error code, over real sockets."""

from __future__ import annotations

import asyncio

import msgpack
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import TIMEOUT, RelayProcess, create_unit, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def units(dsn: str) -> dict[str, tuple[str, str]]:
    """The units of the example alerts, plus a subscriber-only and an audit-only unit."""
    made = {}
    made["bko"] = await create_unit(dsn, "ML-BKO-JAITF", country="ML", airport="BKO")
    made["cmn"] = await create_unit(dsn, "MA-CMN-BNPJ", country="MA", airport="CMN")
    made["cdg"] = await create_unit(dsn, "FR-CDG-OFAST", country="FR", airport="CDG")
    made["watch"] = await create_unit(dsn, "SN-DSS-WATCH", country="SN", roles="subscribe")
    made["audit"] = await create_unit(dsn, "EU-AUDIT-OFFICE", country="BE", roles="audit")
    return made


@pytest.mark.parametrize("encoding", ["relay.v1.json", "relay.v1.msgpack"])
async def test_welcome_names_the_unit_roles_head_and_protocol(relay, units, encoding):
    """After header authentication the first frame is welcome, in the chosen encoding."""
    unit_id, token = units["bko"]
    async with stream_client(relay, token, encoding=encoding) as client:
        welcome = client.welcome
    assert unit_id == welcome["unit"]
    assert ["publish", "subscribe"] == welcome["roles"]
    assert "relay.v1" == welcome["protocol"]
    assert isinstance(welcome["head"], int)
    assert welcome["server_time"].endswith("Z")


async def test_a_client_offering_no_subprotocol_speaks_msgpack(relay, units):
    """With no sub-protocol offered the relay answers in MessagePack binary frames."""
    async with connect(relay.url, additional_headers={"Authorization": f"Bearer {units['bko'][1]}"}) as ws:
        data = await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert isinstance(data, bytes)
    assert "welcome" == msgpack.unpackb(data)["type"]


async def test_a_bad_bearer_token_is_refused_with_http_401(relay):
    """A wrong token on the handshake gets 401 and no upgrade."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(relay.url, additional_headers={"Authorization": "Bearer relay_nope-nope-nope-nope"}):
            pass
    assert 401 == refused.value.response.status_code


@pytest.mark.parametrize("encoding", ["relay.v1.json", "relay.v1.msgpack"])
async def test_auth_frame_authenticates_a_browser_style_client(relay, units, encoding):
    """Without the header, an auth first frame authenticates the connection."""
    async with stream_client(relay, units["cmn"][1], encoding=encoding, header_auth=False) as client:
        assert "MA-CMN-BNPJ" == client.welcome["unit"]


@pytest.mark.parametrize("first_frame", [
    {"type": "auth", "token": "relay_wrong-wrong-wrong-wrong"},
    {"type": "subscribe", "id": "s1"},
    {"type": "auth"},
])
async def test_a_bad_auth_frame_closes_with_4401(relay, first_frame):
    """A wrong token, a frame that is not auth, or no token: close code 4401, nothing sent."""
    async with connect(relay.url, subprotocols=["relay.v1.json"]) as ws:
        await ws.send(__import__("orjson").dumps(first_frame).decode())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert 4401 == closed.value.rcvd.code


async def test_publish_is_acknowledged_with_seq_and_alert_id(relay, units):
    """A valid publish is committed and acknowledged; the id is echoed."""
    async with stream_client(relay, units["bko"][1]) as client:
        ack = await client.publish(passenger_alert(), ident="bko-1")
    assert "ack" == ack["type"]
    assert "bko-1" == ack["id"]
    assert ack["seq"] > 0
    assert ack["duplicate"] is False
    assert 36 == len(ack["alert_id"])


async def test_publishing_the_same_id_again_is_a_duplicate_even_after_reconnecting(relay, units):
    """Idempotency per (unit, id): the first alert's id and seq, and nothing new is sent."""
    async with stream_client(relay, units["bko"][1]) as client:
        first = await client.publish(passenger_alert(), ident="bko-dup")
    async with stream_client(relay, units["cmn"][1]) as watcher:
        await watcher.subscribe()
        async with stream_client(relay, units["bko"][1]) as client:
            again = await client.publish(passenger_alert(summary="changed"), ident="bko-dup")
        await watcher.no_event()
    assert (first["alert_id"], first["seq"], True) == (again["alert_id"], again["seq"], again["duplicate"])


async def test_the_same_id_from_two_units_makes_two_alerts(relay, units):
    """Idempotency keys belong to a unit."""
    async with stream_client(relay, units["bko"][1]) as a, stream_client(relay, units["cmn"][1]) as b:
        first = await a.publish(passenger_alert(), ident="shared-id")
        second = await b.publish(passenger_alert(distribution={"units": ["ML-BKO-JAITF"]}),
                                 ident="shared-id")
    assert first["alert_id"] != second["alert_id"]
    assert second["duplicate"] is False


async def test_an_invalid_alert_gets_every_problem_with_its_path(relay, units):
    """invalid_alert names each field, and the id of the frame is echoed."""
    alert = passenger_alert(priority="soon")
    alert["flight"]["origin"] = "XQX"
    del alert["subjects"][0]["surname"]
    async with stream_client(relay, units["bko"][1]) as client:
        error = await client.publish(alert, ident="bad-alert")
    assert ("error", "invalid_alert", "bad-alert") == (error["type"], error["code"], error["id"])
    fields = {d["field"] for d in error["details"]}
    assert {"priority", "flight.origin", "subjects[0].surname"} <= fields


@pytest.mark.parametrize(("payload", "code"), [
    ("{not json", "bad_frame"),
    ("[1, 2, 3]", "bad_frame"),
    ('{"id": "x1"}', "bad_frame"),
    ('{"type": "dance", "id": "x2"}', "unknown_type"),
    ('{"type": "subscribe", "id": "x3", "filter": {"colour": "red"}}', "invalid_filter"),
    ('{"type": "subscribe", "id": "x4", "since": -1}', "bad_frame"),
    ('{"type": "publish"}', "bad_frame"),
    ('{"type": "receipt", "id": "x5", "alert_id": "nope", "status": "received"}', "bad_frame"),
])
async def test_bad_frames_get_an_error_and_the_connection_stays_usable(relay, units, payload, code):
    """A bad frame is answered with its code; the next good frame still works."""
    async with stream_client(relay, units["bko"][1]) as client:
        await client.ws.send(payload)
        error = await client.recv()
        ack = await client.publish(seizure_alert())
    assert ("error", code) == (error["type"], error["code"])
    assert error["message"]
    assert "ack" == ack["type"]


async def test_a_binary_frame_on_the_json_subprotocol_is_a_bad_frame(relay, units):
    """Each sub-protocol has one frame kind."""
    async with stream_client(relay, units["bko"][1]) as client:
        await client.ws.send(b'{"type":"subscribe","id":"b"}')
        error = await client.recv()
    assert "bad_frame" == error["code"]


async def test_roles_are_checked_on_every_frame(relay, units):
    """publish needs the publish role, subscribe the subscribe role: forbidden otherwise."""
    async with stream_client(relay, units["watch"][1]) as watcher:
        refused_publish = await watcher.publish(seizure_alert())
    async with stream_client(relay, units["audit"][1]) as auditor:
        refused_subscribe = await auditor.subscribe()
    assert "forbidden" == refused_publish["code"]
    assert "forbidden" == refused_subscribe["code"]


async def test_a_subscriber_receives_alerts_live_with_the_relay_fields(relay, units):
    """subscribed comes first, then each visible alert with alert_id, origin_unit, received_at."""
    async with stream_client(relay, units["cmn"][1]) as subscriber:
        subscribed = await subscriber.subscribe()
        async with stream_client(relay, units["bko"][1]) as publisher:
            ack = await publisher.publish(passenger_alert())
        (event,) = await subscriber.events(1)
    assert "subscribed" == subscribed["type"]
    assert ack["seq"] == event["seq"]
    assert ack["alert_id"] == event["alert"]["alert_id"]
    assert "ML-BKO-JAITF" == event["alert"]["origin_unit"]
    assert event["alert"]["received_at"].endswith("Z")
    assert "AT571" == event["alert"]["flight"]["number"]


async def test_origin_unit_cannot_be_forged(relay, units):
    """origin_unit in the alert is an unknown field: a client cannot publish as another."""
    async with stream_client(relay, units["bko"][1]) as client:
        error = await client.publish(passenger_alert(origin_unit="MA-CMN-BNPJ"))
    assert "invalid_alert" == error["code"]


async def test_since_replays_then_caught_up_then_live_without_gap_or_duplicate(relay, units):
    """Replay of stored events after since, caught_up, then live events, seqs increasing."""
    async with stream_client(relay, units["bko"][1]) as publisher:
        acks = [await publisher.publish(passenger_alert()) for _ in range(5)]
        since = acks[0]["seq"] - 1
        async with stream_client(relay, units["cdg"][1]) as subscriber:
            await subscriber.subscribe(since=since)
            replayed = await subscriber.events(5)
            caught_up = await subscriber.recv_until(lambda f: f["type"] == "caught_up")
            live_ack = await publisher.publish(passenger_alert())
            (live,) = await subscriber.events(1)
    seqs = [e["seq"] for e in replayed]
    assert [a["seq"] for a in acks] == [s for s in seqs if s in {a["seq"] for a in acks}]
    assert seqs == sorted(set(seqs))
    assert caught_up["seq"] >= seqs[-1]
    assert live_ack["seq"] == live["seq"]


async def test_filters_narrow_the_stream(relay, units):
    """kinds, airports, min_priority and statuses each narrow what arrives."""
    async with stream_client(relay, units["cmn"][1]) as subscriber:
        await subscriber.subscribe(filter={"kinds": ["passenger"], "min_priority": "urgent",
                                           "airports": ["CMN"], "statuses": ["actual"]})
        async with stream_client(relay, units["bko"][1]) as publisher:
            await publisher.publish(passenger_alert(priority="routine"))
            await publisher.publish(passenger_alert(status="exercise"))
            await publisher.publish(seizure_alert(distribution={"all": True}))
            wanted = await publisher.publish(passenger_alert(priority="urgent"))
        (event,) = await subscriber.events(1)
        await subscriber.no_event()
    assert wanted["seq"] == event["seq"]


async def test_a_later_subscribe_replaces_the_earlier_one(relay, units):
    """The second subscribe's filter applies from its subscribed frame on."""
    async with stream_client(relay, units["cmn"][1]) as subscriber:
        await subscriber.subscribe(filter={"kinds": ["seizure"]})
        await subscriber.subscribe(filter={"kinds": ["passenger"]})
        async with stream_client(relay, units["bko"][1]) as publisher:
            await publisher.publish(seizure_alert(distribution={"all": True}))
            wanted = await publisher.publish(passenger_alert())
        (event,) = await subscriber.events(1)
    assert wanted["seq"] == event["seq"]


async def test_receipts_are_sequenced_and_seen_by_origin_and_author_only(relay, units):
    """A receipt from an addressee is acked with its seq and reaches origin and author."""
    async with stream_client(relay, units["bko"][1]) as origin, \
            stream_client(relay, units["cmn"][1]) as author, \
            stream_client(relay, units["cdg"][1]) as other:
        for client in (origin, author, other):
            await client.subscribe()
        ack = await origin.publish(passenger_alert())
        for client in (origin, author, other):
            (alert,) = await client.events(1)
            assert ack["seq"] == alert["seq"]
        receipt_ack = await author.request({"type": "receipt", "alert_id": ack["alert_id"],
                                            "status": "positive", "note": "courier stopped"})
        (seen_by_origin,) = await origin.events(1)
        (seen_by_author,) = await author.events(1)
        await other.no_event()
    assert "ack" == receipt_ack["type"]
    assert receipt_ack["seq"] > ack["seq"]
    for event in (seen_by_origin, seen_by_author):
        assert "receipt" == event["type"]
        assert receipt_ack["seq"] == event["seq"]
        assert {"alert_id": ack["alert_id"], "unit": "MA-CMN-BNPJ", "status": "positive",
                "note": "courier stopped"} == {k: event["receipt"][k] for k in ("alert_id", "unit", "status", "note")}


async def test_receipts_are_idempotent_by_id(relay, units):
    """The same receipt id twice: one receipt, the second ack says duplicate."""
    async with stream_client(relay, units["bko"][1]) as origin, stream_client(relay, units["cmn"][1]) as author:
        ack = await origin.publish(passenger_alert())
        frame = {"type": "receipt", "alert_id": ack["alert_id"], "status": "received"}
        first = await author.request({**frame, "id": "r-1"})
        second = await author.request({**frame, "id": "r-1"})
    assert (first["seq"], True) == (second["seq"], second["duplicate"])


async def test_a_receipt_from_a_unit_not_addressed_is_forbidden(relay, units):
    """Only a unit the alert was distributed to may answer it."""
    async with stream_client(relay, units["bko"][1]) as origin, stream_client(relay, units["watch"][1]) as stranger:
        ack = await origin.publish(passenger_alert())
        refused = await stranger.request({"type": "receipt", "alert_id": ack["alert_id"], "status": "received"})
        missing = await stranger.request({"type": "receipt", "status": "received",
                                          "alert_id": "01234567-89ab-7def-8123-456789abcdef"})
    assert "forbidden" == refused["code"]
    assert "not_found" == missing["code"]


async def test_update_and_cancel_must_reference_an_own_alert(relay, units):
    """An update of one's own alert is accepted; of another unit's is forbidden; of none, not_found."""
    async with stream_client(relay, units["bko"][1]) as bko, stream_client(relay, units["cmn"][1]) as cmn:
        original = await bko.publish(passenger_alert())
        update = await bko.publish(passenger_alert(msg_type="update", references=original["alert_id"]))
        stolen = await cmn.publish(passenger_alert(msg_type="cancel", references=original["alert_id"],
                                                   distribution={"units": ["ML-BKO-JAITF"]}))
        ghost = await bko.publish(passenger_alert(msg_type="cancel",
                                                  references="01234567-89ab-7def-8123-456789abcdef"))
    assert "ack" == update["type"]
    assert "forbidden" == stolen["code"]
    assert "not_found" == ghost["code"]


async def test_a_frame_over_the_maximum_closes_with_1009(relay, units):
    """Frames larger than max_frame_bytes (1 MiB by default) close the connection with 1009."""
    async with stream_client(relay, units["bko"][1]) as client:
        await client.ws.send("x" * (1_048_576 + 10))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.recv()
    assert 1009 == closed.value.rcvd.code


async def test_a_bad_connection_does_not_touch_another(relay, units):
    """Garbage and an oversized frame on one connection; the other keeps publishing."""
    async with stream_client(relay, units["bko"][1]) as good, stream_client(relay, units["cmn"][1]) as bad:
        await bad.ws.send("{{{")
        await bad.ws.send("y" * (1_048_576 + 1))
        ack = await good.publish(passenger_alert())
    assert "ack" == ack["type"]


async def test_the_relay_answers_health_and_metrics(relay: RelayProcess):
    """/healthz, /readyz and /metrics answer on the HTTP port."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{relay.http}/healthz") as health:
            assert 200 == health.status
        async with http.get(f"{relay.http}/readyz") as ready:
            assert 200 == ready.status
        async with http.get(f"{relay.http}/metrics") as metrics:
            text = await metrics.text()
    for name in ("relay_open_connections", "relay_alerts_published_total", "relay_deliveries_total",
                 "relay_publish_commit_seconds_bucket", 'relay_errors_total{code="bad_frame"}'):
        assert name in text


async def test_a_receipt_id_and_a_publish_id_do_not_collide(relay, units):
    """Idempotency keys are per kind of frame: a receipt reusing a publish id is a new receipt."""
    async with stream_client(relay, units["cmn"][1]) as cmn, stream_client(relay, units["bko"][1]) as bko:
        target = await bko.publish(passenger_alert())
        own = await cmn.publish(passenger_alert(distribution={"units": ["ML-BKO-JAITF"]}), ident="same-id")
        receipt = await cmn.request({"type": "receipt", "id": "same-id", "alert_id": target["alert_id"],
                                     "status": "received"})
    assert receipt["duplicate"] is False
    assert receipt["seq"] > own["seq"]
    assert target["alert_id"] == receipt["alert_id"]


async def test_binary_values_in_ext_are_an_invalid_alert(relay, units):
    """ext holds JSON values only: msgpack binary data is refused, not retried forever."""
    async with stream_client(relay, units["bko"][1], encoding="relay.v1.msgpack") as client:
        error = await client.publish(seizure_alert(ext={"photo": b"\x89PNG", "case": {b"ref": 1}}))
    assert ("invalid_alert", ["ext.case", "ext.photo"]) == (
        error["code"], sorted(d["field"] for d in error["details"]))


async def test_nul_characters_are_refused_by_name_not_failed_at_commit(relay, units):
    """PostgreSQL cannot store U+0000: an alert, a frame id or a receipt note holding one
    is refused with the field named, and the connection keeps working."""
    async with stream_client(relay, units["bko"][1]) as client:
        alert_error = await client.publish(seizure_alert(summary="gold\x00bars", ext={"k\x00": 1}))
        await client.send({"type": "publish", "id": "key-\x00", "alert": seizure_alert()})
        id_error = await client.recv_until(lambda f: f["type"] == "error")  # no id to echo
        stored = await client.publish(seizure_alert())
        note_error = await client.request({"type": "receipt", "alert_id": stored["alert_id"],
                                           "status": "received", "note": "a\x00b"})
    assert ("invalid_alert", ["ext.'k\\x00'", "summary"]) == (
        alert_error["code"], sorted(d["field"] for d in alert_error["details"]))
    assert ("bad_frame", ["id"]) == (id_error["code"], [d["field"] for d in id_error["details"]])
    assert "ack" == stored["type"]
    assert ("bad_frame", ["note"]) == (note_error["code"], [d["field"] for d in note_error["details"]])


async def test_a_since_beyond_the_newest_event_is_refused(relay, units):
    """A cursor from elsewhere (beyond the committed head) is a bad_frame naming since."""
    async with stream_client(relay, units["cdg"][1]) as client:
        reply = await client.subscribe(since=client.welcome["head"] + 1_000_000)
    assert ("error", "bad_frame", ["since"]) == (reply["type"], reply["code"], [d["field"] for d in reply["details"]])


async def test_welcome_head_is_the_committed_head(relay, units):
    """After an acknowledged publish, a new connection's welcome head is at least its seq."""
    async with stream_client(relay, units["bko"][1]) as client:
        ack = await client.publish(passenger_alert())
    async with stream_client(relay, units["cmn"][1]) as client:
        assert client.welcome["head"] >= ack["seq"]
