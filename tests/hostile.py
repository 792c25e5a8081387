"""Helpers of the hostile tests: a bystander unit that keeps working while an attack
runs, the relay's resident memory, and attackers that connect from another loopback
address (127.0.0.2) so that per-address limits hit them and not the bystander.

The size of each attack scales with ``RELAY_HOSTILE_SCALE`` (default 1, the CI size).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psutil

from tests.alert_examples import seizure_alert
from tests.support import RelayProcess, StreamClient, create_unit, stream_client, unique_unit

SCALE = max(1, int(os.environ.get("RELAY_HOSTILE_SCALE", "1")))
ATTACKER = "127.0.0.2"

HOSTILE_CONFIG = """
[limits]
publish_per_second = 100000.0
publish_burst = 100000
[http]
header_timeout = 2.0
body_timeout = 2.0
max_connections_per_address = 40
[stream]
max_connections_per_address = 200
max_unauthenticated = 300
auth_timeout = 5.0
"""


def rss_mb(relay: RelayProcess) -> float:
    """The relay process's resident memory, from /proc, in MiB."""
    assert relay.process is not None
    return psutil.Process(relay.process.pid).memory_info().rss / 2**20


class MemoryWatch:
    """The relay's peak resident memory while the block runs (sampled every 20 ms)."""

    def __init__(self, relay: RelayProcess) -> None:
        self.relay = relay
        self.baseline = rss_mb(relay)
        self.peak = self.baseline
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.relay))
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> MemoryWatch:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, rss_mb(self.relay))

    @property
    def growth(self) -> float:
        return self.peak - self.baseline


@dataclass
class Bystander:
    """An ordinary unit publishing an alert every ``interval`` and receiving its own
    alerts live: what it sees tells whether an attack touched anyone else."""

    publisher: StreamClient
    subscriber: StreamClient
    interval: float = 0.05
    acked: dict[int, float] = field(default_factory=dict)  # seq -> publish → ack seconds
    delivered: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # publish → delivery seconds
    refused: list[dict[str, Any]] = field(default_factory=list)
    _sent_at: dict[str, float] = field(default_factory=dict)

    async def publish_forever(self) -> None:
        n = 0
        while True:
            n += 1
            ident = f"bystander-{n}-{time.monotonic_ns()}"
            alert = seizure_alert(distribution={"countries": ["TG"]}, summary=ident)
            started = time.monotonic()
            self._sent_at[ident] = started
            reply = await self.publisher.publish(alert, ident=ident)
            if reply["type"] == "ack":
                self.acked[reply["seq"]] = time.monotonic() - started
            else:
                self.refused.append(reply)
            await asyncio.sleep(self.interval)

    async def receive_forever(self) -> None:
        while True:
            frame = await self.subscriber.recv_until(lambda f: f["type"] == "alert", timeout=600)
            self.delivered.append(frame["seq"])
            sent = self._sent_at.get(frame["alert"]["summary"])
            if sent is not None:
                self.latencies.append(time.monotonic() - sent)

    def p99(self, values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0

    def check(self, *, min_acks: int, max_p99: float) -> None:
        """Every ack delivered exactly once, in order; the latency stayed bounded."""
        assert not self.refused, self.refused[:3]
        assert len(self.acked) >= min_acks, f"only {len(self.acked)} acks during the attack"
        assert sorted(self.acked) == sorted(set(self.delivered) & set(self.acked))
        assert self.delivered == sorted(set(self.delivered)), "a delivery repeated or out of order"
        assert self.p99(list(self.acked.values())) < max_p99, sorted(self.acked.values())[-5:]
        assert self.p99(self.latencies) < max_p99, sorted(self.latencies)[-5:]


@contextlib.asynccontextmanager
async def bystander(relay: RelayProcess, dsn: str) -> AsyncIterator[Bystander]:
    """A bystander at work for the duration of the block; its last acks are awaited."""
    _, publisher_token = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, subscriber_token = await create_unit(dsn, unique_unit("TG"), country="TG")
    async with stream_client(relay, publisher_token) as publisher, \
            stream_client(relay, subscriber_token) as subscriber:
        await subscriber.subscribe()
        watcher = Bystander(publisher, subscriber)
        tasks = [asyncio.create_task(watcher.publish_forever()),
                 asyncio.create_task(watcher.receive_forever())]
        try:
            yield watcher
            deadline = time.monotonic() + 10
            while set(watcher.acked) - set(watcher.delivered) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class Attacker:
    """TCP connections from the attacker's address, all closed at the end of the block."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def connect(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                      local_addr=(ATTACKER, 0))
        self.writers.append(writer)
        return reader, writer

    async def __aenter__(self) -> Attacker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for writer in self.writers:
            writer.close()
        for writer in self.writers:
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()


def attacker_socket(port: int) -> socket.socket:
    """A blocking socket connected from the attacker's address (for floods)."""
    sock = socket.socket()
    sock.bind((ATTACKER, 0))
    sock.connect(("127.0.0.1", port))
    return sock


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the peer closes the connection within ``seconds`` (data is read away)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True
