"""relay.lifecycle: shutdown in the reverse order of start-up, every step even when one fails."""

from __future__ import annotations

import asyncio

import pytest

from relay.lifecycle import Lifecycle, ShutdownIncomplete

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_steps_stop_in_reverse_order_and_a_failing_one_skips_none():
    """The HTTP cleanup raises: the delivery flush and the pool close still run after it,
    and the failure is reported by name once everything has run."""
    stopped: list[str] = []

    def step(name: str, *, fails: bool = False):
        async def run() -> None:
            stopped.append(name)
            if fails:
                raise OSError("cleanup failed")
        return run

    with pytest.raises(ShutdownIncomplete) as incomplete:
        async with Lifecycle() as lifecycle:
            lifecycle.on_stop("pool", step("pool"))
            lifecycle.on_stop("deliveries", step("deliveries"))
            lifecycle.on_stop("http", step("http", fails=True))
            lifecycle.on_stop("accepting", step("accepting"))
    assert ["accepting", "http", "deliveries", "pool"] == stopped
    assert ["http"] == incomplete.value.steps


async def test_a_step_that_hangs_is_cut_at_its_time_limit_and_the_rest_runs():
    """A stop step with a timeout that never returns fails, and the next one runs."""
    stopped: list[str] = []

    async def hang() -> None:
        await asyncio.Event().wait()

    async def close_pool() -> None:
        stopped.append("pool")

    with pytest.raises(ShutdownIncomplete) as incomplete:
        async with Lifecycle() as lifecycle:
            lifecycle.on_stop("pool", close_pool)
            lifecycle.on_stop("http", hang, timeout=0.05)
    assert (["pool"], ["http"]) == (stopped, incomplete.value.steps)


async def test_a_failure_while_starting_still_stops_what_was_started():
    """Start-up fails after the pool opened: the pool is closed, the start-up error is
    what the caller sees."""
    stopped: list[str] = []

    async def close_pool() -> None:
        stopped.append("pool")

    with pytest.raises(OSError, match="address in use"):
        async with Lifecycle() as lifecycle:
            lifecycle.on_stop("pool", close_pool)
            raise OSError("address in use")
    assert ["pool"] == stopped


async def test_a_background_task_that_dies_stops_the_relay_and_is_named():
    """The relay must then exit with a failure status (relay/cli/main.py), so that the
    service manager restarts it; a task cancelled at shutdown is not a death."""
    import asyncio

    from relay.app import _BackgroundTasks

    stop, died = asyncio.Event(), []
    tasks = _BackgroundTasks(stop, died)

    async def fails() -> None:
        raise RuntimeError("boom")

    async def runs() -> None:
        await asyncio.sleep(3600)

    tasks.spawn("relay-fails", fails())
    tasks.spawn("relay-runs", runs())
    await asyncio.wait_for(stop.wait(), 5)
    await tasks.cancel()
    assert ["relay-fails"] == died
