"""The protection jobs and records in the database (protection.md, docs/protection.md).

- :func:`run_jobs`: masking (passenger alerts older than ``mask_after_days``) and
  reduction (every alert older than ``delete_after_days``), in batches of ``batch``
  alerts per short transaction: several relay processes (and ``relay protection run``)
  may run them at once, each alert is changed once, and the jobs never take the head
  that publishing locks; between batches they pause, longer while this process's
  publish commits are slow (:func:`pace_of`, relay.protection.pacing). Masking inserts
  a mark in ``relay_masks`` (migration 011; a mark taken twice conflicts, the first
  stays); sealing and reduction rewrite event rows, taken with ``FOR UPDATE SKIP
  LOCKED``. All are idempotent: what is done is not done again.
- holds (:func:`place_hold`, :func:`list_holds`): an alert kept out of both until a date.
- :func:`personal_of`: what re-identification reads.
- :func:`rewrap_keys` and :func:`key_usage`: key rotation and which keys are in use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from relay import protection
from relay.contract.personal import audit_part, remove_personal
from relay.contract.times import rfc3339
from relay.contract.wire import encode_body
from relay.protection.pacing import CommitWatch, Pace
from relay.protection.reveal import PROTECTION_COLUMNS, masked_at_of

__all__ = [
    "Hold",
    "JobSettings",
    "RunResult",
    "key_usage",
    "list_holds",
    "pace_of",
    "personal_of",
    "place_hold",
    "rewrap_keys",
    "run_jobs",
]

Connection = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True, slots=True)
class JobSettings:
    mask_after_days: int
    delete_after_days: int
    shred_on_mask: bool
    batch: int
    pause_ratio: float = 1.0  # after each full batch, a pause this many times as long
    yield_above_seconds: float = 0.02  # a publish commit slower than this slows the jobs down
    max_slowdown: float = 8.0  # at most this many times the pause (relay.protection.pacing)


@dataclass(frozen=True, slots=True)
class RunResult:
    masked: int = 0
    reduced: int = 0
    shredded: int = 0  # data keys destroyed (at masking with shred_on_mask, or reduction)
    sealed: int = 0  # alerts stored before protection, sealed in place

    def __add__(self, other: RunResult) -> RunResult:
        return RunResult(self.masked + other.masked, self.reduced + other.reduced,
                         self.shredded + other.shredded, self.sealed + other.sealed)


_NOT_HELD = ("NOT EXISTS (SELECT 1 FROM relay_holds h WHERE h.until > $1"
             " AND (h.alert_id = e.alert_id OR h.alert_id = e.refs))")


async def run_jobs(pool: asyncpg.Pool, settings: JobSettings, *, now: datetime,
                   run_by: str, pace: Pace | None = None) -> RunResult:
    """Seal what history still holds in clear, mask, then reduce, everything due at
    ``now``; record the run if it changed anything. ``pace`` (:func:`pace_of`): how the
    run gives way to this process's publishing, and afterwards how far it slowed down."""
    if pace is None:
        pace = pace_of(settings)
    total = await _repeat(_seal_batch, "sealed", pool, settings, now, pace)
    total += await _mask(pool, settings, now, pace)
    total += await _repeat(_reduce_batch, "reduced", pool, settings, now, pace)
    if total.masked or total.reduced or total.sealed:
        await pool.execute(
            "INSERT INTO relay_protection_runs (as_of, run_by, masked, reduced, shredded, sealed)"
            " VALUES ($1, $2, $3, $4, $5, $6)", now, run_by, total.masked, total.reduced,
            total.shredded, total.sealed)
    return total


def pace_of(settings: JobSettings, commits: CommitWatch | None = None) -> Pace:
    """A run's pace, watching ``commits`` (this process's publish commits, on the
    ``time.monotonic`` clock) from now on: a slow commit before the run does not slow it."""
    watch = commits if commits is not None else CommitWatch()
    watch.take_worst(time.monotonic())
    return Pace(pause_ratio=settings.pause_ratio, yield_above=settings.yield_above_seconds,
                max_slowdown=settings.max_slowdown, watch=watch)


async def _repeat(step: Callable[[asyncpg.Pool, JobSettings, datetime], Awaitable[RunResult]],
                  count: str, pool: asyncpg.Pool, settings: JobSettings, now: datetime,
                  pace: Pace) -> RunResult:
    """``step`` again and again until it does less than a batch of ``count``."""
    total = RunResult()
    while True:
        started = time.monotonic()
        done = await step(pool, settings, now)
        total += done
        if getattr(done, count) < settings.batch:
            return total
        await _pause(started, pace)


async def _pause(started: float, pace: Pace) -> None:
    """Yield the database to publishing between batches: a catch-up of a million alerts
    spreads its writes instead of flooding the write-ahead log, and slows down further
    while publishers' commits are slow."""
    now = time.monotonic()
    await asyncio.sleep(pace.pause_after(now - started, now))


async def _without_waiting_for_the_disk(conn: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
    """A job's transaction commits without waiting for its flush to disk (the server's
    WAL writer flushes it within a fraction of a second). Each batch is otherwise one more
    flush that publishers' commits queue behind. Nothing is lost that matters: a batch
    lost in a crash of the server is done again by the next run (the relay runs the jobs
    as it starts), the jobs being idempotent; and the run's record, committed as usual
    after its batches, is on disk only with all of them (the log is written in order)."""
    await conn.execute("SET LOCAL synchronous_commit = off")


async def _seal_batch(pool: asyncpg.Pool, settings: JobSettings, now: datetime) -> RunResult:
    """Alerts stored before protection, sealed in place (Sealer.seal_legacy); one that
    holds no personal field is only marked. A masked one with ``shred_on_mask`` keeps
    nothing but its body without the fields."""
    sealer = protection.active().sealer
    async with pool.acquire() as conn, conn.transaction():
        await _without_waiting_for_the_disk(conn)
        rows = await conn.fetch(
            f"SELECT seq, alert_id::text AS alert_id, body_json, {masked_at_of('relay_events')}"
            " FROM relay_events"
            " WHERE kind = 'alert' AND chain_version = 1 AND sealed_at IS NULL AND reduced_at IS NULL"
            " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED", settings.batch)
        if not rows:
            return RunResult()
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for row in rows:
            sealed = sealer.seal_legacy(row["alert_id"], bytes(row["body_json"]))
            if sealed is None:
                values: tuple[Any, ...] = (row["seq"], bytes(row["body_json"]), None, None, None, None)
            elif row["masked_at"] is not None and settings.shred_on_mask:
                values = (row["seq"], sealed.body_json, sealed.body_msgpack, None, None, None)
            else:
                values = (row["seq"], sealed.body_json, sealed.body_msgpack, sealed.key_id,
                          sealed.wrapped_key, sealed.personal)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        await conn.execute(
            "UPDATE relay_events e SET sealed_at = now(), body_json = coalesce(r.body_json, e.body_json),"
            " body_msgpack = coalesce(r.body_msgpack, e.body_msgpack), key_id = r.key_id,"
            " wrapped_key = r.wrapped_key, personal = r.personal"
            " FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::bytea[],"
            " $6::bytea[]) AS r(seq, body_json, body_msgpack, key_id, wrapped_key, personal)"
            " WHERE e.seq = r.seq", *columns)
    return RunResult(sealed=len(rows))


@dataclass(frozen=True, slots=True)
class _Position:
    """Where the masking walk stands in (received_at, seq) order: every passenger alert
    before it was masked, held or reduced when the walk passed it."""
    received_at: datetime
    seq: int


_START = _Position(datetime.min.replace(tzinfo=UTC), 0)


async def _mask(pool: asyncpg.Pool, settings: JobSettings, now: datetime, pace: Pace) -> RunResult:
    """Every passenger alert due, masked: batch after batch, each from where the last one
    stopped, so that a run reads the alerts masked before it once (relay_masks holds the
    marks; the event rows are not written, except to destroy data keys with
    ``shred_on_mask``)."""
    total, after = RunResult(), _START
    while True:
        started = time.monotonic()
        done, went_to = await _mask_batch(pool, settings, now, after)
        total += done
        if went_to is None:
            return total
        after = went_to
        await _pause(started, pace)


async def _mask_batch(pool: asyncpg.Pool, settings: JobSettings, now: datetime,
                      after: _Position) -> tuple[RunResult, _Position | None]:
    """The next batch of unmasked passenger alerts due after ``after``, masked but for
    those held; and where the walk goes on (None: it found fewer than a batch, so none is
    left). Another process masking the same alerts at once makes a mark conflict: the
    first one's stays, and it is counted there."""
    async with pool.acquire() as conn, conn.transaction():
        await _without_waiting_for_the_disk(conn)
        rows = await conn.fetch(
            # unmarked: from the index and relay_masks alone (an index-only scan: the rows
            # already masked are passed without reading the event rows); then the holds
            f"WITH unmarked AS (SELECT p.seq, p.received_at FROM relay_events p"
            f"  WHERE p.kind = 'alert' AND p.alert_kind = 'passenger' AND p.reduced_at IS NULL"
            f"  AND p.received_at <= $2 AND (p.received_at, p.seq) > ($4, $5)"
            f"  AND NOT EXISTS (SELECT 1 FROM relay_masks m WHERE m.seq = p.seq)"
            f"  ORDER BY p.received_at, p.seq LIMIT $3),"
            f" due AS (SELECT e.seq FROM unmarked u JOIN relay_events e ON e.seq = u.seq"
            f"  WHERE {_NOT_HELD}),"
            f" marked AS (INSERT INTO relay_masks (seq, masked_at) SELECT seq, $1 FROM due"
            f"  ORDER BY seq ON CONFLICT (seq) DO NOTHING RETURNING seq)"
            f" SELECT u.seq, u.received_at, marked.seq IS NOT NULL AS masked FROM unmarked u"
            f" LEFT JOIN marked ON marked.seq = u.seq ORDER BY u.received_at, u.seq",
            now, now - timedelta(days=settings.mask_after_days), settings.batch,
            after.received_at, after.seq)
        masked = [row["seq"] for row in rows if row["masked"]]
        shredded = 0
        if settings.shred_on_mask and masked:
            shredded = int(await conn.fetchval(
                "WITH shred AS (UPDATE relay_events SET wrapped_key = NULL, personal = NULL"
                " WHERE seq = ANY($1::bigint[]) AND wrapped_key IS NOT NULL RETURNING seq)"
                " SELECT count(*) FROM shred", masked))
    if len(rows) < settings.batch:
        return RunResult(masked=len(masked), shredded=shredded), None
    last = rows[-1]
    return (RunResult(masked=len(masked), shredded=shredded),
            _Position(last["received_at"], last["seq"]))


async def _reduce_batch(pool: asyncpg.Pool, settings: JobSettings, now: datetime) -> RunResult:
    async with pool.acquire() as conn, conn.transaction():
        await _without_waiting_for_the_disk(conn)
        rows = await conn.fetch(
            f"SELECT seq, body_json, wrapped_key IS NOT NULL AS keyed FROM relay_events e"
            f" WHERE kind = 'alert' AND reduced_at IS NULL AND received_at <= $2 AND {_NOT_HELD}"
            f" ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED",
            now, now - timedelta(days=settings.delete_after_days), settings.batch)
        if not rows:
            return RunResult()
        seqs, jsons, packs = [], [], []
        for row in rows:
            kept = audit_part(remove_personal(orjson.loads(row["body_json"])))
            body_json, body_msgpack = encode_body(kept)
            seqs.append(row["seq"])
            jsons.append(body_json)
            packs.append(body_msgpack)
        await conn.execute(
            "UPDATE relay_events e SET body_json = r.body_json, body_msgpack = r.body_msgpack,"
            " reduced_at = $4, wrapped_key = NULL, personal = NULL, airports = '{}',"
            " countries = '{}', commodities = '{}'"
            " FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS r(seq, body_json, body_msgpack)"
            " WHERE e.seq = r.seq", seqs, jsons, packs, now)
    return RunResult(reduced=len(rows), shredded=sum(1 for r in rows if r["keyed"]))


# -- holds ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: int
    alert_id: str
    reason: str
    until: datetime
    placed_by: str
    placed_at: datetime

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {"hold_id": self.hold_id, "alert_id": self.alert_id, "reason": self.reason,
                "until": rfc3339(self.until), "placed_by": self.placed_by,
                "placed_at": rfc3339(self.placed_at), "active": self.until > now}


def _hold(row: asyncpg.Record) -> Hold:
    return Hold(row["hold_id"], str(row["alert_id"]), row["reason"], row["until"],
                row["placed_by"], row["placed_at"])


async def place_hold(conn: Connection, *, alert_id: str, reason: str, until: datetime,
                     placed_by: str) -> Hold | None:
    """Hold ``alert_id`` (None: there is no such alert)."""
    row = await conn.fetchrow(
        "INSERT INTO relay_holds (alert_id, reason, until, placed_by)"
        " SELECT $1::uuid, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM relay_events"
        "  WHERE kind = 'alert' AND alert_id = $1::uuid)"
        " RETURNING hold_id, alert_id, reason, until, placed_by, placed_at",
        alert_id, reason, until, placed_by)
    return None if row is None else _hold(row)


async def list_holds(conn: Connection, *, alert_id: str | None = None,
                     limit: int = 1000) -> list[Hold]:
    """Holds, newest first (of one alert if given)."""
    rows = await conn.fetch(
        "SELECT hold_id, alert_id, reason, until, placed_by, placed_at FROM relay_holds"
        " WHERE $1::uuid IS NULL OR alert_id = $1::uuid ORDER BY hold_id DESC LIMIT $2",
        alert_id, limit)
    return [_hold(row) for row in rows]


# -- re-identification --------------------------------------------------------------------

async def personal_of(conn: Connection, alert_id: str) -> asyncpg.Record | None:
    """The stored alert with what re-identification needs, or None."""
    return await conn.fetchrow(
        f"SELECT seq, kind, alert_id, body_json, body_msgpack, commitments, {PROTECTION_COLUMNS}"
        " FROM relay_events WHERE kind = 'alert' AND alert_id = $1::uuid", alert_id)


# -- keys -------------------------------------------------------------------------------

async def key_usage(conn: Connection) -> dict[str, int]:
    """How many data keys each operator key still wraps."""
    rows = await conn.fetch("SELECT key_id, count(*) AS n FROM relay_events"
                            " WHERE wrapped_key IS NOT NULL GROUP BY key_id")
    return {row["key_id"]: int(row["n"]) for row in rows}


async def rewrap_keys(pool: asyncpg.Pool, *, batch: int = 1000) -> int:
    """Re-wrap every data key not wrapped under the current operator key (as it is when
    the run starts); how many. A data key under a key the file lacks stops the run
    (:class:`~relay.protection.keyring.KeyMissing`): ``relay keys rotate`` checks first."""
    sealer = protection.active().sealer
    target = sealer.keyring.current  # fixed for the whole run, whatever rotates meanwhile
    current = target.key_id
    total, after = 0, 0
    while True:  # in seq order, one batch after the other: each row is read once
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, alert_id::text AS alert_id, key_id, wrapped_key FROM relay_events"
                " WHERE seq > $3 AND wrapped_key IS NOT NULL AND key_id <> $1 ORDER BY seq"
                " LIMIT $2 FOR UPDATE", current, batch, after)  # waits for a job's short lock
            if not rows:
                return total
            rewrapped = [sealer.rewrap(r["alert_id"], r["key_id"], bytes(r["wrapped_key"]), target)
                         for r in rows]
            await conn.execute(
                "UPDATE relay_events e SET key_id = r.key_id, wrapped_key = r.wrapped_key"
                " FROM unnest($1::bigint[], $2::text[], $3::bytea[]) AS r(seq, key_id, wrapped_key)"
                " WHERE e.seq = r.seq", [r["seq"] for r in rows],
                [k for k, _ in rewrapped], [w for _, w in rewrapped])
        after = rows[-1]["seq"]
        total += len(rows)
