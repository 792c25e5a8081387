"""What a feed has shown, so that an officer can name an alert the way the feed did.

Alert ids are UUIDv7: their first characters are the time the relay received the alert,
so alerts close in time share them, and the relay's generator counts up in the middle
ones within a millisecond. Their last 32 bits are random. The **short form** of an alert
id is therefore its last :data:`SHORT_LENGTH` hex characters:
``01a2075c-5693-7605-b6d4-8105684fa456`` is shown as ``684fa456``.

``relay-feed`` records each alert line it shows in ``STATE_DIR/feed-shown.sqlite3``
(:class:`ShownAlerts`): the event's seq, the alert id, its origin unit and, for the
feed's own unit's alerts, the alert itself (so that a cancel or an update can be built
from it on this terminal). :meth:`ShownAlerts.resolve` then turns what an officer
types into an alert id:

- a whole alert id: itself (the feed need not have shown it);
- ``#SEQ``: the alert the feed showed with that seq;
- a short form, or any ending of an alert id of at least :data:`MIN_SUFFIX` characters:
  the one alert the feed showed whose id ends so. None, or several, is refused
  (:class:`UnknownAlert`, :class:`AmbiguousAlert`), naming the candidates.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from clients.state_file import open_state_file
from relay.contract.ids import is_alert_id
from relay.contract.times import rfc3339

__all__ = ["MIN_SUFFIX", "SHORT_LENGTH", "AlertRefError", "AmbiguousAlert", "BadAlertRef",
           "Shown", "ShownAlerts", "UnknownAlert", "short_id"]

SHORT_LENGTH: Final = 8  # 32 random bits: among 10,000 alerts, two share one with a 1 % chance
MIN_SUFFIX: Final = 6
_SEQ: Final = re.compile(r"#([0-9]{1,18})")
_SUFFIX: Final = re.compile(r"[0-9a-f-]+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shown (
    seq         INTEGER PRIMARY KEY,
    alert_id    TEXT NOT NULL,
    origin_unit TEXT,
    alert       TEXT,          -- the alert itself, for the feed's own unit's alerts only
    shown_at    TEXT NOT NULL
)
"""


def short_id(alert_id: str) -> str:
    """The short form of an alert id: its last :data:`SHORT_LENGTH` characters."""
    return alert_id[-SHORT_LENGTH:]


@dataclass(frozen=True)
class Shown:
    """One alert line the feed showed."""

    seq: int
    alert_id: str
    origin_unit: str | None
    alert: dict[str, Any] | None


class AlertRefError(ValueError):
    """What the officer typed names no single alert; ``ref`` is what was typed."""

    def __init__(self, ref: str, candidates: tuple[Shown, ...] = ()) -> None:
        super().__init__(ref)
        self.ref = ref
        self.candidates = candidates


class BadAlertRef(AlertRefError):
    """Neither an alert id, ``#SEQ``, nor an ending of at least MIN_SUFFIX hex characters."""


class UnknownAlert(AlertRefError):
    """A ``#SEQ`` or an ending the feed never showed."""


class AmbiguousAlert(AlertRefError):
    """An ending shared by several alerts the feed showed (``candidates``)."""


class ShownAlerts:
    """The record of a feed's alert lines, in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_state_file(path, synchronous="NORMAL")  # a lost line is shown again
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ShownAlerts:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record(self, seq: int, alert: dict[str, Any], *, own_unit: str) -> None:
        """The feed showed ``alert`` at ``seq``; its content is kept if it is own_unit's."""
        origin = alert.get("origin_unit")
        kept = json.dumps(alert, ensure_ascii=False) if origin == own_unit else None
        self._db.execute("INSERT OR REPLACE INTO shown (seq, alert_id, origin_unit, alert, "
                         "shown_at) VALUES (?, ?, ?, ?, ?)",
                         (seq, str(alert.get("alert_id", "")), origin, kept,
                          rfc3339(datetime.now(UTC))))

    def by_seq(self, seq: int) -> Shown | None:
        row = self._db.execute("SELECT * FROM shown WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else _shown(row)

    def by_alert_id(self, alert_id: str) -> Shown | None:
        """The latest line that showed ``alert_id``."""
        row = self._db.execute("SELECT * FROM shown WHERE alert_id = ? ORDER BY seq DESC "
                               "LIMIT 1", (alert_id,)).fetchone()
        return None if row is None else _shown(row)

    def ending(self, suffix: str) -> list[Shown]:
        """One line per alert whose id ends with ``suffix``, latest first."""
        rows = self._db.execute(
            "SELECT * FROM shown WHERE substr(alert_id, -?) = ? AND seq IN "
            "(SELECT max(seq) FROM shown GROUP BY alert_id) ORDER BY seq DESC",
            (len(suffix), suffix)).fetchall()
        return [_shown(row) for row in rows]

    def resolve(self, ref: str) -> str:
        """The alert id ``ref`` names (module doc); raises an :class:`AlertRefError`."""
        text = ref.strip().lower()
        if is_alert_id(text):
            return text
        seq = _SEQ.fullmatch(text)
        if seq is not None:
            shown = self.by_seq(int(seq.group(1)))
            if shown is None:
                raise UnknownAlert(ref)
            return shown.alert_id
        if len(text) < MIN_SUFFIX or _SUFFIX.fullmatch(text) is None:
            raise BadAlertRef(ref)
        found = self.ending(text)
        if not found:
            raise UnknownAlert(ref)
        if len(found) > 1:
            raise AmbiguousAlert(ref, tuple(found))
        return found[0].alert_id


def _shown(row: sqlite3.Row) -> Shown:
    return Shown(seq=row["seq"], alert_id=row["alert_id"], origin_unit=row["origin_unit"],
                 alert=None if row["alert"] is None else json.loads(row["alert"]))
