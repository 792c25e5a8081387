"""The composition root: builds every service of a relay process, starts and stops them.

Start-up: database (embedded or external) and migrations → pool → hub at the stored
head → writer → listener and revocation watch → stream and HTTP servers.
Shutdown (SIGTERM), the reverse: stop accepting connections → refuse new writes and
commit those in flight (their acks are sent) → close connections with 1001 → stop the
background tasks → close the pool → stop the embedded database if this process started
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Sequence

import structlog
from aiohttp import web

from relay.config import Config
from relay.contract import reference
from relay.core.hub import Hub
from relay.core.publishing import KnownUnits, Publisher
from relay.core.ratelimit import RateLimiter
from relay.http.app import build_http_app
from relay.metrics import RelayMetrics
from relay.runtime import Runtime
from relay.store.database import open_database
from relay.store.deliveries import DeliveryRecorder
from relay.store.eventlog import fetch_events, read_head
from relay.store.listener import Listener
from relay.store.pool import create_pool
from relay.store.writer import EventWriter, PendingEvent
from relay.stream.server import start_stream_server

__all__ = ["run_relay"]
_log = structlog.get_logger("relay.app")
_FANOUT_PAGE = 5000


async def run_relay(config: Config, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then shut down in order."""
    _load_reference_data()
    database = await open_database(config, owner=True)
    try:
        await _serve(config, database.dsn, stop)
    finally:
        await database.close()


async def _serve(config: Config, dsn: str, stop: asyncio.Event) -> None:
    pool = await create_pool(dsn, config.database)
    metrics = RelayMetrics()
    deliveries = DeliveryRecorder(pool, on_dropped=metrics.delivery_records_dropped.inc)
    hub = Hub(
        regions=config.regions,
        fetch_range=lambda after, upto: fetch_events(pool, after, upto, _FANOUT_PAGE),
        send_buffer_bytes=config.stream.send_buffer_bytes,
        on_delivered=metrics.deliveries.inc,
        record_delivery=deliveries.record,
    )
    hub.start_at(await read_head(pool))

    def observe(batch: Sequence[PendingEvent]) -> None:
        now = time.perf_counter()
        metrics.batch_size.observe(len(batch))
        for pending in batch:
            metrics.commit_latency.observe(now - pending.queued_at)

    writer = EventWriter(pool, on_committed=hub.offer, on_batch=observe, on_crash=stop.set,
                         max_batch=config.limits.max_batch)
    known_units = KnownUnits(pool)
    await known_units.refresh()
    publisher = Publisher(
        pool=pool, writer=writer, known_units=known_units, regions=config.regions,
        limiter=RateLimiter(config.limits.publish_per_second, config.limits.publish_burst),
        metrics=metrics,
    )
    runtime = Runtime(config, pool, hub, writer, publisher, known_units, metrics)
    background: set[asyncio.Task[None]] = set()

    def refresh_units() -> None:
        task = asyncio.create_task(_quietly(known_units.refresh()))
        background.add(task)
        task.add_done_callback(background.discard)

    listener = Listener(dsn, role=config.database.role, on_head=hub.announce, on_revoked_unit=runtime.revoke_unit,
                        on_unit_added=refresh_units)
    tasks = [asyncio.create_task(listener.run(), name="relay-listener"),
             asyncio.create_task(runtime.watch_revocations(), name="relay-revocations"),
             asyncio.create_task(deliveries.run(), name="relay-deliveries")]
    for task in tasks:
        task.add_done_callback(_fail_loudly(stop))
    writer.start()
    ws_server = await start_stream_server(runtime)
    runner = web.AppRunner(build_http_app(runtime), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.http.host, config.http.port)
    await site.start()
    _log.info("relay_started", stream=f"{config.stream.host}:{config.stream.port}",
              http=f"{config.http.host}:{config.http.port}", head=hub.head)
    try:
        await stop.wait()
    finally:
        _log.info("relay_stopping")
        runtime.shutting_down = True
        ws_server.server.close()
        await writer.drain_and_stop()
        ws_server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws_server.wait_closed(), 10)
        await runner.cleanup()
        for task in (*tasks, *background):
            task.cancel()
        await asyncio.gather(*tasks, *background, return_exceptions=True)
        await hub.stop()
        await deliveries.flush()
        await pool.close()
        _log.info("relay_stopped")


def _load_reference_data() -> None:
    """Load the airport, country and currency tables now, not on the first publish, and
    move them out of the garbage collector's sight: a full collection over the ~30,000
    airport records would otherwise stall fan-out for tens of milliseconds."""
    reference.is_airport("BKO")
    reference.is_country("ML")
    reference.is_currency("XOF")
    reference.is_language_tag("fr")
    gc.collect()
    gc.freeze()


async def _quietly(coro: object) -> None:
    try:
        await coro  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001 - logged; the next notification retries
        _log.warning("background_step_failed", error=type(exc).__name__)


def _fail_loudly(stop: asyncio.Event):  # type: ignore[no-untyped-def]
    def done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _log.error("background_task_died", task=task.get_name(), error=repr(task.exception()))
            stop.set()
    return done
