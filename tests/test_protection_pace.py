"""The protection jobs give way to publishing (relay/protection/pacing.py, docs/protection.md
"Pace"): the pure pace first, then runs of the jobs on a real relay's database while its
publishing side, played by the test, reports commits between the batches.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.protection.pacing import CommitWatch, Pace
from relay.store import protection as protection_store
from tests.alert_examples import passenger_alert
from tests.conftest import running_relay
from tests.support import create_unit, stream_client

SETTINGS = protection_store.JobSettings(mask_after_days=183, delete_after_days=1826,
                                        shred_on_mask=False, batch=2, pause_ratio=1.0,
                                        yield_above_seconds=0.02, max_slowdown=4.0)


def pauses(pace: Pace, worst_commits: list[float], batch_seconds: float = 0.01) -> list[float]:
    """The pause after each batch, the worst commit during each being ``worst_commits``'
    (0: none)."""
    out = []
    for worst in worst_commits:
        pace.watch.observe(worst)
        out.append(round(pace.pause_after(batch_seconds, now=100.0), 6))
    return out


def test_with_no_slow_commit_the_pause_is_the_batch_times_the_ratio():
    pace = Pace(pause_ratio=0.5, yield_above=0.02, max_slowdown=8)
    assert [0.005, 0.005, 0.005] == pauses(pace, [0.0, 0.003, 0.02])  # 0.02 is not over 0.02
    assert 1.0 == pace.slowest


def test_slow_commits_double_the_pause_up_to_the_most_and_calm_batches_undo_it_a_step_at_a_time():
    pace = Pace(pause_ratio=1.0, yield_above=0.02, max_slowdown=8)
    assert [0.02, 0.04, 0.08, 0.08] == pauses(pace, [0.5, 0.5, 0.5, 0.021])
    assert 0.22 == round(pace.paused, 6)
    assert [0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0.01] == pauses(pace, [0.0] * 8)
    assert [0.02] == pauses(pace, [1.0])  # slow again: doubled at once
    assert 8.0 == pace.slowest


def test_a_slowdown_of_one_never_slows():
    pace = Pace(pause_ratio=1.0, yield_above=0.02, max_slowdown=1)
    assert [0.01, 0.01] == pauses(pace, [9.0, 9.0])


def test_the_watch_gives_the_worst_commit_since_the_last_look_and_starts_again():
    watch = CommitWatch()
    assert 0.0 == watch.take_worst(now=10.0)
    for seconds in (0.004, 0.3, 0.01):
        watch.observe(seconds)
    assert 0.3 == watch.take_worst(now=10.0)
    assert 0.0 == watch.take_worst(now=10.0)


def test_a_commit_stalled_in_flight_counts_as_slow_before_it_ends():
    watch = CommitWatch()
    watch.observe(0.002)
    watch.commit_started(at=50.0)
    assert 0.002 == watch.take_worst(now=50.001)  # younger than the worst that ended
    assert 4.0 == watch.take_worst(now=54.0)  # stalled for 4 s, still committing
    pace = Pace(pause_ratio=1.0, yield_above=0.02, max_slowdown=8)
    pace.watch = watch
    assert 0.02 == round(pace.pause_after(0.01, now=56.0), 6)  # slowed while it lasts
    watch.commit_ended()
    watch.observe(6.0)  # its queued-to-committed time, once it ended
    assert 6.0 == watch.take_worst(now=57.0)
    assert 0.0 == watch.take_worst(now=58.0)


def test_a_run_ignores_the_commits_before_it():
    watch = CommitWatch()
    watch.observe(5.0)  # an hour ago, say
    pace = protection_store.pace_of(SETTINGS, watch)
    assert [0.01] == pauses(pace, [0.0])
    assert pace.watch is watch  # and watches this process's commits from now on


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 1)), max_size=60),
       st.floats(0, 4), st.floats(1, 64))
def test_the_pause_stays_between_the_base_and_the_most(batches, ratio, most):
    pace = Pace(pause_ratio=ratio, yield_above=0.02, max_slowdown=most)
    for worst, took in batches:
        before = pace.slowdown
        pace.watch.observe(worst)
        pause = pace.pause_after(took, now=0.0)
        assert took * ratio <= pause * (1 + 1e-9) and pause <= took * ratio * most * (1 + 1e-9)
        assert pace.slowdown == (min(before * 2, most) if worst > 0.02 else max(before - 1, 1.0))
        assert 1.0 <= pace.slowdown <= pace.slowest <= most


# -- on a real database -------------------------------------------------------------------

@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    async with running_relay(dsn, workdir / "relay") as process:
        yield process


async def published(relay, dsn, count: int) -> None:
    _, officer = await create_unit(dsn, "ML-BKO-PACE", country="ML")
    async with stream_client(relay, officer) as publisher:
        for _ in range(count):
            ack = await publisher.publish(passenger_alert(distribution={"countries": ["ML"]}))
            assert "ack" == ack["type"], ack


async def run_with(dsn: str, now: datetime, pace: Pace, slow_commit: float | None) -> protection_store.RunResult:
    """The jobs as of ``now`` at ``pace``, while the publishing side reports a commit of
    ``slow_commit`` seconds every millisecond (None: nothing published)."""

    async def publishing() -> None:
        while slow_commit is not None:
            pace.watch.observe(slow_commit)
            await asyncio.sleep(0.001)

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    side = asyncio.create_task(publishing())
    try:
        started = time.monotonic()
        done = await protection_store.run_jobs(pool, SETTINGS, now=now, run_by="tests", pace=pace)
        assert time.monotonic() - started >= pace.paused > 0  # the run slept what its pace said
        return done
    finally:
        side.cancel()
        await pool.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_jobs_slow_down_while_publish_commits_are_slow_and_still_finish(relay, dsn):
    await published(relay, dsn, 7)
    now = datetime.now(UTC)

    quick = protection_store.pace_of(SETTINGS)  # commits of 1 ms: under yield_above
    assert 7 == (await run_with(dsn, now + timedelta(days=184), quick, slow_commit=0.001)).masked
    assert 1.0 == quick.slowest  # three full batches of 2, never slowed

    slow = protection_store.pace_of(SETTINGS)  # commits of a second: far over it
    done = await run_with(dsn, now + timedelta(days=1827), slow, slow_commit=1.0)
    assert 7 == done.reduced  # every alert, in four batches, the last one short
    assert SETTINGS.max_slowdown == slow.slowest  # doubled to 2, then 4 (the most)


async def protection_gauges(relay) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(f"{relay.http}/metrics") as response:
        assert 200 == response.status
        text = await response.text()
    return {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
            if line.startswith("relay_protection_")}


@pytest.mark.asyncio(loop_scope="module")
async def test_the_relay_shows_its_jobs_pace_at_metrics(relay):
    for _ in range(50):  # the relay's start-up run, over an empty log, ends within 5 s
        gauges = await protection_gauges(relay)
        if gauges["relay_protection_last_run_timestamp_seconds"] > 0:
            break
        await asyncio.sleep(0.1)
    assert gauges["relay_protection_last_run_timestamp_seconds"] > 0
    assert 1.0 == gauges["relay_protection_slowdown"]  # nothing published meanwhile
