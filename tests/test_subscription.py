"""relay.core.subscription with the real hub, no socket and no database: replay then live,
through random interleavings of commits, out-of-order offers, dispatches and page reads.

A subscriber that subscribes with ``since`` at any moment receives every event after
``since`` that it may see and that passes its filter, exactly once, in seq order, with
``caught_up`` between the replayed ones and the live ones (protocol.md "Ordering and
delivery")."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.contract.errors import BadFrame
from relay.contract.filters import Filter
from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding, encode_body
from relay.core.events import Event
from relay.core.hub import Hub
from relay.core.subscription import (
    GoLive,
    ReadRange,
    Subscription,
    WaitForHub,
    check_since,
    replay,
)

VIEWER = Viewer("TG-LFW-CAAT", "TG", frozenset({"subscribe"}))
REGIONS: dict[str, frozenset[str]] = {}


def event(seq: int, *, visible: bool = True, cash: bool = False) -> Event:
    """An alert to TG (visible) or FR (not), about cocaine or cash."""
    facts = AlertFacts(kind="seizure", msg_type="alert", status="actual", priority="urgent",
                       tlp="green",
                       distribution=Distribution(countries=frozenset({"TG" if visible else "FR"})),
                       airports=frozenset({"LFW"}), countries=frozenset({"TG"}),
                       commodities=frozenset({"cash" if cash else "cocaine"}), references=None)
    body_json, body_msgpack = encode_body({"alert_id": f"a{seq}", "n": seq})
    return Event(seq, "alert", f"a{seq}", "ML-BKO-JAITF", "ML-BKO-JAITF", facts, body_json,
                 body_msgpack)


class RecordingSubscriber:
    """A hub subscriber that notes the seq of each frame written to it."""

    encoding = Encoding.JSON

    def __init__(self, subscription: Subscription, seq_of: dict[bytes, int]) -> None:
        self.subscription = subscription
        self.seq_of = seq_of
        self.received: list[Any] = []

    @property
    def viewer(self) -> Viewer:
        return self.subscription.viewer

    @property
    def filter(self) -> Filter:
        return self.subscription.filter

    @property
    def last_seq(self) -> int:
        return self.subscription.last_seq

    @last_seq.setter
    def last_seq(self, seq: int) -> None:
        self.subscription.last_seq = seq

    def buffered_bytes(self) -> int:
        return 0

    def write(self, wire_frame: bytes) -> None:
        self.received.append(self.seq_of[wire_frame])

    def overflow(self) -> None:
        raise AssertionError("no subscriber of this test overflows")


class Scenario:
    """A log of committed events, a hub over it, and a subscriber that joins midway."""

    def __init__(self, rng: random.Random, *, page_size: int) -> None:
        self.rng = rng
        self.page_size = page_size
        self.log: list[Event] = []
        self.seq_of: dict[bytes, int] = {}
        self.hub = Hub(regions=REGIONS, fetch_range=self.fetch, send_buffer_bytes=1 << 20)
        self.flt = Filter()

    async def pause(self) -> None:
        for _ in range(self.rng.randrange(4)):
            await asyncio.sleep(0)

    async def fetch(self, after: int, upto: int) -> list[Event]:
        await self.pause()
        return [e for e in self.log if after < e.seq <= upto]

    async def read_page(self, step: ReadRange) -> tuple[list[Event], bool] | None:
        """What the store's replay query returns: the wanted events of the range, cut at
        ``page_size`` (and, at random, earlier, as a byte budget would)."""
        await self.pause()
        if self.rng.random() < 0.1:
            return None  # the store failed once: the page is read again
        # A sloppy store may also hand back the event at the cursor: it must not come twice.
        low = step.after - 1 if self.rng.random() < 0.2 else step.after
        matching = [e for e in self.log if low < e.seq <= step.upto and self.wanted(e)]
        limit = self.page_size if self.rng.random() < 0.7 else self.rng.randint(1, self.page_size)
        page = matching[:limit]
        return page, len(page) == len(matching)

    def wanted(self, e: Event) -> bool:
        return e.facts is not None and e.facts.distribution.countries == {"TG"} and (
            self.flt.commodities is None or not self.flt.commodities.isdisjoint(e.facts.commodities))

    def commit(self, count: int) -> list[Event]:
        start = len(self.log)
        new = [event(start + i + 1, visible=self.rng.random() < 0.7, cash=self.rng.random() < 0.3)
               for i in range(count)]
        self.log += new
        for e in new:
            self.seq_of[e.wire(Encoding.JSON)] = e.seq
        return new

    def publish(self, new: list[Event]) -> None:
        """The local writer offers its events, or another process's NOTIFY announces them."""
        if self.rng.random() < 0.5:
            self.hub.offer(new)
        else:
            self.hub.announce(new[-1].seq)


async def run_scenario(seed: int, batches: list[int], join_after: int, since_back: int,
                       page_size: int, cash_only: bool) -> tuple[list[Any], list[int]]:
    rng = random.Random(seed)
    scenario = Scenario(rng, page_size=page_size)
    flt = Filter(commodities=frozenset({"cash"})) if cash_only else Filter()
    scenario.flt = flt
    replaying: asyncio.Task[None] | None = None
    subscriber: RecordingSubscriber | None = None
    since = 0
    held: list[list[Event]] = []
    for index, count in enumerate(batches):
        new = scenario.commit(count)
        # Offers from two processes may arrive out of order: hold some back for a while.
        held.append(new)
        if rng.random() < 0.6:
            for batch in rng.sample(held, len(held)):
                scenario.publish(batch)
            held.clear()
        if index == join_after:
            since = max(0, scenario.hub.head - since_back)
            subscription = Subscription(viewer=VIEWER, filter=flt, regions=REGIONS, since=since,
                                        hub_head=scenario.hub.head)
            subscriber = RecordingSubscriber(subscription, scenario.seq_of)

            async def deliver(events: list[Event], sub: RecordingSubscriber = subscriber) -> bool:
                sub.received += [e.seq for e in events]
                await scenario.pause()
                return True

            def go_live(seq: int, sub: RecordingSubscriber = subscriber) -> None:
                sub.received.append(("caught_up", seq))
                scenario.hub.attach(sub)

            replaying = asyncio.create_task(replay(
                subscription, scenario.hub, read_page=scenario.read_page, deliver=deliver,
                go_live=go_live, retry_delay=0, max_range=rng.choice([None, 3, 10]),
                slots=asyncio.Semaphore(1)))
        await scenario.pause()
    for batch in held:
        scenario.publish(batch)
    assert replaying is not None and subscriber is not None
    async with asyncio.timeout(5):
        await replaying
        while scenario.hub.head < len(scenario.log):
            await scenario.hub.wait_head_change(0.01)
    await scenario.hub.stop()
    expected = [e.seq for e in scenario.log if e.seq > since and e.facts is not None
                and e.facts.distribution.countries == {"TG"}
                and (not cash_only or "cash" in e.facts.commodities)]
    return subscriber.received, expected


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), batches=st.lists(st.integers(1, 7), min_size=2, max_size=12),
       join=st.integers(0, 11), since_back=st.integers(0, 30), page_size=st.integers(1, 6),
       cash_only=st.booleans())
def test_replay_then_live_delivers_every_wanted_event_once_in_order(
        seed, batches, join, since_back, page_size, cash_only):
    """Whatever the interleaving: each wanted event after since exactly once, in order,
    and caught_up once, between the replay and the live events, at the last replayed seq
    or later."""
    received, expected = asyncio.run(run_scenario(seed, batches, min(join, len(batches) - 1),
                                                  since_back, page_size, cash_only))
    marks = [i for i, item in enumerate(received) if isinstance(item, tuple)]
    assert 1 == len(marks), received
    seqs = [item for item in received if not isinstance(item, tuple)]
    assert expected == seqs
    caught_up = received[marks[0]][1]
    assert all(seq <= caught_up for seq in received[:marks[0]])
    assert all(seq > caught_up for seq in received[marks[0] + 1:])


def test_a_subscription_goes_live_only_when_its_cursor_equals_the_hubs_head():
    """Behind the hub: read the range in between; ahead of it: wait; equal: go live."""
    subscription = Subscription(viewer=VIEWER, filter=Filter(), regions=REGIONS, since=5,
                                hub_head=9)
    assert ReadRange(5, 9) == subscription.next_step(9)
    assert [7] == [e.seq for e in subscription.replayed([event(7)], ReadRange(5, 9),
                                                        complete=True)]
    assert WaitForHub() == subscription.next_step(8)
    assert GoLive(9) == subscription.next_step(9)
    assert (True, 9) == (subscription.live, subscription.last_seq)


def test_a_page_cut_by_its_limit_moves_the_cursor_to_its_last_event_only():
    """Two events read of a range of five, the page full: the rest is read next."""
    subscription = Subscription(viewer=VIEWER, filter=Filter(), regions=REGIONS, since=0,
                                hub_head=5)
    sent = subscription.replayed([event(1), event(2, visible=False)], ReadRange(0, 5),
                                 complete=False)
    assert [1] == [e.seq for e in sent]
    assert ReadRange(2, 5) == subscription.next_step(5)


def test_without_since_a_subscription_is_live_from_the_hubs_head():
    """Only events committed after subscribed: live at once, last_seq at the head."""
    subscription = Subscription(viewer=VIEWER, filter=Filter(), regions=REGIONS, since=None,
                                hub_head=42)
    assert (True, 42) == (subscription.live, subscription.last_seq)
    with pytest.raises(RuntimeError):
        subscription.next_step(42)


@pytest.mark.parametrize(("since", "hub", "committed", "refused"), [
    (10, 10, 10, False), (11, 10, 11, False), (11, 11, 10, False), (12, 10, 11, True),
    (12, 11, 10, True), (0, 0, 0, False),
])
def test_since_beyond_everything_committed_is_refused(since, hub, committed, refused):
    """A cursor from another relay (or a reset database) is bad_frame naming the newest
    head, not a wait forever."""
    if refused:
        with pytest.raises(BadFrame) as error:
            check_since(since, hub, committed)
        assert "since is beyond the newest event of this relay" == error.value.message
        assert [("since", "beyond_head", {"head": 11})] == [
            (p.field, p.code, dict(p.params)) for p in error.value.details]
    else:
        check_since(since, hub, committed)


def test_a_live_subscription_takes_no_more_replay_steps():
    subscription = Subscription(viewer=VIEWER, filter=Filter(), regions=REGIONS, since=None,
                                hub_head=3)
    with pytest.raises(RuntimeError, match="live already"):
        subscription.replayed([], ReadRange(0, 3), complete=True)
