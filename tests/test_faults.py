"""Nothing acknowledged is lost: real faults (SIGKILL, SIGTERM, dropped clients, a
database restart) during real streams, checked by resuming with ``since``."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import pytest
import websockets

from tests.alert_examples import seizure_alert
from tests.conftest import REGIONS_CONFIG, running_relay
from tests.support import RelayProcess, create_unit, replay_since, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAST_LIMITS = REGIONS_CONFIG + """
[limits]
publish_per_second = 100000.0
publish_burst = 100000
"""


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    async with running_relay(dsn, workdir, FAST_LIMITS) as process:
        yield process


async def publish_until_acked(relay: RelayProcess, token: str, alerts: list[dict], prefix: str,
                              acked: dict[str, dict]) -> None:
    """A terminal that resends every unacknowledged alert with the same id until acked."""
    position = 0
    while position < len(alerts):
        try:
            async with stream_client(relay, token) as client:
                while position < len(alerts):
                    ident = f"{prefix}-{position}"
                    reply = await client.publish(alerts[position], ident=ident)
                    if reply["type"] == "ack":
                        acked[ident] = reply
                        position += 1
                    else:
                        assert reply["code"] in ("unavailable", "rate_limited"), reply
                        await asyncio.sleep(0.05)
        except (OSError, websockets.ConnectionClosed, websockets.InvalidStatus, TimeoutError,
                asyncio.IncompleteReadError):
            await asyncio.sleep(0.1)


async def test_a_subscriber_that_drops_and_resumes_gets_each_event_exactly_once(relay, dsn):
    """Drop the subscriber's connection three times mid-stream; resume with since each time."""
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    acked: dict[str, dict] = {}
    alerts = [seizure_alert(distribution={"countries": ["TG"]}) for _ in range(300)]
    async with stream_client(relay, sub_token) as probe:
        start = probe.welcome["head"]
    publishing = asyncio.create_task(publish_until_acked(relay, pub_token, alerts, "drop", acked))
    received: list[int] = []
    last = start
    for _ in range(3):
        async with stream_client(relay, sub_token) as client:
            await client.subscribe(since=last)
            for _ in range(40):
                frame = await client.recv_until(lambda f: f["type"] == "alert")
                received.append(frame["seq"])
                last = frame["seq"]
            client.ws.transport.abort()
    await publishing
    rest = await replay_since(relay, sub_token, last)
    received += [e["seq"] for e in rest]
    assert sorted(a["seq"] for a in acked.values()) == received


async def wait_for_acks(acked: dict[str, dict], count: int, publishing: asyncio.Task[None]) -> None:
    """Until ``count`` alerts are acknowledged (or the terminals are done)."""
    async with asyncio.timeout(60):
        while len(acked) < count and not publishing.done():  # noqa: ASYNC110 - other tasks fill acked
            await asyncio.sleep(0.005)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
async def test_acknowledged_alerts_survive_the_relay_being_stopped(dsn, workdir, signum):
    """Three terminals publish 300 alerts, resending until acked; the relay is stopped
    (SIGTERM or SIGKILL) after every 60 new acks, so always while publishes are in flight.
    Every acknowledged alert is stored exactly once and replayed exactly once."""
    relay = RelayProcess(dsn, workdir / f"kill-{signum}", config_text=FAST_LIMITS)
    await relay.start()
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    async with stream_client(relay, sub_token) as probe:
        start = probe.welcome["head"]
    acked: dict[str, dict] = {}
    publishing = asyncio.gather(*(
        publish_until_acked(relay, pub_token,
                            [seizure_alert(distribution={"countries": ["TG"]}) for _ in range(100)],
                            f"k{signum}-{terminal}", acked)
        for terminal in range(3)))
    kills = 0
    try:
        while not publishing.done() and kills < 4:
            await wait_for_acks(acked, len(acked) + 60, publishing)
            if publishing.done():
                break
            relay.signal(signum)
            kills += 1
            code = await relay.wait_exit()
            if signum == signal.SIGTERM:
                assert 0 == code, relay.log()
            await relay.start()
        await asyncio.wait_for(publishing, 60)
        events = await replay_since(relay, sub_token, start)
    finally:
        publishing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publishing
        await relay.stop()
    seqs = [e["seq"] for e in events]
    assert kills >= 3
    assert 300 == len(acked)
    assert sorted(a["seq"] for a in acked.values()) == seqs
    assert len({a["alert_id"] for a in acked.values()}) == 300


async def test_sigterm_answers_every_publish_it_read_before_closing(dsn, workdir):
    """A terminal pipelines 1,500 publishes; SIGTERM arrives after the first ack. The relay
    finishes the commits in flight: the publishes answered (ack, or unavailable for those
    it refused while stopping) are exactly the first ones sent, with no hole, before the
    1001 close; every ack is stored, nothing refused is, and the exit status is 0."""
    relay = RelayProcess(dsn, workdir / "sigterm-in-flight", config_text=FAST_LIMITS)
    await relay.start()
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    replies: dict[int, dict] = {}
    try:
        async with stream_client(relay, sub_token) as probe:
            start = probe.welcome["head"]
        async with stream_client(relay, pub_token) as client:
            for n in range(1500):
                await client.send({"type": "publish", "id": f"pipe-{n}",
                                   "alert": seizure_alert(distribution={"countries": ["TG"]})})
            first = await client.recv_until(lambda f: f["type"] == "ack")
            relay.signal(signal.SIGTERM)
            replies[int(first["id"].split("-")[1])] = first
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    frame = await client.recv()
                    replies[int(frame["id"].split("-")[1])] = frame
        assert 1001 == closed.value.rcvd.code
        assert 0 == await relay.wait_exit()
        await relay.start()
        stored = [e["seq"] for e in await replay_since(relay, sub_token, start)]
    finally:
        await relay.stop()
    assert list(range(len(replies))) == sorted(replies), "a publish read before the stop got no answer"
    assert {"ack", "error"} >= {r["type"] for r in replies.values()}
    assert all(r["code"] == "unavailable" for r in replies.values() if r["type"] == "error")
    assert sorted(r["seq"] for r in replies.values() if r["type"] == "ack") == stored


async def test_sigterm_closes_connections_with_1001_and_exits_0(dsn, workdir):
    """SIGTERM: connections are closed with 1001 (going away) and the exit status is 0."""
    relay = RelayProcess(dsn, workdir / "sigterm", config_text=FAST_LIMITS)
    await relay.start()
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with stream_client(relay, token) as client:
        await client.subscribe()
        relay.signal(signal.SIGTERM)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv()
    assert 1001 == closed.value.rcvd.code
    assert 0 == await relay.wait_exit()


async def test_the_relay_survives_a_database_restart(relay, dsn, pg_server):
    """Database down: publishes get unavailable and the relay stays up; database back:
    the relay recovers by itself, and subscribers receive what is published after."""
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    alert = seizure_alert(distribution={"countries": ["TG"]})
    async with stream_client(relay, sub_token) as subscriber, stream_client(relay, pub_token) as publisher:
        await subscriber.subscribe()
        before = await publisher.publish(alert)
        await asyncio.to_thread(pg_server.force_stop)
        try:
            during = await publisher.publish(alert, ident="during-outage")
        finally:
            await asyncio.to_thread(pg_server.start, owner=True)
        after = None
        for _ in range(100):
            after = await publisher.publish(alert, ident="during-outage")
            if after["type"] == "ack":
                break
            await asyncio.sleep(0.1)
        events = await subscriber.events(2, timeout=20)
    resumed = await replay_since(relay, sub_token, before["seq"] - 1)
    assert "unavailable" == during["code"]
    assert "ack" == after["type"] and after["duplicate"] is False
    assert [before["seq"], after["seq"]] == [e["seq"] for e in events]
    assert [before["seq"], after["seq"]] == [e["seq"] for e in resumed]


async def test_idempotency_holds_across_a_relay_restart(dsn, workdir):
    """An id used before a restart is still a duplicate after it: same alert_id and seq."""
    relay = RelayProcess(dsn, workdir / "restart-idem", config_text=FAST_LIMITS)
    await relay.start()
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    try:
        async with stream_client(relay, token) as client:
            first = await client.publish(seizure_alert(), ident="before-restart")
        assert 0 == await relay.stop()
        await relay.start()
        async with stream_client(relay, token, encoding="relay.v1.msgpack") as client:
            again = await client.publish(seizure_alert(), ident="before-restart")
    finally:
        await relay.stop()
    assert (first["alert_id"], first["seq"], True) == (again["alert_id"], again["seq"], again["duplicate"])
