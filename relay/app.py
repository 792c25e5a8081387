"""The composition root: builds every service of a relay process, starts and stops them.

Start-up, each step registering its stop right after it (:class:`relay.lifecycle.Lifecycle`):
database (embedded or external) and migrations → pool → delivery recorder → hub at the
stored head → background tasks (listener, revocation watch, delivery writes) → writer →
stream server → HTTP server.

Shutdown (SIGTERM), in the reverse order, every step even when one fails: stop accepting
and refuse new writes → commit what is in flight (its acks are sent) → stop the HTTP
server → close stream connections with 1001 → stop the background tasks → stop the hub's
reader → write the pending delivery records → close the pool → stop the embedded
database if this process started it. Nothing else in the relay holds a service globally.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from relay.config import Config, ConfigError
from relay.contract import reference
from relay.core.connections import Connections, watch_revocations
from relay.core.events import PendingEvent
from relay.core.hub import Hub
from relay.core.publishing import Publisher
from relay.core.ratelimit import RateLimiter
from relay.federation.link import Link
from relay.http.app import start_http_server
from relay.http.services import HttpServices
from relay.lifecycle import Lifecycle
from relay.logs import install_loop_error_handler
from relay.metrics import RelayMetrics
from relay.protection.pacing import CommitWatch
from relay.store import federation as federation_store
from relay.store import protection as protection_store
from relay.store.database import open_database
from relay.store.deliveries import DeliveryRecorder
from relay.store.listener import Listener
from relay.store.pool import STORE_DOWN_ERRORS, create_pools
from relay.store.storage import Storage
from relay.store.units import KnownUnits
from relay.store.writer import EventWriter
from relay.stream.server import start_stream_server
from relay.stream.session import StreamServices

__all__ = ["BackgroundTaskDied", "run_relay"]
_log = structlog.get_logger("relay.app")
_FANOUT_PAGE = 5000
_CLOSE_CONNECTIONS_SECONDS = 10.0


async def run_relay(config: Config, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (or a background task dies), then shut down in order."""
    _load_reference_data()
    died: list[str] = []
    async with Lifecycle() as lifecycle:
        await _start(config, stop, lifecycle, died)
        await stop.wait()
        _log.info("relay_stopping")
    _log.info("relay_stopped")
    if died:  # stopped by a failure, not asked to: the service manager must restart it
        raise BackgroundTaskDied(died)


class BackgroundTaskDied(Exception):
    """The relay stopped because a background task died (the exit status says so)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"a background task died: {', '.join(names)}")
        self.names = names


async def _start(config: Config, stop: asyncio.Event, lifecycle: Lifecycle,
                 died: list[str]) -> None:
    _raise_file_limit(config)
    database = await open_database(config, owner=True)
    lifecycle.on_stop("embedded database", database.close)
    pools = await create_pools(database.dsn, config.database)
    lifecycle.on_stop("database pools", pools.close, timeout=15)
    storage = Storage(pools, deadline=config.database.deadline)

    metrics = RelayMetrics()
    install_loop_error_handler(asyncio.get_running_loop(), metrics.accept_errors.inc)
    deliveries = DeliveryRecorder(pools.reads, on_dropped=metrics.delivery_records_dropped.inc)
    lifecycle.on_stop("delivery records", deliveries.flush, timeout=10)
    hub = Hub(
        regions=config.regions,
        fetch_range=lambda after, upto: storage.events_between(after, upto, _FANOUT_PAGE),
        send_buffer_bytes=config.stream.send_buffer_bytes,
        on_delivered=metrics.deliveries.inc,
        record_delivery=deliveries.record,
    )
    hub.start_at(await storage.head())
    lifecycle.on_stop("hub", hub.stop)

    try:
        relay_id = await federation_store.ensure_identity(pools.writes, config.relay.id or None)
    except federation_store.IdentityConflict as exc:
        raise ConfigError(str(exc)) from None
    known_units = KnownUnits(pools.writes)
    await known_units.refresh()
    peer_scopes = federation_store.PeerScopes(pools.reads)
    await peer_scopes.refresh()

    def units_changed() -> None:  # a unit, a grant or a peer's directory changed
        known_units.request_refresh()
        peer_scopes.request_refresh()

    connections = Connections()
    tasks = _BackgroundTasks(stop, died)
    lifecycle.on_stop("background tasks", tasks.cancel)
    listener = Listener(database.dsn, role=config.database.role, on_head=hub.announce,
                        on_revocation=connections.on_revocation_notice,
                        on_unit_added=units_changed)
    tasks.spawn("relay-listener", listener.run())
    tasks.spawn("relay-revocations", watch_revocations(
        connections, check=storage.stale_tokens,
        interval=config.limits.revocation_check_seconds))
    tasks.spawn("relay-deliveries", deliveries.run())
    publish_commits = CommitWatch()  # the jobs give way to publishing when these are slow
    tasks.spawn("relay-protection", run_protection_jobs(pools.reads, config, metrics,
                                                        publish_commits))

    def observe(batch: Sequence[PendingEvent]) -> None:
        now = time.perf_counter()
        metrics.batch_size.observe(len(batch))
        for pending in batch:
            waited = now - pending.queued_at
            metrics.commit_latency.observe(waited)
            publish_commits.observe(waited)

    def commit_started() -> None:
        hub.commit_started()
        publish_commits.commit_started(time.monotonic())

    def commit_ended() -> None:
        hub.commit_finished()
        publish_commits.commit_ended()

    writer = EventWriter(pools.writes, on_committed=hub.offer, on_batch=observe,
                         on_crash=stop.set, on_commit_start=commit_started,
                         on_commit_end=commit_ended, max_batch=config.limits.max_batch,
                         commit_deadline=config.database.deadline)
    writer.start()
    publisher = Publisher(
        writer=writer, events=storage, known_units=known_units, regions=config.regions,
        limiter=RateLimiter(config.limits.publish_per_second, config.limits.publish_burst),
        on_committed=lambda kind: (metrics.alerts_published if kind == "alert"
                                   else metrics.receipts_published).inc(),
        relay_id=relay_id,
    )
    await federation_store.forget_unconfigured_links(
        pools.writes, [peer.id for peer in config.federation.peers])
    for peer in config.federation.peers:
        link = Link(peer, pool=pools.writes, config=config.federation, offer=hub.offer,
                    metrics=metrics, max_frame_bytes=config.stream.max_frame_bytes,
                    scopes=peer_scopes)
        tasks.spawn(f"relay-link-{peer.id}", link.run())

    ws_server = await start_stream_server(StreamServices(
        config=config.stream, regions=config.regions, hub=hub, storage=storage,
        publisher=publisher, connections=connections, metrics=metrics,
        record_delivery=hub.record_delivery,
        replay_slots=asyncio.Semaphore(config.stream.max_replays),
        relay_id=relay_id, peer_scopes=peer_scopes, federation=config.federation))

    async def close_stream_connections() -> None:
        ws_server.close()  # every connection gets 1001 (going away)
        try:
            await asyncio.wait_for(ws_server.wait_closed(), _CLOSE_CONNECTIONS_SECONDS)
        except TimeoutError:  # a peer that never answers the close: its TCP link is dropped
            _log.warning("connections_still_closing", after_seconds=_CLOSE_CONNECTIONS_SECONDS)

    lifecycle.on_stop("stream connections", close_stream_connections)

    http = await start_http_server(config.http, HttpServices(
        config=config.http, storage=storage, regions=config.regions, publisher=publisher,
        known_units=known_units, hub=hub, connections=connections, metrics=metrics,
        stream=config.stream, relay_id=relay_id))
    lifecycle.on_stop("http server", http.stop, timeout=15)
    lifecycle.on_stop("commits in flight", writer.drain_and_stop)

    async def stop_accepting() -> None:
        connections.stopping = True  # new publishes and handshakes: unavailable / 503
        ws_server.server.close()
        http.stop_accepting()

    lifecycle.on_stop("new connections", stop_accepting)
    _log.info("relay_started", relay_id=relay_id, peers=[peer.id for peer in config.federation.peers],
              stream=f"{config.stream.host}:{config.stream.port}",
              http=f"{config.http.host}:{config.http.port}", head=hub.head)


async def run_protection_jobs(pool: asyncpg.Pool, config: Config, metrics: RelayMetrics,
                              publish_commits: CommitWatch) -> None:
    """Masking and reduction on schedule (docs/protection.md): at start, then every
    ``[protection] run_every_seconds``, giving way to this process's publishing
    (``publish_commits``). A failed run (the store down) is logged, counted and tried
    again at the next one; the jobs never stop the relay."""
    settings = job_settings(config)
    while True:
        pace = protection_store.pace_of(settings, publish_commits)
        metrics.protection_slowdown.set_function(pace.current_slowdown)
        try:
            done = await protection_store.run_jobs(pool, settings, now=datetime.now(UTC),
                                                   run_by=f"relay {os.getpid()}", pace=pace)
        except _JOB_ERRORS as exc:
            metrics.protection_failures.inc()
            _log.warning("protection_run_failed", error=type(exc).__name__, slowest=pace.slowest)
        else:
            metrics.protection_masked.inc(done.masked)
            metrics.protection_reduced.inc(done.reduced)
            metrics.protection_last_run.set_to_current_time()
            if done.masked or done.reduced:
                _log.info("protection_run", masked=done.masked, reduced=done.reduced,
                          keys_destroyed=done.shredded, slowest=pace.slowest,
                          paused_seconds=round(pace.paused, 1))
        await asyncio.sleep(config.protection.run_every_seconds)


_JOB_ERRORS: tuple[type[Exception], ...] = (*STORE_DOWN_ERRORS, asyncpg.PostgresError)


def job_settings(config: Config) -> protection_store.JobSettings:
    p = config.protection
    return protection_store.JobSettings(
        mask_after_days=p.mask_after_days, delete_after_days=p.delete_after_days,
        shred_on_mask=p.shred_on_mask, batch=p.batch, pause_ratio=p.pause_ratio,
        yield_above_seconds=p.yield_above_ms / 1000, max_slowdown=p.max_slowdown)


def _raise_file_limit(config: Config) -> None:
    """Use every file descriptor the system allows, and say whether the connection limits
    fit in it: past it, accept() fails for everyone (issue 9)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = (config.stream.max_connections + config.http.max_connections
              + config.database.pool_max + config.database.write_pool_max
              + config.database.export_pool_max + 64)
    if needed > soft:
        _log.warning("file_limit_below_connection_limits", file_limit=soft, needed=needed)


class _BackgroundTasks:
    """The process's long-running tasks: one that dies stops the relay (loudly)."""

    def __init__(self, stop: asyncio.Event, died: list[str]) -> None:
        self._stop = stop
        self._died_names = died
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._died)

    def _died(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("background_task_died", task=task.get_name(), error=repr(task.exception()))
            self._died_names.append(task.get_name())
            self._stop.set()

    async def cancel(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
