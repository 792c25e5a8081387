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


async def test_each_alert_is_recorded_once_with_all_its_recipients_and_counted():
    """record_delivery(seq, units) once per alert, receipts not recorded; on_delivered
    counts the frames written."""
    recorded: list[tuple[int, set[str]]] = []
    counted: list[int] = []

    async def fetch(after: int, upto: int) -> list[Event]:
        return []

    hub = Hub(regions={}, fetch_range=fetch, send_buffer_bytes=1000,
              on_delivered=counted.append,
              record_delivery=lambda seq, units: recorded.append((seq, set(units))))
    togo, brazil, togo_again = Recorder("TG"), Recorder("BR"), Recorder("TG")
    togo_again.viewer = Viewer("TG-OTHER", "TG", frozenset({"subscribe"}))
    for subscriber in (togo, brazil, togo_again):
        hub.attach(subscriber)
    receipt = Event(2, "receipt", "id-1", "TG-UNIT", "TG-UNIT", None, b"{}", b"\x80")
    hub.offer([alert(1), receipt, alert(3, countries=frozenset({"BR"}))])
    assert [(1, {"TG-UNIT", "TG-OTHER"}), (3, {"BR-UNIT"})] == recorded
    assert [2, 1, 1] == counted


async def test_a_subscriber_left_out_of_one_event_does_not_stop_its_dispatch_to_the_others():
    """Skipped (seen already, not visible, filtered out, over its bound): the next
    subscribers still receive the event."""
    hub = make_hub({})
    seen = Recorder()
    hub.attach(seen)
    seen.last_seq = 5
    hidden, filtered, full = Recorder("BR"), Recorder(filter=Filter(kinds=frozenset({"passenger"}))), Recorder(buffered=1001)
    last = Recorder()
    for subscriber in (hidden, filtered, full, last):
        hub.attach(subscriber)
    hub.offer([alert(1)])
    assert ([], [], [], True, [1]) == (seen.seqs, hidden.seqs, filtered.seqs, full.overflowed,
                                       last.seqs)


async def test_a_buffer_exactly_at_its_bound_still_receives():
    """Over the bound (not at it) is a slow consumer."""
    hub = make_hub({})
    at_bound = Recorder(buffered=1000)
    hub.attach(at_bound)
    hub.offer([alert(1)])
    assert ([1], False) == (at_bound.seqs, at_bound.overflowed)


async def test_visibility_through_a_region_of_the_hubs_configuration():
    """An alert to a region reaches a unit of a member country only."""
    async def fetch(after: int, upto: int) -> list[Event]:
        return []

    hub = Hub(regions={"G5-SAHEL": frozenset({"ML", "NE"})}, fetch_range=fetch,
              send_buffer_bytes=1000)
    niger, togo = Recorder("NE"), Recorder("TG")
    hub.attach(niger)
    hub.attach(togo)
    to_sahel = alert(1, countries=frozenset())
    to_sahel.facts = AlertFacts(**{**{f: getattr(to_sahel.facts, f) for f in (
        "kind", "msg_type", "status", "priority", "tlp", "airports", "countries", "commodities",
        "references")}, "distribution": Distribution(regions=frozenset({"G5-SAHEL"}))})
    hub.offer([to_sahel])
    assert ([1], []) == (niger.seqs, togo.seqs)


async def test_a_failing_read_of_a_gap_is_retried_and_nothing_is_lost_or_reordered():
    """The store fails twice while the hub fills a gap: it retries with backoff, then
    dispatches 1-3 in order."""
    store = {s: alert(s) for s in range(1, 4)}
    failures = [OSError("down"), OSError("still down")]

    async def fetch(after: int, upto: int) -> list[Event]:
        if failures:
            raise failures.pop(0)
        return [store[s] for s in range(after + 1, upto + 1)]

    hub = Hub(regions={}, fetch_range=fetch, send_buffer_bytes=1000)
    subscriber = Recorder()
    hub.attach(subscriber)
    hub.offer([store[3]])
    async with asyncio.timeout(5):
        while hub.head < 3:
            await hub.wait_head_change(0.05)
    await hub.stop()
    assert ([1, 2, 3], []) == (subscriber.seqs, failures)


async def test_an_announce_at_or_below_what_is_wanted_reads_nothing():
    """A head already announced (or older) starts no read."""
    reads: list[tuple[int, int]] = []

    async def fetch(after: int, upto: int) -> list[Event]:
        reads.append((after, upto))
        return [alert(s) for s in range(after + 1, upto + 1)]

    hub = Hub(regions={}, fetch_range=fetch, send_buffer_bytes=1000)
    hub.start_at(4)
    hub.announce(4)
    hub.announce(2)
    await asyncio.sleep(0.05)
    hub.announce(5)
    async with asyncio.timeout(5):
        while hub.head < 5:
            await hub.wait_head_change(0.05)
    await hub.stop()
    assert [(4, 5)] == reads


async def test_events_of_a_commit_in_flight_here_are_not_read_back_from_the_store():
    """Their NOTIFY may come before the writer offers them: the hub waits for the offer
    instead of reading (and opening) them again; another process's events are still read."""
    store = {s: alert(s) for s in range(1, 4)}
    reads: list[tuple[int, int]] = []

    async def fetch(after: int, upto: int) -> list[Event]:
        reads.append((after, upto))
        return [store[s] for s in range(after + 1, upto + 1) if s in store]

    hub = Hub(regions={}, fetch_range=fetch, send_buffer_bytes=1000)
    subscriber = Recorder()
    hub.attach(subscriber)
    hub.commit_started()
    hub.announce(2)  # the NOTIFY of our own commit of 1-2
    await asyncio.sleep(0.05)
    assert reads == []
    hub.offer([store[1], store[2]])
    hub.commit_finished()
    await asyncio.sleep(0.05)
    assert (reads, subscriber.seqs) == ([], [1, 2])
    hub.announce(3)  # committed by another process
    await asyncio.sleep(0.05)
    assert (reads, subscriber.seqs) == ([(2, 3)], [1, 2, 3])
