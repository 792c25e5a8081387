"""Several relay processes on one database; slow consumers; revocation on open connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys

import pytest
import websockets

from tests.alert_examples import seizure_alert
from tests.conftest import REGIONS_CONFIG
from tests.support import ROOT, RelayProcess, create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIG = REGIONS_CONFIG + """
[limits]
publish_per_second = 100000.0
publish_burst = 100000
revocation_check_seconds = 1.0
[stream]
send_buffer_bytes = 262144
"""


@pytest.fixture(scope="module")
async def relays(dsn, workdir):
    first = RelayProcess(dsn, workdir / "a", config_text=CONFIG)
    second = RelayProcess(dsn, workdir / "b", config_text=CONFIG)
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.stop()
        await second.stop()


async def test_five_publishers_on_two_processes_one_complete_ordered_log(relays, dsn):
    """5 concurrent publishers spread over two relays; a subscriber on each relay sees
    every event once, in strictly increasing seq, and both see the same sequence."""
    publishers = [await create_unit(dsn, unique_unit("ML"), country="ML") for _ in range(5)]
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    per_publisher = 100
    total = 5 * per_publisher
    async with stream_client(relays[0], sub_token) as sub_a, stream_client(relays[1], sub_token) as sub_b:
        await sub_a.subscribe()
        await sub_b.subscribe()

        async def publish(index: int) -> list[int]:
            relay = relays[index % 2]
            async with stream_client(relay, publishers[index][1]) as client:
                acks = [await client.publish(seizure_alert(distribution={"countries": ["TG"]}))
                        for _ in range(per_publisher)]
            assert all(a["type"] == "ack" for a in acks)
            return [a["seq"] for a in acks]

        acked = sorted(s for seqs in await asyncio.gather(*(publish(i) for i in range(5))) for s in seqs)
        seen_a = [e["seq"] for e in await sub_a.events(total, timeout=30)]
        seen_b = [e["seq"] for e in await sub_b.events(total, timeout=30)]
    assert acked == seen_a == seen_b
    assert list(range(acked[0], acked[0] + total)) == acked


async def test_a_subscriber_resuming_on_the_other_process_misses_nothing(relays, dsn):
    """Seen on relay A up to N, resumed on relay B with since=N: the rest, exactly once."""
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    alert = seizure_alert(distribution={"countries": ["TG"]})
    async with stream_client(relays[0], sub_token) as on_a, stream_client(relays[0], pub_token) as pub:
        await on_a.subscribe()
        acks = [await pub.publish(alert) for _ in range(20)]
        seen = [e["seq"] for e in await on_a.events(10)]
        # The link drops with 10 events unread (a graceful close would wait out the close
        # timeout: the client has paused reading with more frames queued than it reads).
        on_a.ws.transport.abort()
    async with stream_client(relays[1], pub_token) as pub:
        acks += [await pub.publish(alert) for _ in range(10)]
    async with stream_client(relays[1], sub_token) as on_b:
        await on_b.subscribe(since=seen[-1])
        rest = [e["seq"] for e in await on_b.events(20)]
        await on_b.no_event()
    assert [a["seq"] for a in acks] == seen + rest


async def test_a_slow_consumer_is_closed_with_4408_and_does_not_hold_back_a_fast_one(relays, dsn):
    """A subscriber that stops reading passes its buffer bound and is closed with 4408;
    a fast subscriber on the same relay receives every event."""
    _, pub_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, sub_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    big = seizure_alert(distribution={"countries": ["TG"]}, summary="x" * 2000,
                        ext={"padding": "p" * 3900})
    count = 1500
    async with stream_client(relays[0], sub_token) as fast, stream_client(relays[0], sub_token) as slow:
        await fast.subscribe()
        await slow.subscribe()
        slow.ws.transport.pause_reading()
        reading = asyncio.create_task(fast.events(count, timeout=60))
        async with stream_client(relays[0], pub_token) as pub:
            for i in range(count):
                await pub.send({"type": "publish", "id": f"big-{i}", "alert": big})
            acks = [await pub.recv_until(lambda f: f["type"] == "ack") for _ in range(count)]
        received = [e["seq"] for e in await reading]
        slow.ws.transport.resume_reading()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await slow.recv(timeout=30)
    assert sorted(a["seq"] for a in acks) == received
    assert 4408 == closed.value.rcvd.code


async def test_revoking_a_unit_closes_its_open_connections_within_5_seconds(relays, dsn):
    """relay units revoke (the command line, beside the running relays) closes with 4401."""
    unit_id, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    env = dict(os.environ, RELAY_DATABASE_URL=dsn)
    async with stream_client(relays[0], token) as on_a, stream_client(relays[1], token) as on_b:
        await on_a.subscribe()
        await on_b.subscribe()
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "relay", "units", "revoke", unit_id],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert 0 == result.returncode, result.stderr
        codes = []
        for client in (on_a, on_b):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await client.recv(timeout=5)
            codes.append(closed.value.rcvd.code)
    assert [4401, 4401] == codes
    with pytest.raises(websockets.InvalidStatus):
        async with stream_client(relays[0], token):
            pass


async def test_a_client_that_never_reads_its_replies_is_closed_with_4408(relays, dsn):
    """Error replies count against the send buffer too: unread, they end in 4408."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    noisy = {"type": "publish", "id": "noisy", "alert": {f"field{i}": 1 for i in range(300)}}
    async with stream_client(relays[1], token) as client:
        client.ws.transport.pause_reading()
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(3000):  # ~3000 replies of ~12 KB: far past every buffer
                await client.send(noisy)
        client.ws.transport.resume_reading()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv(timeout=30)
    assert 4408 == closed.value.rcvd.code
