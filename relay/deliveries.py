"""Delivery records: which unit received which alert, and when (to the second).

The hub calls :meth:`DeliveryRecorder.record` for every alert frame it writes (live or
replayed). Records wait in memory, deduplicated per (seq, unit) keeping the first time,
and a background task writes them in one statement every ``interval`` seconds. The
buffer is bounded: past ``max_pending`` records new ones are dropped and counted
(``relay_delivery_records_dropped_total``), so a long database outage cannot exhaust
memory; the alerts themselves are never affected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog

__all__ = ["DeliveryRecorder"]
_log = structlog.get_logger("relay.deliveries")


class DeliveryRecorder:
    def __init__(self, pool: asyncpg.Pool, *, interval: float = 1.0, max_pending: int = 1_000_000,
                 on_dropped: Callable[[int], None] = lambda count: None,
                 clock: Callable[[], float] = time.time) -> None:
        self._pool = pool
        self._interval = interval
        self._max_pending = max_pending
        self._on_dropped = on_dropped
        self._clock = clock
        self._pending: dict[tuple[int, str], int] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, seq: int, unit_id: str) -> None:
        """Note that ``unit_id`` was sent alert ``seq`` now (cheap: a dict entry)."""
        key = (seq, unit_id)
        if key in self._pending:
            return
        if len(self._pending) >= self._max_pending:
            self._on_dropped(1)
            return
        self._pending[key] = int(self._clock())

    async def run(self) -> None:
        """Background task: flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        """Write what is pending; on failure keep it for the next round."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        seqs = [seq for seq, _ in batch]
        units = [unit for _, unit in batch]
        times = [datetime.fromtimestamp(moment, UTC) for moment in batch.values()]
        try:
            await self._pool.execute(
                "INSERT INTO relay_deliveries (seq, unit_id, delivered_at)"
                " SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])"
                " ON CONFLICT DO NOTHING", seqs, units, times)
        except Exception as exc:  # noqa: BLE001 - store down: keep the records, retry later
            _log.warning("delivery_flush_failed", records=len(batch), error=type(exc).__name__)
            for key, moment in batch.items():
                if len(self._pending) < self._max_pending:
                    self._pending.setdefault(key, moment)
