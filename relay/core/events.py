"""Events of the log as the relay holds them in memory.

- :class:`PendingEvent`: a validated event waiting for its seq (the writer's input) and
  the future that its ack waits on; :class:`WriteResult` is what the ack carries.
- :class:`Event`: a committed event, its facts plus its encoded body. The body is encoded
  once per encoding when the event is created (or read from the database, where both
  encodings are stored); the frame for each encoding is spliced once and cached, so every
  recipient receives the same bytes.
- :class:`StoredAlert`: what publishing needs to know of an alert already stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from relay.contract.model import AlertFacts
from relay.contract.visibility import Viewer, may_see_alert, may_see_receipt
from relay.contract.wire import Encoding, event_frame, websocket_frame

__all__ = ["Event", "PendingEvent", "StoredAlert", "WriteResult"]


@dataclass(slots=True, eq=False)
class Event:
    """One committed event. ``origin_unit`` is the alert's origin for both kinds;
    ``author_unit`` is the unit that published this event (for a receipt, its author)."""

    seq: int
    kind: str
    alert_id: str
    origin_unit: str
    author_unit: str
    facts: AlertFacts | None
    body_json: bytes | None  # None: read for the other encoding only (a replay)
    body_msgpack: bytes | None
    origin_relay: str | None = None  # the peer it came from; None: it originated here
    alert_relay: str | None = None  # a receipt: the relay its alert originated on
    _frames: dict[Encoding, bytes] = field(default_factory=dict, repr=False)
    _wire: dict[Encoding, bytes] = field(default_factory=dict, repr=False)

    def frame(self, encoding: Encoding) -> bytes:
        """The complete event frame in ``encoding`` (UTF-8 JSON text, or msgpack)."""
        cached = self._frames.get(encoding)
        if cached is None:
            body = self.body_json if encoding is Encoding.JSON else self.body_msgpack
            if body is None:
                raise ValueError(f"event {self.seq} was read without its {encoding.value} body")
            cached = self._frames[encoding] = event_frame(encoding, self.kind, self.seq, body)
        return cached

    def wire(self, encoding: Encoding) -> bytes:
        """The whole WebSocket frame carrying :meth:`frame`, identical for every recipient."""
        cached = self._wire.get(encoding)
        if cached is None:
            cached = self._wire[encoding] = websocket_frame(
                self.frame(encoding), text=encoding is Encoding.JSON
            )
        return cached

    def visible_to(self, viewer: Viewer, regions: Mapping[str, frozenset[str]]) -> bool:
        """protocol.md "Visibility", for this event."""
        if self.facts is None:
            return may_see_receipt(viewer, self.origin_unit, self.author_unit)
        return may_see_alert(viewer, self.origin_unit, self.facts, regions)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What an ack carries: the event's seq and alert_id, and whether the key was seen."""

    seq: int
    alert_id: str
    duplicate: bool


@dataclass(slots=True, eq=False)
class PendingEvent:
    """A validated event waiting for its seq. ``key`` is the client's frame id (or the
    HTTP Idempotency-Key); ``future`` resolves once the event is committed."""

    unit_id: str
    key: str
    kind: str
    alert_id: str
    origin_unit: str
    received_at: datetime
    facts: AlertFacts | None
    receipt_status: str | None
    body_json: bytes
    body_msgpack: bytes
    origin_relay: str | None = None  # from a peer: the relay it originated on
    origin_seq: int | None = None  # from a peer: its seq there
    alert_relay: str | None = None  # a receipt: the relay its alert originated on
    future: asyncio.Future[WriteResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    queued_at: float = field(default_factory=time.perf_counter)
    # The alert as it will be stored (relay.protection.sealing.Sealed), sealed when it is
    # queued, so that sealing overlaps the commit in flight instead of delaying the next.
    sealed: object | None = None

    def event(self, seq: int) -> Event:
        return Event(seq, self.kind, self.alert_id, self.origin_unit, self.unit_id,
                     self.facts, self.body_json, self.body_msgpack, self.origin_relay,
                     self.alert_relay)


@dataclass(frozen=True, slots=True)
class StoredAlert:
    alert_id: str
    seq: int
    origin_unit: str
    facts: AlertFacts
    origin_relay: str | None = None  # None: it originated on this relay
