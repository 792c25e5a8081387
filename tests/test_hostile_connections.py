"""Connections are bounded before authentication (issue 9, items 3 and 4).

Without a token an attacker can open connections: slow HTTP headers, floods from one
address, unauthenticated stream connections sending most of a large frame. Each is cut by
a configured limit, quickly, while a bystander (on another address) keeps working.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.conftest import running_relay
from tests.hostile import (
    HOSTILE_CONFIG,
    SCALE,
    Attacker,
    MemoryWatch,
    bystander,
    closed_within,
)
from tests.support import RelayProcess, create_unit, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    async with running_relay(dsn, workdir, HOSTILE_CONFIG) as process:
        yield process


async def healthy(relay) -> bool:
    async with aiohttp.ClientSession() as http, http.get(f"{relay.http}/readyz",
                                                         timeout=aiohttp.ClientTimeout(5)) as r:
        return r.status == 200


async def test_slow_http_headers_are_cut_at_the_header_timeout(relay, dsn):
    """Connections that send one header line a second never finish their request: each
    is closed after header_timeout (2 s here), and the bystander is not slowed."""
    async with Attacker() as attacker, bystander(relay, dsn) as watcher:
        links = [await attacker.connect(relay.http_port) for _ in range(30)]
        for _, writer in links:
            writer.write(b"GET /v1/alerts HTTP/1.1\r\nHost: relay\r\n")

        async def dribble(writer: asyncio.StreamWriter) -> None:
            for n in range(10):
                writer.write(f"X-Slow-{n}: 1\r\n".encode())
                await asyncio.sleep(1)

        dribbling = [asyncio.create_task(dribble(writer)) for _, writer in links]
        started = time.monotonic()
        closed = await asyncio.gather(*(closed_within(reader, 6) for reader, _ in links))
        took = time.monotonic() - started
        for task in dribbling:
            task.cancel()
        assert await healthy(relay)
    assert all(closed) and took < 6, (sum(closed), took)
    watcher.check(min_acks=10, max_p99=2.0)


async def test_an_idle_http_connection_is_closed_without_a_request(relay):
    """A connection that sends nothing at all is closed after the header timeout."""
    async with Attacker() as attacker:
        reader, _ = await attacker.connect(relay.http_port)
        assert await closed_within(reader, 5)


async def test_a_request_body_that_trickles_is_answered_400_at_the_body_timeout(relay, dsn):
    """A publish whose body never completes gets 400 naming the body as too slow, within
    body_timeout (2 s here), instead of holding the connection for ever."""
    _, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    async with Attacker() as attacker:
        reader, writer = await attacker.connect(relay.http_port)
        writer.write(f"POST /v1/alerts HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {token}\r\n"
                     "Idempotency-Key: slow-1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 5000\r\n\r\n{\"kind\": ".encode())
        started = time.monotonic()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 6)
        took = time.monotonic() - started
        body = await asyncio.wait_for(reader.read(4096), 2)
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b'"too_slow"' in body and b'"body"' in body, body
    assert 1.5 < took < 5, took


async def test_connections_past_the_per_address_limit_are_refused_at_once(relay, dsn):
    """One address may hold max_connections_per_address HTTP connections (40 here): the
    next ones are closed before they are read, counted in /metrics; another address is
    not affected."""
    async with Attacker() as attacker:
        for _ in range(40):
            await attacker.connect(relay.http_port)
        extra = [await attacker.connect(relay.http_port) for _ in range(10)]
        refused = await asyncio.gather(*(closed_within(reader, 2) for reader, _ in extra))
        assert await healthy(relay)  # from 127.0.0.1
    async with aiohttp.ClientSession() as http, http.get(f"{relay.http}/metrics") as r:
        metrics = await r.text()
    assert all(refused)
    assert 'relay_refused_connections_total{limit="connections",server="http"}' in metrics


async def test_unauthenticated_stream_connections_sending_large_frames_hold_little(relay, dsn):
    """Unauthenticated stream connections that each start sending a 1 MiB frame: the
    frame limit before authentication (4 KiB) closes them at once, so they hold almost no
    memory, and past max_unauthenticated (300 here) new ones are refused."""
    count = 150 * SCALE
    async with Attacker() as attacker, bystander(relay, dsn) as watcher, \
            MemoryWatch(relay) as memory:
        links = []
        for _ in range(count):
            reader, writer = await attacker.connect(relay.stream_port)
            writer.write(b"GET /v1/stream HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
            links.append((reader, writer))
        for reader, writer in links:
            await reader.readuntil(b"\r\n\r\n")
            # A masked binary frame announcing 1 MiB, then 900 KiB of it.
            writer.write(b"\x82\xff" + (1 << 20).to_bytes(8, "big") + b"\x00\x00\x00\x00")
            writer.write(b"\x00" * (900 * 1024))
        closed = await asyncio.gather(*(closed_within(reader, 5) for reader, _ in links))
        await asyncio.sleep(1.0)  # the bystander works on beside them
    assert all(closed)
    # Before the frame limit: ~1 MiB buffered per connection (1.58 GB for 1,500).
    assert memory.growth < 60, (memory.baseline, memory.peak)
    watcher.check(min_acks=5, max_p99=2.0)


async def test_past_max_unauthenticated_new_stream_connections_are_refused(relay):
    """Silent unauthenticated connections (no handshake sent) count against the limit;
    the one past it is closed at once."""
    async with Attacker() as attacker:
        for _ in range(200):
            await attacker.connect(relay.stream_port)
        extra, _ = await attacker.connect(relay.stream_port)
        assert await closed_within(extra, 3)


async def test_running_out_of_file_descriptors_is_counted_and_logged_without_a_flood(dsn, workdir):
    """A relay allowed 200 file descriptors, flooded with 400 connections: accept() fails
    (EMFILE); the relay counts it, writes a few log lines rather than one per failure, and
    serves again once the flood is gone."""
    relay = RelayProcess(dsn, workdir / "emfile", config_text=HOSTILE_CONFIG, file_limit=200)
    await relay.start()
    try:
        async with Attacker() as attacker:
            stalled = 0
            for _ in range(400):
                try:
                    await asyncio.wait_for(attacker.connect(relay.stream_port), 0.3)
                except (OSError, TimeoutError):
                    stalled += 1  # the backlog is full: the relay cannot accept
                    if stalled >= 5:
                        break
            await asyncio.sleep(2)
        await asyncio.sleep(1)
        assert await healthy(relay)
        async with aiohttp.ClientSession() as http, http.get(f"{relay.http}/metrics") as r:
            metrics = await r.text()
        log = relay.log_path.read_text()
    finally:
        await relay.stop()
    counted = [line for line in metrics.splitlines() if line.startswith("relay_accept_errors_total")]
    errors, lines = float(counted[0].split()[-1]), log.count("event_loop_error")
    # Every failure counted; at most 20 lines of a kind per 10 s written.
    assert errors > lines and lines <= 20, (errors, lines)
