"""The clients under real faults: the relay killed with SIGKILL again and again while
three terminals post 500 alerts, and a link that drops at random. Every alert posted is
acknowledged, and the feed receives each exactly once, in seq order and, per terminal, in
the order it was posted."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from clients.backoff import Backoff
from clients.client import RelayClient, token_digest
from clients.outbox import Outbox
from clients.post_cli import flush_outbox
from tests.alert_examples import seizure_alert
from tests.conftest import running_relay
from tests.proxy import CuttingProxy
from tests.support import RelayProcess, create_unit, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEADLINE = 120.0  # seconds for a whole scenario; each normally takes a few


def fast_backoff() -> Backoff:
    return Backoff(initial=0.05, maximum=0.5)


def client_for(url: str, token: str) -> RelayClient:
    return RelayClient(url, token, backoff=fast_backoff(), open_timeout=5.0, reply_timeout=5.0)


def numbered_alert(terminal: int, number: int) -> dict[str, Any]:
    return seizure_alert(summary=f"terminal {terminal} alert {number}",
                         ext={"terminal": terminal, "number": number})


async def post_all(url: str, token: str, outbox: Outbox) -> None:
    """A terminal that keeps flushing its outbox until every entry is acknowledged."""
    async with client_for(url, token) as client:
        flushed = await flush_outbox(outbox, client, wait=None)
    assert 0 == flushed.pending


async def collect(url: str, token: str, expected: int, since: int) -> list[dict[str, Any]]:
    """The alert events of a feed, until ``expected`` of them have arrived."""
    events: list[dict[str, Any]] = []
    async with client_for(url, token) as client:
        async for frame in client.feed(since=since):
            if frame["type"] == "alert":
                events.append(frame)
                if len(events) == expected:
                    return events
    return events


def check_exactly_once_in_order(events: list[dict[str, Any]], outboxes: list[Outbox]) -> None:
    acknowledged = {entry.alert_id for outbox in outboxes for entry in outbox.entries()
                    if entry.state == "acknowledged"}
    assert all(not outbox.pending() for outbox in outboxes)
    received = [event["alert"]["alert_id"] for event in events]
    assert sorted(acknowledged) == sorted(received), "each acknowledged alert exactly once"
    seqs = [event["seq"] for event in events]
    assert sorted(set(seqs)) == seqs, "in strictly increasing seq order"
    for terminal in range(len(outboxes)):
        numbers = [event["alert"]["ext"]["number"] for event in events
                   if event["alert"]["ext"]["terminal"] == terminal]
        assert list(range(len(numbers))) == numbers, f"terminal {terminal} in posting order"


@pytest.fixture(scope="module")
async def units(dsn: str) -> dict[str, Any]:
    return {
        "terminals": [await create_unit(dsn, unique_unit("ML"), country="ML") for _ in range(3)],
        "feed": await create_unit(dsn, unique_unit("TG"), country="TG", roles="subscribe"),
    }


def outboxes_with(tmp_path: Path, counts: list[int], tokens: list[str]) -> list[Outbox]:
    """One outbox per terminal, filled under that terminal's token."""
    outboxes = []
    for terminal, (count, token) in enumerate(zip(counts, tokens, strict=False)):
        outbox = Outbox(tmp_path / f"terminal-{terminal}.sqlite3")
        for number in range(count):
            outbox.add(numbered_alert(terminal, number), owner=token_digest(token))
        outboxes.append(outbox)
    return outboxes


async def test_sigkill_again_and_again_during_500_posts_from_3_terminals(dsn, workdir, units, tmp_path):
    """Killed with SIGKILL after every 80 acknowledged alerts and restarted, the relay
    still gets all 500 alerts once each, and a feed on the same relay receives each
    exactly once, in order."""
    async with running_relay(dsn, workdir) as relay:
        head = await current_head(relay, units["feed"][1])
        outboxes = outboxes_with(tmp_path, [167, 167, 166],
                                 [token for _, token in units["terminals"]])
        feed = asyncio.create_task(collect(relay.url, units["feed"][1], 500, head))
        posting = asyncio.gather(*(post_all(relay.url, token, outbox)
                                   for (_, token), outbox in zip(units["terminals"], outboxes, strict=True)))
        kills = asyncio.create_task(kill_repeatedly(relay, outboxes, every=80, until=posting))
        async with asyncio.timeout(DEADLINE):
            await posting
            events = await feed
        killed = await kills
    assert killed >= 5, "the relay was killed again and again while the terminals were posting"
    check_exactly_once_in_order(events, outboxes)


async def kill_repeatedly(relay: RelayProcess, outboxes: list[Outbox], *, every: int,
                          until: asyncio.Future[Any]) -> int:
    """SIGKILL the relay and start it again each time ``every`` more alerts are acked."""
    killed = 0
    while not until.done():
        acknowledged = sum(len(outbox.entries("acknowledged")) for outbox in outboxes)
        if acknowledged >= every * (killed + 1):
            await relay.kill()
            killed += 1
            await relay.start()
        await asyncio.sleep(0.01)
    return killed


async def current_head(relay: RelayProcess, token: str) -> int:
    async with client_for(relay.url, token) as client:
        connection = await client.connect()
        return int(connection.welcome["head"])


async def test_a_link_that_drops_at_random_loses_nothing(relay, units, tmp_path):
    """Through a proxy that resets each connection after 2 to 30 kB, often mid-frame, two
    terminals post 200 alerts and a feed receives each exactly once, in order."""
    proxy = CuttingProxy(relay.stream_port, seed=7)
    await proxy.start()
    try:
        url = f"ws://127.0.0.1:{proxy.port}/v1/stream"
        head = await current_head(relay, units["feed"][1])
        outboxes = outboxes_with(tmp_path, [100, 100], [token for _, token in units["terminals"]])
        feed = asyncio.create_task(collect(url, units["feed"][1], 200, head))
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*(post_all(url, token, outbox)
                                   for (_, token), outbox in zip(units["terminals"], outboxes, strict=False)))
            events = await feed
    finally:
        with contextlib.suppress(Exception):
            await proxy.stop()
    assert proxy.cuts >= 10, "the links were cut again and again while alerts were flowing"
    check_exactly_once_in_order(events, outboxes)
