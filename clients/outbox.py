"""The durable outbox of a terminal: every alert is on disk before it is sent.

An officer's alert is first written to a local SQLite file with its idempotency key,
then sent, and resent with the same key until the relay acknowledges it, across process
restarts, relay restarts and hours offline. Because the key never changes, the relay
stores it once however many times it is sent (protocol.md, Idempotency).

States of an entry:

- ``queued``: stored here, not yet handed to the relay;
- ``sent``: handed to the relay at least once, no ack yet (it will be resent);
- ``acknowledged``: the relay's ack is kept (``seq``, ``alert_id``, ``duplicate``);
- ``rejected``: a final error; the relay's error object is kept for the officer to fix
  the alert and post it again (a new entry).

The file uses WAL with ``synchronous=FULL``: once :meth:`Outbox.add` returns, the entry
survives a power cut. Several processes may use one outbox at once (SQLite locks it).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from relay.contract.times import rfc3339

__all__ = ["STATES", "Entry", "Outbox", "State"]

State = Literal["queued", "sent", "acknowledged", "rejected"]
STATES: Final[tuple[State, ...]] = ("queued", "sent", "acknowledged", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    number       INTEGER PRIMARY KEY AUTOINCREMENT,
    key          TEXT NOT NULL UNIQUE,
    alert        TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'acknowledged', 'rejected')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    seq          INTEGER,
    alert_id     TEXT,
    duplicate    INTEGER,
    error        TEXT,
    last_problem TEXT
)
"""
_COLUMNS = ("number, key, alert, state, created_at, updated_at, attempts, seq, alert_id, "
            "duplicate, error, last_problem")


def _now() -> str:
    return rfc3339(datetime.now(UTC))


@dataclass(frozen=True)
class Entry:
    """One alert of the outbox and what became of it."""

    number: int
    key: str
    alert: dict[str, Any]
    state: State
    created_at: str
    updated_at: str
    attempts: int
    seq: int | None
    alert_id: str | None
    duplicate: bool | None
    error: dict[str, Any] | None
    last_problem: str | None

    @property
    def pending(self) -> bool:
        """Still to be (re)sent: queued or sent without an ack."""
        return self.state in ("queued", "sent")


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        number=row["number"], key=row["key"], alert=json.loads(row["alert"]),
        state=row["state"], created_at=row["created_at"], updated_at=row["updated_at"],
        attempts=row["attempts"], seq=row["seq"], alert_id=row["alert_id"],
        duplicate=None if row["duplicate"] is None else bool(row["duplicate"]),
        error=None if row["error"] is None else json.loads(row["error"]),
        last_problem=row["last_problem"])


class Outbox:
    """A terminal's outbox in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, alert: dict[str, Any], key: str | None = None) -> Entry:
        """Store ``alert`` as queued under a new idempotency key (or ``key``)."""
        key = str(uuid.uuid4()) if key is None else key
        if not 1 <= len(key) <= 64:
            raise ValueError("an idempotency key has 1 to 64 characters")
        now = _now()
        with self._transaction() as db:
            db.execute("INSERT INTO outbox (key, alert, state, created_at, updated_at) "
                       "VALUES (?, ?, 'queued', ?, ?)",
                       (key, json.dumps(alert, ensure_ascii=False), now, now))
        return self.get(key)

    def get(self, ref: str | int) -> Entry:
        """The entry with this key or number; KeyError if there is none."""
        column = "number" if isinstance(ref, int) else "key"
        row = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE {column} = ?",
                               (ref,)).fetchone()
        if row is None:
            raise KeyError(ref)
        return _entry(row)

    def entries(self, *states: State) -> list[Entry]:
        """Entries in the order they were posted, all or those in ``states``."""
        chosen = states or STATES
        marks = ", ".join("?" for _ in chosen)
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE state IN ({marks}) "
                                "ORDER BY number", chosen).fetchall()
        return [_entry(row) for row in rows]

    def pending(self) -> list[Entry]:
        """What is still to be sent, oldest first (the order the relay must receive it)."""
        return self.entries("queued", "sent")

    def mark_sent(self, key: str) -> None:
        """One more attempt is on its way (does not undo an ack or a rejection)."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = ? "
                       "WHERE key = ? AND state IN ('queued', 'sent')", (_now(), key))

    def mark_acknowledged(self, key: str, *, seq: int, alert_id: str, duplicate: bool) -> None:
        """Keep the relay's ack; the first one recorded stays (a second flusher's resend
        of the same key is acknowledged as a duplicate of it and changes nothing)."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'acknowledged', seq = ?, alert_id = ?, "
                       "duplicate = ?, error = NULL, last_problem = NULL, updated_at = ? "
                       "WHERE key = ? AND state <> 'acknowledged'",
                       (seq, alert_id, int(duplicate), _now(), key))

    def mark_rejected(self, key: str, error: dict[str, Any]) -> None:
        """A final error: kept with the entry; the alert is not sent again."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'rejected', error = ?, updated_at = ? "
                       "WHERE key = ? AND state <> 'acknowledged'",
                       (json.dumps(error, ensure_ascii=False), _now(), key))

    def note_problem(self, key: str, problem: str) -> None:
        """Why the last attempt got no ack (unreachable, rate limited...); state unchanged."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET last_problem = ?, updated_at = ? WHERE key = ?",
                       (problem, _now(), key))
