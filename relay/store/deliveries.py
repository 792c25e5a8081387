"""Delivery records: which unit received which alert, and when (to the second).

The hub calls :meth:`DeliveryRecorder.record` once per alert with the units it wrote
the alert to (live), and a replaying session once per alert it replays. Records wait in memory, grouped by (seq, second) with each unit once, and a
background task writes them every ``interval`` seconds with one COPY into
``relay_delivery_groups`` (sql/migrations/007): one row per alert and second, with its units as an
array, so the write grows with the alerts, not with alerts × recipients. The view
``relay_deliveries`` gives each unit's first delivery. The buffer is bounded: past
``max_pending`` records new ones are dropped and counted
(``relay_delivery_records_dropped_total``), so a long database outage cannot exhaust
memory; the alerts themselves are never affected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
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
        self._pending: dict[tuple[int, int], set[str]] = {}
        self._count = 0

    @property
    def pending(self) -> int:
        return self._count

    def record(self, seq: int, unit_ids: Iterable[str]) -> None:
        """Note that alert ``seq`` was sent to ``unit_ids`` now: called once per alert
        with all its recipients (one clock read, one set update; no I/O)."""
        units = self._pending.setdefault((seq, int(self._clock())), set())
        for unit_id in unit_ids:
            if unit_id in units:
                continue
            if self._count >= self._max_pending:
                self._on_dropped(1)
                continue
            units.add(unit_id)
            self._count += 1

    async def run(self) -> None:
        """Background task: flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        """Write what is pending; on failure keep it for the next round."""
        if not self._pending:
            return
        batch, self._pending, count, self._count = self._pending, {}, self._count, 0
        rows = [(seq, datetime.fromtimestamp(second, UTC), sorted(units))
                for (seq, second), units in batch.items() if units]
        try:
            await self._pool.copy_records_to_table(
                "relay_delivery_groups", records=rows, columns=["seq", "delivered_at", "units"])
        except Exception as exc:  # noqa: BLE001 - store down: keep the records, retry later
            _log.warning("delivery_flush_failed", records=count, error=type(exc).__name__)
            for key, units in batch.items():
                kept = self._pending.setdefault(key, set())
                for unit_id in units - kept:
                    if self._count >= self._max_pending:
                        return
                    kept.add(unit_id)
                    self._count += 1
