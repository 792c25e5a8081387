"""The hub without sockets: ordering, gap filling, visibility per subscriber, overflow."""

from __future__ import annotations

import asyncio

import pytest

from relay.contract.filters import Filter
from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer
from relay.contract.wire import Encoding
from relay.core.events import Event
from relay.core.hub import Hub

pytestmark = pytest.mark.asyncio(loop_scope="session")


def alert(seq: int, *, countries: frozenset[str] = frozenset({"TG"}), kind: str = "seizure") -> Event:
    facts = AlertFacts(kind=kind, msg_type="alert", status="actual", priority="urgent", tlp="green",
                       distribution=Distribution(countries=countries), airports=frozenset({"LFW"}),
                       countries=frozenset({"TG"}), commodities=frozenset({"cocaine"}), references=None)
    return Event(seq, "alert", f"id-{seq}", "ML-BKO-JAITF", "ML-BKO-JAITF", facts, b"{}", b"\x80")


class Recorder:
    """A subscriber that records the seqs written to it."""

    def __init__(self, country: str = "TG", buffered: int = 0, filter: Filter | None = None) -> None:
        self.viewer = Viewer(f"{country}-UNIT", country, frozenset({"subscribe"}))
        self.filter = filter or Filter()
        self.encoding = Encoding.JSON
        self.last_seq = 0
        self.seqs: list[int] = []
        self.buffered = buffered
        self.overflowed = False

    def buffered_bytes(self) -> int:
        return self.buffered

    def write(self, frame: bytes) -> None:
        self.seqs.append(int(frame.split(b'"seq":')[1].split(b",")[0]))

    def overflow(self) -> None:
        self.overflowed = True


def make_hub(store: dict[int, Event]) -> Hub:
    async def fetch(after: int, upto: int) -> list[Event]:
        return [store[s] for s in range(after + 1, upto + 1) if s in store]
    return Hub(regions={}, fetch_range=fetch, send_buffer_bytes=1000)


async def test_events_are_dispatched_in_seq_order_and_gaps_are_read_from_the_store():
    """A local commit of seq 3-4 arrives before 1-2 (committed elsewhere): 1-4 in order."""
    store = {s: alert(s) for s in range(1, 5)}
    hub = make_hub(store)
    subscriber = Recorder()
    hub.attach(subscriber)
    hub.offer([store[3], store[4]])
    assert [] == subscriber.seqs
    for _ in range(50):
        await asyncio.sleep(0.01)
        if subscriber.seqs:
            break
    assert [1, 2, 3, 4] == subscriber.seqs
    assert 4 == hub.head


async def test_an_announced_head_is_read_and_dispatched_once():
    """A notification from another process brings the events; a repeated one adds nothing."""
    store = {s: alert(s) for s in range(1, 4)}
    hub = make_hub(store)
    subscriber = Recorder()
    hub.attach(subscriber)
    hub.announce(3)
    hub.announce(3)
    for _ in range(50):
        await asyncio.sleep(0.01)
        if len(subscriber.seqs) == 3:
            break
    hub.offer([store[2]])
    assert [1, 2, 3] == subscriber.seqs


async def test_each_subscriber_gets_only_what_it_may_see_and_wants():
    """Visibility by country and the filter's kinds are applied per subscriber."""
    hub = make_hub({})
    in_togo, in_brazil = Recorder("TG"), Recorder("BR")
    passengers_only = Recorder("TG", filter=Filter(kinds=frozenset({"passenger"})))
    for subscriber in (in_togo, in_brazil, passengers_only):
        hub.attach(subscriber)
    hub.offer([alert(1), alert(2, countries=frozenset({"BR"}))])
    assert ([1], [2], []) == (in_togo.seqs, in_brazil.seqs, passengers_only.seqs)


async def test_a_subscriber_over_its_buffer_bound_is_detached_not_waited_for():
    """Overflow detaches the slow subscriber and the others still receive the event."""
    hub = make_hub({})
    slow, fast = Recorder(buffered=5000), Recorder()
    hub.attach(slow)
    hub.attach(fast)
    hub.offer([alert(1), alert(2)])
    assert (True, [], [1, 2]) == (slow.overflowed, slow.seqs, fast.seqs)
    assert 1 == hub.subscriber_count


async def test_a_subscriber_attached_at_head_never_receives_an_older_event():
    """attach() starts after the hub's head; a late duplicate of an old seq is ignored."""
    hub = make_hub({})
    hub.offer([alert(1)])
    late = Recorder()
    hub.attach(late)
    hub.offer([alert(1), alert(2)])
    assert [2] == late.seqs


async def test_attaching_never_replays_what_the_hub_dispatched_before():
    """A subscriber attached with an older last_seq gets only what follows the hub's head."""
    store = {s: alert(s) for s in range(1, 5)}
    hub = make_hub(store)
    hub.offer([store[1], store[2]])
    subscriber = Recorder()
    hub.attach(subscriber)
    attached_at = subscriber.last_seq
    hub.offer([store[3], store[4]])
    assert (2, [3, 4], 4) == (attached_at, subscriber.seqs, subscriber.last_seq)


async def test_an_event_at_or_below_a_subscribers_last_seq_is_not_written_to_it():
    """A subscriber that has seen seq 3 (through another path) is not sent 2 or 3 again."""
    store = {s: alert(s) for s in range(1, 5)}
    hub = make_hub(store)
    hub.offer([store[1]])
    subscriber = Recorder()
    hub.attach(subscriber)
    subscriber.last_seq = 3
    hub.offer([store[2], store[3], store[4]])
    assert [4] == subscriber.seqs
