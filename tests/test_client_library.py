"""clients.client and clients.post_cli.flush_outbox under the races a real program meets:
a feed and publishes on one client, a feed stopped before its first event, a second feed
on the same client, a full event queue while a reply is awaited, another process adding
to the outbox during a flush. All against a real relay."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import pytest
from websockets.asyncio.server import serve

import clients.connection
from clients.backoff import Backoff
from clients.client import Ack, GaveUp, RelayClient, receipt_key, token_digest
from clients.cursor import CursorFile
from clients.outbox import Outbox
from clients.post_cli import flush_outbox
from tests.alert_examples import seizure_alert
from tests.support import RelayProcess, create_unit, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

WAIT = 15.0


def library_client(url: str, token: str, **options: Any) -> RelayClient:
    options.setdefault("open_timeout", WAIT)
    options.setdefault("reply_timeout", WAIT)
    return RelayClient(url, token, backoff=Backoff(initial=0.05, maximum=0.5), **options)


@pytest.fixture(scope="module")
async def origin(dsn: str) -> tuple[str, str]:
    return await create_unit(dsn, unique_unit("ML"), country="ML")


async def new_unit(dsn: str, country: str, roles: str = "publish,subscribe") -> tuple[str, str]:
    """A unit alone in its country (in no region), so it sees only what a test sends it."""
    return await create_unit(dsn, unique_unit(country), country=country, roles=roles)


def to_country(country: str, number: int) -> dict[str, Any]:
    return seizure_alert(distribution={"countries": [country]}, summary=f"{country} {number}")


async def publish_all(relay: RelayProcess, token: str, alerts: list[dict[str, Any]]) -> list[Ack]:
    async with library_client(relay.url, token) as client:
        return [await client.publish(alert, key=str(uuid.uuid4())) for alert in alerts]


async def head_of(relay: RelayProcess, token: str) -> int:
    async with library_client(relay.url, token) as client:
        return int((await client.connect()).welcome["head"])


async def test_a_feed_stopped_before_its_first_event_resumes_where_it_subscribed(
        relay, dsn, origin, tmp_path):
    """First run with no saved position, stopped while waiting: an alert published while
    it was stopped is the first event of the next run (docs/clients.md: nothing missed)."""
    _, token = await new_unit(dsn, "GM", roles="subscribe")
    cursor = CursorFile(tmp_path / "feed.cursor")
    async with library_client(relay.url, token) as client:
        events = client.feed(cursor=cursor)

        async def first() -> dict[str, Any]:
            return await anext(events)

        waiting = asyncio.create_task(first())
        for _ in range(int(WAIT / 0.01)):  # until subscribed: the feed starts at its head
            if client.position is not None:
                break
            await asyncio.sleep(0.01)
        assert client.position is not None
        waiting.cancel()  # Ctrl-C
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await events.aclose()
    [missed] = await publish_all(relay, origin[1], [to_country("GM", 0)])
    async with library_client(relay.url, token) as client:
        events = client.feed(cursor=cursor)
        async with contextlib.aclosing(events):
            frame = await asyncio.wait_for(anext(events), WAIT)
    assert (missed.seq, missed.alert_id) == (frame["seq"], frame["alert"]["alert_id"])


async def test_a_second_feed_on_one_client_gets_its_own_replay(relay, dsn, origin):
    """A feed ended (break), then a new feed from an earlier seq on the same client:
    the new one replays from its own since, not the old subscription's live tail."""
    _, token = await new_unit(dsn, "GQ", roles="subscribe")
    head = await head_of(relay, token)
    acks = await publish_all(relay, origin[1], [to_country("GQ", n) for n in range(2)])
    async with library_client(relay.url, token) as client:
        events = client.feed(since=acks[-1].seq, include_caught_up=True)
        async with contextlib.aclosing(events):
            caught_up = await asyncio.wait_for(anext(events), WAIT)
        again = client.feed(since=head)
        async with contextlib.aclosing(again), asyncio.timeout(WAIT):
            replayed = [await anext(again), await anext(again)]
    assert ("caught_up", acks[-1].seq) == (caught_up["type"], caught_up["seq"])
    assert [ack.seq for ack in acks] == [frame["seq"] for frame in replayed]


async def test_a_publish_never_fails_because_of_the_feeds_subscription(relay, dsn, origin):
    """A publish that opens the connection for a starting feed gets its own ack even when
    the relay refuses the feed's subscribe (here its filter); only the feed raises."""
    async with library_client(relay.url, origin[1]) as client:
        events = client.feed(filter={"colour": ["red"]})

        async def first() -> dict[str, Any]:
            return await anext(events)

        publishing = asyncio.create_task(client.publish(to_country("GW", 0), key=str(uuid.uuid4())))
        feeding = asyncio.create_task(first())
        async with asyncio.timeout(WAIT):
            outcomes = await asyncio.gather(publishing, feeding, return_exceptions=True)
        await events.aclose()
    assert isinstance(outcomes[0], Ack), outcomes[0]
    assert isinstance(outcomes[1], clients.connection.Rejected), outcomes[1]
    assert "invalid_filter" == outcomes[1].code


async def test_a_receipt_awaited_inside_the_feed_loop_does_not_wait_behind_a_full_queue(
        relay, dsn, origin, monkeypatch):
    """The library's own example: a receipt for each event, inside the loop, while more
    events than the queue holds are waiting. Each receipt is acked at once, every event
    comes once, in order."""
    monkeypatch.setattr(clients.connection, "EVENT_QUEUE_SIZE", 8)
    _, token = await new_unit(dsn, "GY")
    head = await head_of(relay, token)
    acks = await publish_all(relay, origin[1], [to_country("GY", n) for n in range(40)])
    received: list[int] = []
    slowest = 0.0
    async with library_client(relay.url, token, reply_timeout=WAIT) as client:
        events = client.feed(since=head)
        async with contextlib.aclosing(events), asyncio.timeout(2 * WAIT):
            async for frame in events:
                if frame["type"] != "alert":
                    continue
                received.append(frame["seq"])
                if len(received) <= 3:
                    started = time.monotonic()
                    await client.receipt(frame["alert"]["alert_id"], "received")
                    slowest = max(slowest, time.monotonic() - started)
                if len(received) == len(acks):
                    break
    assert [ack.seq for ack in acks] == received
    assert slowest < 5.0, f"a receipt waited {slowest:.1f} s behind the event queue"


async def test_a_flush_also_sends_what_another_process_queued_meanwhile(relay, origin, tmp_path):
    """relay-post queues an alert while a `--flush` is running on the same outbox: the
    flush sends it too, and does not report it as waiting for an unreachable relay."""
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as flusher, Outbox(path) as poster:
        flusher.add(to_country("GW", 1), owner=token_digest(origin[1]))

        def another_post(_entry: Any) -> None:
            if len(poster.entries()) == 1:
                poster.add(to_country("GW", 2), owner=token_digest(origin[1]))

        async with library_client(relay.url, origin[1]) as client:
            flushed = await flush_outbox(flusher, client, wait=WAIT, on_done=another_post)
        states = [entry.state for entry in flusher.entries()]
    assert (0, ["acknowledged", "acknowledged"]) == (flushed.pending, states)


async def test_give_up_after_bounds_an_attempt_that_hangs():
    """A link that accepts TCP and then says nothing (a black hole): wait_connected with
    give_up_after=0.5 raises GaveUp after about that long, not after open_timeout."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with library_client(f"ws://127.0.0.1:{port}/v1/stream", "relay_" + "x" * 43,
                                  open_timeout=WAIT) as client:
            started = time.monotonic()
            with pytest.raises(GaveUp):
                await client.wait_connected(give_up_after=0.5)
            took = time.monotonic() - started
    finally:
        server.close()
        await server.wait_closed()
    assert took < WAIT / 3, f"gave up after {took:.1f} s, not after about 0.5 s"


async def test_give_up_after_bounds_a_publish_whose_ack_never_comes():
    """A link that lets the welcome through, then loses every frame: publish with
    give_up_after=0.5 raises GaveUp after about that long, not after reply_timeout."""
    async def welcome_then_silence(ws: Any) -> None:
        await ws.send('{"type":"welcome","unit":"ML-X","roles":["publish"],"head":0,'
                      '"protocol":"relay.v1","server_time":"2026-11-23T08:00:00.000Z"}')
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    async with serve(welcome_then_silence, "127.0.0.1", 0,
                     subprotocols=["relay.v1.json"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        async with library_client(f"ws://127.0.0.1:{port}/v1/stream", "relay_" + "x" * 43,
                                  reply_timeout=WAIT) as client:
            started = time.monotonic()
            with pytest.raises(GaveUp):
                await client.publish(to_country("GW", 3), key="never-acked", give_up_after=0.5)
            took = time.monotonic() - started
    assert took < WAIT / 3, f"gave up after {took:.1f} s, not after about 0.5 s"


async def test_a_receipt_key_is_one_per_alert_status_and_note_and_fits_a_frame_id():
    """The same receipt gets the same key; another status or note another; ≤ 64 characters."""
    alert_id = "01a2075c-5693-7605-b6d4-8105684fa456"
    key = receipt_key(alert_id, "not_located", "searched gate 4")
    assert key == receipt_key(alert_id, "not_located", "searched gate 4")
    assert key != receipt_key(alert_id, "not_located", "searched gate 5")
    assert key != receipt_key(alert_id, "in_progress", "searched gate 4")
    assert receipt_key(alert_id, "received", None) == receipt_key(alert_id, "received", "")
    assert len(key) <= 64
