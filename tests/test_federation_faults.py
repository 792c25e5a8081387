"""Federation's guarantees under real faults (federation.md "Guarantees"): every event
committed at its origin reaches every relay it belongs to exactly once and in its origin's
order, whatever fails, and no event reaches a relay it does not belong to.

Three relays (ML, SN, FR), each its own process and database, pull from each other
through cutting proxies that reset their connections mid-frame. Terminals publish a mix
of distributions at each relay and units at the peers send receipts, while each relay
in turn is killed with SIGKILL and restarted and the database server is restarted. All
three databases live in the one test PostgreSQL server (the session's ``pg_server``), so
restarting it takes the database away from the three relays at once. Afterwards each
relay's ``relay_events`` is read and compared with what the test itself sent: the oracle
is the test's own table of distributions, never the relay's audience rule.

``RELAY_TEST_FEDERATION_SCALE`` (default 1) multiplies the alerts and the rounds of faults;
``RELAY_TEST_SEED`` chooses the distributions, the pace and when the faults strike.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import math
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
import websockets

from relay.store.embedded import EmbeddedPostgres
from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.federation import FederatedRelay, Federation, build_federation, read_replay, wait_for
from tests.support import StreamClient, run_relay, stream_client

# RELAY_TEST_*: not RELAY_FEDERATION_*, which the relays (inheriting this environment)
# would read as [federation] keys.
SCALE = max(1, int(os.environ.get("RELAY_TEST_FEDERATION_SCALE", "1")))
SEED = int(os.environ.get("RELAY_TEST_SEED", "20261123"))

ALERTS_PER_RELAY = 60 * SCALE
CATCH_UP_ALERTS = 1500 * SCALE
PEAK_MEMORY_MB = 300
PACE_SECONDS = 0.12  # a terminal's mean gap between alerts: publishing spans the faults

REGIONS = """
[regions]
"G5-SAHEL" = ["BF", "ML", "MR", "NE", "TD"]
"MAGHREB" = ["DZ", "MA", "TN"]
"DAKAR-BAMAKO" = ["ML", "SN"]
"BAMAKO-PARIS" = ["FR", "ML"]
"DAKAR-PARIS" = ["FR", "SN"]
"""
PAIR_REGIONS = {frozenset({"ML", "SN"}): "DAKAR-BAMAKO", frozenset({"ML", "FR"}): "BAMAKO-PARIS",
                frozenset({"FR", "SN"}): "DAKAR-PARIS"}
RELAYS = ("ML", "SN", "FR")
COUNTRIES = {rid: rid for rid in RELAYS}
PUBLISHER = {"ML": "ML-BKO-JAITF", "SN": "SN-DSS-JAITF", "FR": "FR-CDG-OFAST"}
NAMED = {"ML": "ML-BKO-DOUANE", "SN": "SN-DSS-POLICE", "FR": "FR-ORY-DOUANE"}  # named, and answers
WATCHER = ("SN", "SN-DSS-DOUANE")  # a live subscriber, compared with a replay at the end
UNITS = {rid: [PUBLISHER[rid], NAMED[rid]] for rid in RELAYS}
UNITS["SN"].append(WATCHER[1])
RECEIPT_WANTED = "[receipt wanted]"
RETRIABLE = (OSError, TimeoutError, asyncio.IncompleteReadError, websockets.WebSocketException)


# -- the oracle: what the test sent and where it belongs ---------------------------------

@dataclass(frozen=True, order=True)
class Audience:
    """The countries and units of one relay that an alert reaches (sorted)."""

    countries: tuple[str, ...] = ()
    units: tuple[str, ...] = ()


# Each case: the distribution and TLP an origin posts, given one of its peers, and the
# relays it reaches with their audiences. Written out here rather than asked of the relay.
def reaches(case: str, origin: str, peer: str) -> tuple[dict[str, Any], str, dict[str, Audience]]:
    others = [rid for rid in RELAYS if rid != origin]
    if case == "peer-country":
        return {"countries": [peer]}, "amber", {peer: Audience(countries=(peer,))}
    if case == "all":
        return {"all": True}, "green", {rid: Audience(countries=(rid,)) for rid in others}
    if case == "red-unit":
        return {"units": [NAMED[peer], NAMED[origin]]}, "red", {peer: Audience(units=(NAMED[peer],))}
    if case == "amber-unit":
        return {"units": [NAMED[peer]]}, "amber", {peer: Audience(units=(NAMED[peer],))}
    if case == "own-country":
        return {"countries": [origin]}, "green", {}
    if case == "pair-region":
        region = PAIR_REGIONS[frozenset({origin, peer})]
        return {"regions": [region]}, "amber", {peer: Audience(countries=(peer,))}
    if case == "sahel":  # a region of other countries that holds ML
        return {"regions": ["G5-SAHEL"]}, "amber", ({} if origin == "ML" else
                                                      {"ML": Audience(countries=("ML",))})
    if case == "maghreb":  # a region none of the relays is in
        return {"regions": ["MAGHREB"]}, "green", {}
    raise AssertionError(case)


CASES = ("peer-country", "all", "red-unit", "amber-unit", "own-country", "pair-region", "sahel",
         "maghreb")


@dataclass(frozen=True)
class Post:
    ident: str
    alert: dict[str, Any]
    reaches: dict[str, Audience]


def posts_for(origin: str, count: int, chance: random.Random) -> list[Post]:
    """``count`` alerts of ``origin``: cases and peers drawn by ``chance``; some ask for a
    receipt (only those that reach a peer, where a unit can answer)."""
    posts = []
    for n in range(count):
        case = chance.choice(CASES)
        peer = chance.choice([rid for rid in RELAYS if rid != origin])
        distribution, tlp, where = reaches(case, origin, peer)
        wanted = bool(where) and chance.random() < 0.4
        summary = f"{origin} #{n}: {case} via {peer}" + (f" {RECEIPT_WANTED}" if wanted else "")
        posts.append(Post(f"{origin}-{n}", seizure_alert(distribution=distribution, tlp=tlp,
                                                         summary=summary), where))
    return posts


Sent = Mapping[tuple[str, str, str], Mapping[str, Audience | None]]
"""(origin relay, kind, alert_id) -> the relays the event belongs to, besides its origin,
with the audience an alert has there (None for a receipt)."""


@dataclass(frozen=True)
class Stored:
    """One row of a relay's ``relay_events``."""

    seq: int
    kind: str
    alert_id: str
    origin_relay: str | None
    origin_seq: int | None
    audience: Audience | None = None  # a peer's alert: its distribution columns, as stored
    widened: bool = False  # a peer's alert stored with `all` or regions, or a body that differs


def federation_problems(sent: Sent, stored: Mapping[str, Sequence[Stored]]) -> list[str]:
    """Every way the relays' logs differ from the guarantee, given what was sent.

    At each relay: its own events are what was committed there, once each; from each
    peer, exactly the peer's events that belong here, once each, with their seq at the
    peer, in the peer's order, an alert with its audience; nothing from a relay that is
    not its origin (no second hop), nothing that does not belong (no leak).
    """
    problems: list[str] = []
    origins: dict[tuple[str, str], set[str]] = {}  # a receipt per answering relay: several
    for origin, kind, alert_id in sent:
        origins.setdefault((kind, alert_id), set()).add(origin)
    for rid, events in stored.items():
        committed = Counter((kind, alert_id) for origin, kind, alert_id in sent if origin == rid)
        local = Counter((e.kind, e.alert_id) for e in events if e.origin_relay is None)
        if local != committed:
            problems.append(f"{rid}: its own events are not what was committed there:"
                            f" missing {sorted(committed - local)[:5]},"
                            f" unexpected {sorted(local - committed)[:5]}")
        for e in events:
            if e.origin_relay is not None and (e.origin_relay == rid or e.origin_relay not in stored):
                problems.append(f"{rid}: seq {e.seq} names origin relay {e.origin_relay}")
    for rid, events in stored.items():
        for origin, origin_events in stored.items():
            if origin == rid:
                continue
            expected = [(e.seq, e.kind, e.alert_id) for e in origin_events if e.origin_relay is None
                        and rid in sent.get((origin, e.kind, e.alert_id), {})]
            actual = [(e.origin_seq, e.kind, e.alert_id) for e in events if e.origin_relay == origin]
            problems += _stream_problems(f"{rid} from {origin}", expected, actual, origin, origins)
            for e in events:
                want = sent.get((origin, e.kind, e.alert_id), {})
                if e.origin_relay == origin and e.kind == "alert" and rid in want and (
                        e.widened or e.audience != want[rid]):
                    problems.append(f"{rid}: alert {e.alert_id} of {origin} has the audience"
                                    f" {e.audience} (widened: {e.widened}), not {want[rid]}")
    return problems


def _stream_problems(where: str, expected: list[tuple[Any, ...]], actual: list[tuple[Any, ...]],
                     origin: str, origins: Mapping[tuple[str, str], set[str]]) -> list[str]:
    problems = []
    twice = sorted(item for item, count in Counter(actual).items() if count > 1)
    if twice:
        problems.append(f"{where}: received twice: {twice[:5]}")
    missing = sorted(set(expected) - set(actual))
    if missing:
        problems.append(f"{where}: missing (a gap): {missing[:5]} of {len(expected)}")
    for item in sorted(set(actual) - set(expected)):
        _, kind, alert_id = item
        first = origins.get((kind, alert_id), set())
        if first and origin not in first:
            problems.append(f"{where}: {item} originated on {sorted(first)}: a second hop")
        elif any(e[1:] == (kind, alert_id) for e in expected):
            problems.append(f"{where}: {item} carries another seq than its seq at {origin}")
        else:
            problems.append(f"{where}: {item} does not belong here (a leak)")
    seqs = [item[0] for item in actual]
    inversions = [(a, b) for a, b in itertools.pairwise(seqs) if b < a]
    if inversions:
        problems.append(f"{where}: out of origin order: origin seq {inversions[0][1]}"
                        f" after {inversions[0][0]}")
    if not problems and expected != actual:
        problems.append(f"{where}: not the origin's events in its order")
    return problems


async def stored_events(dsn: str) -> list[Stored]:
    """A relay's event log, in its seq order, with the audience of its peers' alerts."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT seq, kind, alert_id::text AS alert_id, origin_relay, origin_seq, dist_all,"
            " dist_countries, dist_units, dist_regions, body_json FROM relay_events ORDER BY seq")
    finally:
        await conn.close()
    events = []
    for r in rows:
        event = Stored(r["seq"], r["kind"], r["alert_id"], r["origin_relay"], r["origin_seq"])
        if r["origin_relay"] is not None and r["kind"] == "alert":
            audience = Audience(tuple(sorted(r["dist_countries"] or ())), tuple(sorted(r["dist_units"] or ())))
            body = orjson.loads(r["body_json"])
            told = Audience(tuple(body["audience"]["countries"]), tuple(body["audience"]["units"]))
            event = replace(event, audience=audience,
                            widened=bool(r["dist_all"]) or bool(r["dist_regions"]) or told != audience
                            or body.get("origin_relay") != r["origin_relay"]
                            or body.get("origin_seq") != r["origin_seq"])
        events.append(event)
    return events


# -- clients that survive the faults --------------------------------------------------

@dataclass
class Traffic:
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # frame id -> ack
    receipts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (relay, alert) -> ack
    retries: int = 0  # refused (unavailable) or cut off, and sent again
    why: Counter[str] = field(default_factory=Counter)  # what the retries were for
    duplicates: int = 0  # acks of a frame committed before, its first ack lost


async def publish_until_acked(relay: FederatedRelay, unit: str, posts: list[Post], traffic: Traffic,
                              pace: random.Random, mean_interval: float) -> None:
    """A terminal: publishes ``posts`` in order, each resent with the same frame id until
    acknowledged (unavailable while the database is down, cut off when the relay dies),
    at a random pace (exponential gaps)."""
    position = 0
    while position < len(posts):
        try:
            async with stream_client(relay.process, relay.units[unit]) as client:
                while position < len(posts):
                    post = posts[position]
                    reply = await client.publish(post.alert, ident=post.ident)
                    if reply["type"] == "ack":
                        traffic.acked[post.ident] = reply
                        traffic.duplicates += reply["duplicate"]
                        position += 1
                        await asyncio.sleep(pace.expovariate(1 / mean_interval))
                    else:
                        assert reply["code"] in ("unavailable", "rate_limited"), reply
                        traffic.retries += 1
                        traffic.why[f"{relay.relay_id} publish {reply['code']}"] += 1
                        await asyncio.sleep(0.05)
        except RETRIABLE as exc:
            traffic.retries += 1
            traffic.why[f"{relay.relay_id} publish {type(exc).__name__}"] += 1
            await asyncio.sleep(0.1)


class _Again(Exception):
    """Resume the stream from the last event handled."""


async def _resuming(relay: FederatedRelay, unit: str,
                    handle: Callable[[StreamClient, dict[str, Any]], Awaitable[None]],
                    retried: Callable[[BaseException], None] = lambda exc: None) -> None:
    """A unit following its stream, resuming with ``since`` after every cut, giving each
    event to ``handle`` (which raises :class:`_Again` to resume). Runs until cancelled."""
    last = 0
    while True:
        try:
            async with stream_client(relay.process, relay.units[unit]) as client:
                if (await client.subscribe(since=last))["type"] != "subscribed":
                    raise _Again
                while True:
                    frame = await client.recv_until(lambda f: f["type"] in ("alert", "receipt"), 60)
                    await handle(client, frame)
                    last = frame["seq"]
        except (*RETRIABLE, _Again) as exc:
            retried(exc)
            await asyncio.sleep(0.1)


async def answer_receipts(relay: FederatedRelay, unit: str, traffic: Traffic) -> None:
    """A unit at a receiving relay that answers each peer's alert asking for it with one
    receipt, resent with the same frame id until acknowledged."""
    async def answer(client: StreamClient, frame: dict[str, Any]) -> None:
        alert = frame.get("alert", {})
        key = (relay.relay_id, alert.get("alert_id"))
        if RECEIPT_WANTED in alert.get("summary", "") and key not in traffic.receipts \
                and alert.get("origin_relay", relay.relay_id) != relay.relay_id:
            reply = await client.request({"type": "receipt", "id": f"r-{key[1]}",
                                          "alert_id": key[1], "status": "received"})
            if reply["type"] != "ack":
                assert reply["code"] in ("unavailable", "rate_limited"), reply
                raise _Again
            traffic.receipts[key] = reply

    def retried(exc: BaseException) -> None:
        traffic.retries += 1
        traffic.why[f"{relay.relay_id} receipt {type(exc).__name__}"] += 1

    await _resuming(relay, unit, answer, retried)


async def follow(relay: FederatedRelay, unit: str, seen: list[dict[str, Any]]) -> None:
    """A live subscriber that resumes with ``since`` after every cut."""
    async def keep(client: StreamClient, frame: dict[str, Any]) -> None:
        seen.append(frame)

    await _resuming(relay, unit, keep)


async def _ready(relay: FederatedRelay) -> bool:
    with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
        async with aiohttp.ClientSession() as http, http.get(
                f"{relay.process.http}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as response:
            return response.status == 200
    return False


async def inject_faults(federation: Federation, pg_server: EmbeddedPostgres, schedule: list[tuple[int, str]],
                        progress: Callable[[], int], done: list[str]) -> None:
    """Each fault once the terminals have ``threshold`` acks: a relay SIGKILLed and
    started again, or the database server stopped (until a relay reports it unreachable)
    and started again."""
    for threshold, fault in schedule:
        await wait_for(functools.partial(_reached, progress, threshold), timeout=120 * SCALE,
                       what=f"{threshold} acks before {fault}")
        if fault == "database":
            await asyncio.to_thread(pg_server.force_stop)
            try:
                await wait_for(lambda: _not_ready(federation), timeout=30, what="database down")
            finally:
                await asyncio.to_thread(pg_server.start, owner=True)
        else:
            await federation[fault].process.kill()
            await federation[fault].process.start()
        done.append(fault)


def _reached(progress: Callable[[], int], threshold: int) -> bool:
    return progress() >= threshold


async def _not_ready(federation: Federation) -> bool:
    return not await _ready(federation["ML"])


def _acks(federation: Federation, traffic: Traffic, publishers: Sequence[asyncio.Task[None]]) -> int:
    """How many alerts are acknowledged; what a terminal raised (an assertion) is raised,
    and a relay that exited by itself fails the test with its last words."""
    _raise_failed(publishers)
    exited = _exited(federation)
    assert {} == exited, "\n".join(_link_story(federation[rid]) for rid in exited)
    return len(traffic.acked)


def _exited(federation: Federation) -> dict[str, int]:
    """The relays whose process has exited, with its status."""
    return {rid: code for rid, relay in federation.relays.items()
            if relay.process.process is not None and (code := relay.process.process.poll()) is not None}


def _raise_failed(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """What one of ``tasks`` raised (a terminal's assertion), raised here."""
    for task in tasks:
        failure = task.exception() if task.done() and not task.cancelled() else None
        if failure is not None:
            raise failure


async def _stop(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks``; what one of them raised (an assertion) is raised here."""
    try:
        _raise_failed(tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _settles(check: Callable[[], Any], timeout: float) -> bool:
    """Whether ``check`` comes true within ``timeout`` (polled, as :func:`wait_for`)."""
    try:
        await wait_for(check, timeout=timeout)
    except TimeoutError:
        return False
    return True


async def _converged(federation: Federation) -> bool:
    """Every link's cursor has reached its peer's head: nothing more is on its way."""
    heads: dict[str, int] = {}
    positions: dict[str, dict[str, int]] = {}
    for rid, relay in federation.relays.items():
        conn = await asyncpg.connect(relay.dsn)
        try:
            heads[rid] = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM relay_events")
            positions[rid] = {r["peer_id"]: r["position"]
                              for r in await conn.fetch("SELECT peer_id, position FROM relay_links")}
        finally:
            await conn.close()
    return all(positions[rid].get(peer, -1) >= heads[peer]
               for rid in heads for peer in heads if peer != rid)


def _refusals(relay: FederatedRelay) -> list[str]:
    text = relay.process.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if '"peer_event_refused"' in line]


async def _audit_verify(relay: FederatedRelay) -> str:
    """What ``relay audit verify`` says of the relay's chain ("intact: ..." and exit 0 when it is)."""
    result = await asyncio.to_thread(run_relay, "audit", "verify", dsn=relay.dsn)
    return result.stdout if result.returncode == 0 else f"exit {result.returncode}: {result.stderr[-500:]}"


_STORY = {"relay_started", "relay_stopping", "relay_stopped", "link_up", "link_down",
          "link_error_frame", "peer_event_refused", "peer_directory_refused", "background_task_died",
          "peer_feed_refresh_failed", "commit_failed"}


def _link_story(relay: FederatedRelay, limit: int = 80) -> str:
    """The relay's log lines about its life and its links (the last ``limit``), for a failure's report."""
    text = relay.process.log_path.read_text(errors="replace") if relay.process.log_path.exists() else ""
    story = [line[:400] for line in text.splitlines()
             if any(f'"event": "{event}"' in line for event in _STORY)]
    return f"--- relay {relay.relay_id}: its life and its links ---\n" + "\n".join(story[-limit:])


async def _second_hop_deliveries(relay: FederatedRelay) -> list[tuple[int, str]]:
    """Delivery records of this relay to a peer relay for an event it did not originate."""
    conn = await asyncpg.connect(relay.dsn)
    try:
        rows = await conn.fetch(
            "SELECT d.seq, d.unit_id FROM relay_deliveries d JOIN relay_events e ON e.seq = d.seq"
            " WHERE d.unit_id LIKE 'relay:%' AND e.origin_relay IS NOT NULL")
    finally:
        await conn.close()
    return [(r["seq"], r["unit_id"]) for r in rows]


def _peak_memory_mb(relay: FederatedRelay) -> float:
    """The relay process's peak resident set since it started (VmHWM), in MiB."""
    assert relay.process.process is not None
    status = Path(f"/proc/{relay.process.process.pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM in the status of relay {relay.relay_id}")


# -- the checker catches what it must -------------------------------------------------

A1, A2, A3 = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", \
    "00000000-0000-4000-8000-00000000000c"
SN_ONLY, FR_ONLY = Audience(countries=("SN",)), Audience(countries=("FR",))
SMALL_SENT: Sent = {("ML", "alert", A1): {"SN": SN_ONLY}, ("ML", "alert", A2): {},
                    ("ML", "alert", A3): {"SN": SN_ONLY, "FR": FR_ONLY},
                    ("SN", "receipt", A1): {"ML": None}}
SMALL_WORLD = {
    "ML": [Stored(1, "alert", A1, None, None), Stored(2, "alert", A2, None, None),
           Stored(3, "alert", A3, None, None), Stored(4, "receipt", A1, "SN", 2)],
    "SN": [Stored(1, "alert", A1, "ML", 1, SN_ONLY), Stored(2, "receipt", A1, None, None),
           Stored(3, "alert", A3, "ML", 3, SN_ONLY)],
    "FR": [Stored(1, "alert", A3, "ML", 3, FR_ONLY)],
}


def _mutated(rid: str, events: list[Stored]) -> dict[str, list[Stored]]:
    return {**SMALL_WORLD, rid: events}


SN_EVENTS = SMALL_WORLD["SN"]
BROKEN_WORLDS = {
    "twice": _mutated("SN", [*SN_EVENTS, Stored(4, "alert", A1, "ML", 1, SN_ONLY)]),
    "gap": _mutated("FR", []),
    "order": _mutated("SN", [replace(SN_EVENTS[2], seq=1), SN_EVENTS[1], replace(SN_EVENTS[0], seq=3)]),
    "leak": _mutated("FR", [Stored(1, "alert", A2, "ML", 2, FR_ONLY), SMALL_WORLD["FR"][0]]),
    "second hop": _mutated("FR", [*SMALL_WORLD["FR"], Stored(2, "alert", A1, "SN", 1, FR_ONLY)]),
    "another seq": _mutated("FR", [Stored(1, "alert", A3, "ML", 2, FR_ONLY)]),
    "audience": _mutated("SN", [replace(SN_EVENTS[0], audience=Audience(("FR", "SN"))), *SN_EVENTS[1:]]),
    "widened": _mutated("SN", [replace(SN_EVENTS[0], widened=True), *SN_EVENTS[1:]]),
    "committed there": _mutated("SN", SN_EVENTS[:1] + SN_EVENTS[2:]),
}


def test_the_checker_finds_no_problem_in_a_federation_that_kept_the_guarantee() -> None:
    assert [] == federation_problems(SMALL_SENT, SMALL_WORLD)


@pytest.mark.parametrize("problem", sorted(BROKEN_WORLDS))
def test_the_checker_reports_a_duplicate_a_gap_a_reordering_a_leak_and_a_second_hop(problem: str) -> None:
    found = federation_problems(SMALL_SENT, BROKEN_WORLDS[problem])
    assert any(problem in line for line in found), found


# -- the faults -----------------------------------------------------------------------

def fault_schedule(chance: random.Random, total: int) -> list[tuple[int, str]]:
    """Per round of SCALE: each relay SIGKILLed in turn, and the database restarted once
    among them; each at an ack count drawn between 5 % and 85 % of ``total``."""
    faults: list[str] = []
    for _ in range(SCALE):
        kills: list[str] = list(RELAYS)
        kills.insert(chance.randrange(len(kills) + 1), "database")
        faults += kills
    thresholds = sorted(chance.sample(range(total // 20, total * 17 // 20), len(faults)))
    return list(zip(thresholds, faults, strict=True))


@pytest.mark.timeout(150 * SCALE)
async def test_every_event_reaches_exactly_the_relays_it_belongs_to_once_in_order_through_faults(
        pg_server: EmbeddedPostgres, template_db: str, workdir: Path) -> None:
    """Terminals at ML, SN and FR publish a mix of distributions, resending until acked,
    and the units named at each relay answer some with receipts, while each relay in
    turn is SIGKILLed and started again and the database restarted once; every link is
    cut mid-frame again and again. Then every relay holds exactly its own events and, of
    each peer's, those that belong to it, once each and in the peer's order."""
    chance = random.Random(SEED)
    dsns = {rid: await fresh_database(pg_server, template_db) for rid in RELAYS}
    (workdir / "faults").mkdir()
    async with build_federation(dsns, workdir / "faults", countries=COUNTRIES, regions=REGIONS,
                                proxied=True, proxy_bytes=(800, 8_000)) as federation:
        for rid, units in UNITS.items():
            for unit_id in units:
                await federation[rid].add_unit(unit_id)
        for rid in RELAYS:  # the directories crossed: a distribution may name a peer's unit
            for peer in RELAYS:
                if peer != rid:
                    await federation[rid].process.log_lines(
                        lambda line, peer=peer: line.get("event") == "peer_directory"
                        and line.get("peer") == peer and line.get("accepted") == len(UNITS[peer]))
        posts = {rid: posts_for(rid, ALERTS_PER_RELAY, chance) for rid in RELAYS}
        schedule = fault_schedule(chance, ALERTS_PER_RELAY * len(RELAYS))
        traffic, seen, faults = Traffic(), list[dict[str, Any]](), list[str]()
        publishers = [asyncio.create_task(publish_until_acked(
            federation[rid], PUBLISHER[rid], posts[rid], traffic, random.Random(chance.random()),
            PACE_SECONDS))
            for rid in RELAYS]
        helpers = [asyncio.create_task(answer_receipts(federation[rid], NAMED[rid], traffic))
                   for rid in RELAYS]
        helpers.append(asyncio.create_task(follow(federation[WATCHER[0]], WATCHER[1], seen)))
        try:
            await inject_faults(federation, pg_server, schedule,
                                functools.partial(_acks, federation, traffic, publishers), faults)
            await wait_for(lambda: _acks(federation, traffic, publishers) == len(RELAYS) * ALERTS_PER_RELAY,
                           timeout=60 * SCALE, what="every alert acknowledged")
            alert_ids = {ident: ack["alert_id"] for ident, ack in traffic.acked.items()}
            wanted = {(rid, alert_ids[post.ident]) for origin in RELAYS for post in posts[origin]
                      if RECEIPT_WANTED in post.alert["summary"] for rid in post.reaches}
            # what did not settle is reported with the checker's account of the logs below
            settled = {"receipts": await _settles(lambda: wanted <= set(traffic.receipts), 60 * SCALE),
                       "links": await _settles(lambda: _converged(federation), 60 * SCALE)}
            stored = {rid: await stored_events(relay.dsn) for rid, relay in federation.relays.items()}
            replayed = await read_replay(federation[WATCHER[0]], WATCHER[1])
            settled["live"] = await _settles(lambda: len(seen) >= len(replayed), 10)
            exited = _exited(federation)
        finally:
            print(f"\n{len(traffic.acked)} acks, {len(traffic.receipts)} receipts, faults {faults},"
                  f" retries {dict(traffic.why)}")
            await _stop(publishers)
            await _stop(helpers)
        sent: dict[tuple[str, str, str], Mapping[str, Audience | None]] = {
            (origin, "alert", alert_ids[post.ident]): post.reaches
            for origin in RELAYS for post in posts[origin]}
        origin_of = {alert_id: origin for origin, _, alert_id in sent}
        sent.update({(rid, "receipt", alert_id): {origin_of[alert_id]: None}
                     for rid, alert_id in traffic.receipts})
        problems = federation_problems(sent, stored)
        refused = {rid: _refusals(relay) for rid, relay in federation.relays.items()}
        hops = {rid: await _second_hop_deliveries(relay) for rid, relay in federation.relays.items()}
        verified = {rid: await _audit_verify(relay) for rid, relay in federation.relays.items()}
        cuts = {f"{rid}<-{peer}": proxy.cuts for rid, relay in federation.relays.items()
                for peer, proxy in relay.proxies.items()}
        crossed = sum(1 for events in stored.values() for e in events if e.origin_relay)
        print(f"\nfaults {faults}, proxy cuts {cuts}, {len(traffic.acked)} alerts,"
              f" {len(traffic.receipts)} receipts, {crossed} events applied from peers,"
              f" {traffic.retries} retries, {traffic.duplicates} duplicate acks")
        try:
            assert {} == exited, "relays exited by themselves"  # their story is printed below
            assert [] == problems
            assert {rid: [] for rid in RELAYS} == refused
            assert {rid: [] for rid in RELAYS} == hops
            assert wanted == set(traffic.receipts)
            assert {"receipts": True, "links": True, "live": True} == settled
            assert [fault for _, fault in schedule] == faults
            assert ALERTS_PER_RELAY * len(RELAYS) == len(set(alert_ids.values()))
            assert all(text.startswith("intact") for text in verified.values()), verified
            assert sum(cuts.values()) >= len(cuts), cuts  # the links were cut mid-frame, again and again
            # the live subscriber, resuming after each cut, saw what a replay from 0 sees, and
            # of the peers' alerts exactly those addressed to its country, in the relay's order
            assert [(f["seq"], f["type"]) for f in replayed] == [(f["seq"], f["type"]) for f in seen]
            assert replayed == seen
            here = WATCHER[0]
            addressed = [e.alert_id for e in stored[here] if e.origin_relay and e.kind == "alert"
                         and here in (sent.get((e.origin_relay, "alert", e.alert_id), {}).get(here) or Audience()).countries]
            assert addressed == [f["alert"]["alert_id"] for f in seen
                                 if f["type"] == "alert" and f["alert"].get("origin_relay", here) != here]
        except AssertionError:
            for relay in federation.relays.values():
                print(_link_story(relay))
            raise


# -- catching up ----------------------------------------------------------------------

def large_alert(n: int, distribution: dict[str, Any]) -> dict[str, Any]:
    """An alert near the largest the contract allows (about 12 KB encoded)."""
    return seizure_alert(
        distribution=distribution, summary=(f"Saisie n° {n} à l'aéroport, dossier détaillé. " * 60)[:2000],
        indicators=[f"indicateur-{n}-{i}-".ljust(64, "x") for i in range(30)],
        seizures=[{"commodity": "cocaine", "quantity": 0.5 + i, "unit": "kg"} for i in range(50)],
        ext={"dossier": "é" * 1900})


async def publish_pipelined(relay: FederatedRelay, unit: str, alerts: list[dict[str, Any]],
                            prefix: str, window: int = 100) -> list[dict[str, Any]]:
    """``alerts`` published ``window`` at a time without waiting for each ack; the acks."""
    acks = []
    async with stream_client(relay.process, relay.units[unit]) as client:
        for start in range(0, len(alerts), window):
            idents = [f"{prefix}-{n}" for n in range(start, min(start + window, len(alerts)))]
            for ident, alert in zip(idents, alerts[start:], strict=False):
                await client.send({"type": "publish", "id": ident, "alert": alert})
            for ident in idents:
                reply = await client.recv_until(lambda f, ident=ident: f.get("id") == ident, 30)
                assert "ack" == reply["type"], reply
                acks.append(reply)
    return acks


@pytest.mark.timeout(120 * SCALE)
async def test_a_relay_that_was_down_catches_up_in_order_within_bounded_memory(
        pg_server: EmbeddedPostgres, template_db: str, workdir: Path) -> None:
    """FR is stopped while ML commits CATCH_UP_ALERTS large alerts, four in five for FR;
    started again, FR applies exactly those, in ML's order, through a link cut now and
    then, and neither relay's peak resident memory passes PEAK_MEMORY_MB."""
    dsns = {rid: await fresh_database(pg_server, template_db) for rid in ("ML", "FR")}
    (workdir / "catch-up").mkdir()
    async with build_federation(dsns, workdir / "catch-up", countries={"ML": "ML", "FR": "FR"},
                                regions=REGIONS, proxied=True,
                                proxy_bytes=(2_000_000, 8_000_000)) as federation:
        ml, fr = federation["ML"], federation["FR"]
        publishers = [f"ML-BKO-T{n}" for n in range(math.ceil(CATCH_UP_ALERTS / 500))]
        for unit in publishers:
            await ml.add_unit(unit)
        await fr.add_unit("FR-CDG-OFAST")
        idle = _peak_memory_mb(fr)
        await fr.process.stop()
        alerts = [large_alert(n, {"countries": ["ML"]} if n % 5 == 4 else {"countries": ["FR"]})
                  for n in range(CATCH_UP_ALERTS)]
        share = math.ceil(CATCH_UP_ALERTS / len(publishers))
        acks: list[list[dict[str, Any]]] = []
        for group in range(0, len(publishers), 3):  # three terminals at a time, whatever the scale
            acks += await asyncio.gather(*(
                publish_pipelined(ml, unit, alerts[i * share:(i + 1) * share], unit)
                for i, unit in enumerate(publishers) if group <= i < group + 3))
        for_fr = {ack["alert_id"] for i, part in enumerate(acks) for n, ack in enumerate(part)
                  if (i * share + n) % 5 != 4}
        backlog_mb = sum(len(orjson.dumps(a)) for a in alerts) / 2**20
        published = _peak_memory_mb(ml)
        await fr.process.start()
        caught_up = await _settles(lambda: _converged(federation), 90 * SCALE)
        peaks = {rid: _peak_memory_mb(relay) for rid, relay in federation.relays.items()}
        stored = {rid: await stored_events(relay.dsn) for rid, relay in federation.relays.items()}
        replayed = await read_replay(fr, "FR-CDG-OFAST")
        verified = await _audit_verify(fr)
        cuts = fr.proxies["ML"].cuts
        print(f"\ncatch-up of {len(for_fr)} of {CATCH_UP_ALERTS} alerts ({backlog_mb:.1f} MB as JSON):"
              f" peak memory {peaks} MiB (before: FR idle {idle:.0f}, ML after publishing {published:.0f}), {cuts} cuts on the link")
        sent = {("ML", "alert", ack["alert_id"]): ({"FR": FR_ONLY} if ack["alert_id"] in for_fr else {})
                for part in acks for ack in part}
        try:
            assert [] == federation_problems(sent, stored)
            assert caught_up
            assert cuts >= 1
            assert [e.alert_id for e in stored["FR"] if e.origin_relay == "ML"] == \
                [f["alert"]["alert_id"] for f in replayed]
            assert verified.startswith("intact")
            assert all(peak < PEAK_MEMORY_MB for peak in peaks.values()), peaks
        except AssertionError:
            print(_link_story(fr))
            raise
