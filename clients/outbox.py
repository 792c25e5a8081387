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
  the alert and post it again (a new entry). An entry queued under a token the relay
  then refused, and that no unit is known for, is rejected too (code ``unauthorized``).

**Whose entry it is.** Each entry keeps its ``owner``: a digest of the token that queued
it (:func:`clients.client.token_digest`; never the token), and, once a connection under
that token has been welcomed, its ``unit``. The outbox also remembers the unit of every
token the relay welcomed (:meth:`Outbox.learn`). An entry is sent only under a token of
its own unit (:meth:`Outbox.sendable`); one queued under a token whose unit is not known
is sent only under that very token. So a post with a wrong token is never sent later
under another unit's, and one queued under a token that was then revoked is still sent
with the unit's new token.

**What happened.** ``attempts`` counts the runs that tried to send the entry (a
``relay-post`` that keeps trying for ``--wait`` seconds is one), ``last_attempt_at``
says when the last one was, and ``last_error`` why it failed (reason code and params,
told in the reader's language; see :mod:`clients.errors`).

**Identical alerts.** ``fingerprint`` is the digest of the alert's content
(:func:`clients.fill_in.fingerprint`); :meth:`Outbox.identical` finds an earlier entry
still queued or acknowledged with the same one, so that a file is not queued twice.

The file uses WAL with ``synchronous=FULL``: once :meth:`Outbox.add` returns, the entry
survives a power cut. Several processes may use one outbox at once (SQLite locks it).
An outbox written by an earlier version gets the new columns on opening; its entries
have no owner and are bound to the first unit that sends them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from clients.state_file import open_state_file
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
# Added since the first version; an older file gets them when it is opened.
_ADDED_COLUMNS: Final = {
    "owner": "TEXT",            # digest of the token that queued the entry
    "unit": "TEXT",             # the unit it is sent as, once known
    "fingerprint": "TEXT",      # digest of the alert's content
    "last_error": "TEXT",       # JSON {"reason", "params"[, "error"]} of the last failure
    "last_attempt_at": "TEXT",
}
_OWNERS = """
CREATE TABLE IF NOT EXISTS owners (
    owner   TEXT PRIMARY KEY,   -- digest of a token the relay welcomed
    unit    TEXT NOT NULL,      -- the unit it welcomed it as
    seen_at TEXT NOT NULL
)
"""
_COLUMNS = ("number, key, alert, state, created_at, updated_at, attempts, seq, alert_id, "
            "duplicate, error, last_problem, owner, unit, fingerprint, last_error, "
            "last_attempt_at")
# The unit an entry is sent as: its own, else the one learnt for its owner.
_UNIT_OF_ENTRY = "COALESCE(unit, (SELECT o.unit FROM owners o WHERE o.owner = outbox.owner))"


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
    last_problem: str | None  # written by earlier versions only: an English sentence
    owner: str | None = None
    unit: str | None = None
    fingerprint: str | None = None
    last_error: dict[str, Any] | None = None
    last_attempt_at: str | None = None

    @property
    def pending(self) -> bool:
        """Still to be (re)sent: queued or sent without an ack."""
        return self.state in ("queued", "sent")


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        number=row["number"], key=row["key"], alert=json.loads(row["alert"]),
        state=row["state"], created_at=row["created_at"], updated_at=row["updated_at"],
        attempts=row["attempts"], seq=row["seq"], alert_id=row["alert_id"],
        duplicate=None if row["duplicate"] is None else bool(row["duplicate"]),
        error=_json(row["error"]), last_problem=row["last_problem"], owner=row["owner"],
        unit=row["unit"], fingerprint=row["fingerprint"], last_error=_json(row["last_error"]),
        last_attempt_at=row["last_attempt_at"])


class Outbox:
    """A terminal's outbox in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_state_file(path, synchronous="FULL")
        with self._transaction() as db:
            db.execute(_SCHEMA)
            db.execute(_OWNERS)
            present = {row["name"] for row in db.execute("PRAGMA table_info(outbox)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")

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

    def add(self, alert: dict[str, Any], *, owner: str, key: str | None = None,
            fingerprint: str | None = None) -> Entry:
        """Store ``alert`` as queued under a new idempotency key (or ``key``), as an entry
        of ``owner`` (a token digest; the unit is added once the relay names it)."""
        key = str(uuid.uuid4()) if key is None else key
        if not 1 <= len(key) <= 64:
            raise ValueError("an idempotency key has 1 to 64 characters")
        now = _now()
        with self._transaction() as db:
            db.execute("INSERT INTO outbox (key, alert, state, created_at, updated_at, owner, "
                       "fingerprint) VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                       (key, json.dumps(alert, ensure_ascii=False), now, now, owner,
                        fingerprint))
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
        """What is still to be sent, oldest first, whoever it belongs to."""
        return self.entries("queued", "sent")

    # -- whose entries ----------------------------------------------------------------

    def learn(self, owner: str, unit: str) -> None:
        """The relay welcomed the token of digest ``owner`` as ``unit``."""
        with self._transaction() as db:
            db.execute("INSERT INTO owners (owner, unit, seen_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (owner) DO UPDATE SET unit = excluded.unit, "
                       "seen_at = excluded.seen_at", (owner, unit, _now()))

    def unit_of(self, owner: str) -> str | None:
        """The unit the relay welcomed this token as, if it ever did here."""
        row = self._db.execute("SELECT unit FROM owners WHERE owner = ?", (owner,)).fetchone()
        return None if row is None else str(row["unit"])

    def unit_of_entry(self, entry: Entry) -> str | None:
        """The unit ``entry`` is to be sent as: its own, else its owner's, if known."""
        if entry.unit is not None:
            return entry.unit
        return None if entry.owner is None else self.unit_of(entry.owner)

    def sendable(self, owner: str) -> list[Entry]:
        """The pending entries a connection under the token ``owner`` may send, oldest
        first: those of its unit (if the relay ever named it), those queued under this
        very token, and those an earlier version queued with no owner."""
        unit = self.unit_of(owner)
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state IN ('queued', 'sent') AND ("
            f" {_UNIT_OF_ENTRY} = ? OR (owner = ? AND {_UNIT_OF_ENTRY} IS NULL)"
            " OR (owner IS NULL AND unit IS NULL)) ORDER BY number",
            (unit, owner)).fetchall()
        return [_entry(row) for row in rows]

    def has_work_for(self, owner: str) -> bool:
        """Whether a connection under the token ``owner`` may have entries to send: some
        are :meth:`sendable`, or the token's unit is not known here yet and pending
        entries of a known unit may be its (a unit's new token, after a revocation)."""
        if self.sendable(owner):
            return True
        return self.unit_of(owner) is None and any(
            self.unit_of_entry(entry) is not None for entry in self.pending())

    def held(self, owner: str) -> list[Entry]:
        """The pending entries the token ``owner`` may not send: another unit's, or
        queued under another token whose unit is not known."""
        mine = {entry.key for entry in self.sendable(owner)}
        return [entry for entry in self.pending() if entry.key not in mine]

    def refuse_owner(self, owner: str, error: dict[str, Any]) -> list[Entry]:
        """The relay refused the token ``owner``: its pending entries that no unit is
        known for become rejected with ``error`` and are returned. They were never
        accepted under any unit, so they must not wait to be sent under another."""
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT key FROM outbox WHERE state IN ('queued', 'sent') AND owner = ?"
                f" AND {_UNIT_OF_ENTRY} IS NULL", (owner,)).fetchall()
            keys = [row["key"] for row in rows]
            db.executemany("UPDATE outbox SET state = 'rejected', error = ?, updated_at = ? "
                           "WHERE key = ?",
                           [(json.dumps(error, ensure_ascii=False), _now(), key) for key in keys])
        return [self.get(key) for key in keys]

    # -- identical alerts ---------------------------------------------------------------

    def identical(self, fingerprint: str) -> Entry | None:
        """The latest entry with this content that is queued, sent or acknowledged."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE fingerprint = ? AND state <> 'rejected' "
            "ORDER BY number DESC LIMIT 1", (fingerprint,)).fetchone()
        return None if row is None else _entry(row)

    def find_alert(self, alert_id: str) -> Entry | None:
        """The acknowledged entry the relay gave ``alert_id``."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE alert_id = ? "
                               "AND state = 'acknowledged'", (alert_id,)).fetchone()
        return None if row is None else _entry(row)

    def alert_ids_ending(self, suffix: str) -> list[str]:
        """The acknowledged alert ids that end with ``suffix``."""
        rows = self._db.execute("SELECT alert_id FROM outbox WHERE state = 'acknowledged' "
                                "AND substr(alert_id, -?) = ? ORDER BY number",
                                (len(suffix), suffix)).fetchall()
        return [str(row["alert_id"]) for row in rows]

    # -- what happened -------------------------------------------------------------------

    def mark_sent(self, key: str, *, unit: str | None = None) -> None:
        """One more attempt is on its way, as ``unit`` (does not undo an ack or a
        rejection; an entry's unit, once set, is kept)."""
        now = _now()
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'sent', attempts = attempts + 1, "
                       "updated_at = ?, last_attempt_at = ?, unit = COALESCE(unit, ?) "
                       "WHERE key = ? AND state IN ('queued', 'sent')", (now, now, unit, key))

    def mark_acknowledged(self, key: str, *, seq: int, alert_id: str, duplicate: bool) -> None:
        """Keep the relay's ack; the first one recorded stays (a second flusher's resend
        of the same key is acknowledged as a duplicate of it and changes nothing)."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'acknowledged', seq = ?, alert_id = ?, "
                       "duplicate = ?, error = NULL, last_problem = NULL, last_error = NULL, "
                       "updated_at = ? WHERE key = ? AND state <> 'acknowledged'",
                       (seq, alert_id, int(duplicate), _now(), key))

    def mark_rejected(self, key: str, error: dict[str, Any]) -> None:
        """A final error: kept with the entry; the alert is not sent again."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'rejected', error = ?, updated_at = ? "
                       "WHERE key = ? AND state <> 'acknowledged'",
                       (json.dumps(error, ensure_ascii=False), _now(), key))

    def note_problem(self, key: str, problem: dict[str, Any]) -> None:
        """Why the last attempt got no ack (``{"reason", "params"}``: unreachable, rate
        limited...); state and attempts unchanged."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET last_error = ?, updated_at = ? WHERE key = ?",
                       (json.dumps(problem, ensure_ascii=False), _now(), key))

    def note_failed_attempt(self, keys: Sequence[str], problem: dict[str, Any]) -> None:
        """A run tried to send these pending entries and could not reach the relay: one
        more attempt each, now, and why."""
        now = _now()
        text = json.dumps(problem, ensure_ascii=False)
        with self._transaction() as db:
            db.executemany("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, "
                           "last_error = ?, updated_at = ? WHERE key = ? "
                           "AND state IN ('queued', 'sent')",
                           [(now, text, now, key) for key in keys])
