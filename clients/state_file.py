"""A terminal's state file (the outbox, the feed's shown alerts): one SQLite database,
created on first use, in WAL mode so a feed and a post can use the state directory at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

__all__ = ["open_state_file"]


def open_state_file(path: Path, *, synchronous: Literal["FULL", "NORMAL"]) -> sqlite3.Connection:
    """``FULL`` where a lost write would lose an alert (the outbox), ``NORMAL`` where it
    only shows a line again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db
