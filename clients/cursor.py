"""The last seq a feed has handled, kept on disk so a restart resumes exactly there.

The file holds one decimal integer. It is replaced atomically (write a temporary file,
fsync, rename, fsync the directory), so a crash or a power cut leaves the old or the new
value, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["CursorFile", "CursorFileError"]


class CursorFileError(Exception):
    """The cursor file exists but does not hold a seq: refuse to guess a resume point.
    ``problem`` is ``unreadable`` or ``not_a_seq``; ``found`` what the file starts with."""

    def __init__(self, path: Path, problem: str, found: str) -> None:
        self.path, self.problem, self.found = path, problem, found
        super().__init__(f"{path}: cannot be read ({found})" if problem == "unreadable"
                         else f"{path}: does not hold a seq (found {found})")


class CursorFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        """The saved seq, or None when nothing was saved yet."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CursorFileError(self.path, "unreadable", type(exc).__name__) from None
        if not text.isdigit():
            raise CursorFileError(self.path, "not_a_seq", repr(text[:20]))
        return int(text)

    def save(self, seq: int, *, durable: bool = True) -> None:
        """Replace the saved seq; ``durable=False`` skips the fsyncs (survives a crash of
        the process, not always a power cut), for saving after every event of a burst."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(f"{seq}\n")
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        if not durable:
            return
        with contextlib.suppress(OSError):  # not every filesystem can fsync a directory
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
