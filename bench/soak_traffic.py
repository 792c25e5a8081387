"""The ordinary traffic of the soak (bench/soak.py), and what it counts.

Publishers post alerts through the client library (resent with the same key until
acknowledged, as an officer's outbox does); subscribers read their live feed over raw
connections and resume with ``since`` after every drop, so that a repeated or missing
event is the relay's, not hidden by a client; a responder answers some alerts with
receipts. Each alert carries its key, its audience and its send time in ``ext``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from clients.backoff import Backoff
from clients.client import RelayClient
from clients.connection import ClientError, Connection, Rejected

# Who may see an alert of each audience: the tag goes in ext.to.
AUDIENCES = ("tg", "all", "red")


def soak_alert(key: str, audience: str, red_unit: str) -> dict[str, Any]:
    distribution: dict[str, Any] = {
        "tg": {"countries": ["TG"]}, "all": {"all": True}, "red": {"units": [red_unit]},
    }[audience]
    return {
        "kind": "seizure", "priority": "urgent", "tlp": "red" if audience == "red" else "amber",
        "distribution": distribution, "sent_at": "2026-12-01T09:30:00Z", "location": "LFW",
        "occurred_at": "2026-12-01T07:55:00Z",
        "summary": f"Soak {key}: 2.4 kg of cocaine in ingested pellets, arriving from GRU via ADD.",
        "seizures": [{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"}],
        "concealment": "ingested", "detection": "body_scanner",
        "ext": {"soak": key, "to": audience, "t0": time.monotonic_ns()},
    }


def fast_backoff() -> Backoff:
    return Backoff(initial=0.05, maximum=1.0)


@dataclass
class Publisher:
    """One unit posting ``rate`` alerts a second over ``lanes`` concurrent publishes."""

    name: str
    url: str
    token: str
    red_unit: str
    rate: float
    lanes: int = 2
    acked: dict[str, int] = field(default_factory=dict)  # key -> seq
    audiences: dict[str, str] = field(default_factory=dict)  # key -> audience, of every send
    duplicate_acks: int = 0
    rejected: list[str] = field(default_factory=list)
    sent: int = 0
    stopping: bool = False

    async def run(self) -> None:
        async with RelayClient(self.url, self.token, backoff=fast_backoff(),
                               reply_timeout=10) as client:
            await asyncio.gather(*(self._lane(client, lane) for lane in range(self.lanes)))

    async def _lane(self, client: RelayClient, lane: int) -> None:
        n = 0
        interval = self.lanes / self.rate
        while not self.stopping:
            started = time.monotonic()
            key = f"{self.name}-{lane}-{n}"
            audience = AUDIENCES[n % len(AUDIENCES)]
            n += 1
            self.sent += 1
            self.audiences[key] = audience
            try:
                ack = await client.publish(soak_alert(key, audience, self.red_unit), key)
            except Rejected as exc:
                self.rejected.append(f"{key}: {exc.code}")
                continue
            self.acked[key] = ack.seq
            self.duplicate_acks += ack.duplicate
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


@dataclass
class Subscriber:
    """A unit's live feed; every alert frame it gets is recorded, repeats included."""

    name: str
    url: str
    token: str
    sees: frozenset[str]  # the audiences it may see
    received: dict[str, int] = field(default_factory=dict)  # key -> seq
    repeated: int = 0  # a seq delivered again
    out_of_order: int = 0  # a seq lower than one already delivered, not seen before
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent, seconds)
    reconnects: int = 0
    last: int | None = None
    stopping: bool = False
    on_alert: asyncio.Queue[str] | None = None  # alert ids, for the responder
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        backoff = fast_backoff()
        while not self.stopping:
            try:
                connection = await Connection.open(self.url, self.token, timeout=5)
            except ClientError:
                await asyncio.sleep(backoff.next_delay())
                continue
            backoff.reset()
            try:
                await self._read(connection)
            except ClientError:
                self.reconnects += 1
            finally:
                await connection.close()

    async def _read(self, connection: Connection) -> None:
        if self.last is None:
            self.last = int(connection.welcome["head"])
        reply = await connection.request({"type": "subscribe", "since": self.last}, timeout=15)
        if reply["type"] != "subscribed":
            await asyncio.sleep(0.2)
            return
        self.subscribed.set()
        while True:
            event = await connection.next_event()
            if event["type"] != "alert":
                continue
            self._record(event)

    def _record(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        ext = event["alert"].get("ext", {})
        key = ext.get("soak")
        if key in self.received:
            self.repeated += 1
        elif self.last is not None and seq <= self.last:
            self.out_of_order += 1
        if key is not None and key not in self.received:
            self.received[key] = seq
            sent = ext["t0"] / 1e9
            self.latencies.append((sent, time.monotonic() - sent))
            if self.on_alert is not None and len(self.received) % 10 == 0:
                with contextlib.suppress(asyncio.QueueFull):
                    self.on_alert.put_nowait(event["alert"]["alert_id"])
        self.last = max(self.last or 0, seq)


@dataclass
class Responder:
    """Answers alerts with a receipt, resent with the same key until acknowledged."""

    url: str
    token: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(1000))
    acked: set[str] = field(default_factory=set)  # alert ids answered
    rejected: list[str] = field(default_factory=list)

    async def run(self) -> None:
        async with RelayClient(self.url, self.token, backoff=fast_backoff(),
                               reply_timeout=10) as client:
            while True:
                alert_id = await self.queue.get()
                try:
                    await client.receipt(alert_id, "received", note="vu au poste frontière")
                    self.acked.add(alert_id)
                except Rejected as exc:
                    self.rejected.append(f"{alert_id}: {exc.code}")
                finally:
                    self.queue.task_done()
