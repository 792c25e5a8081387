"""The operator's keys (protection.md "At rest"): the key file, never the database.

The key file holds one key per line, the newest last; the newest wraps new data keys::

    # relay protection keys: keep this file secret, back it up apart from the database
    k-3f2a9c01d4e7 2026-12-01T16:40:00Z 8NwqvG...base64url of 32 bytes...

A key's id is derived from the key (``k-`` and 12 hex digits of a SHA-256 over it), so an
id names one key only, and the database can record which key wrapped each data key
without holding anything that helps to find it. The file is written whole to a new file
and renamed over the old one, so a reader never sees half a file; it is created with mode
0600 and a first key, and opened by every relay process and command that reads or writes
personal fields.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["KEY_BYTES", "KeyFileError", "KeyMissing", "Keyring", "OperatorKey", "key_id_of"]

KEY_BYTES = 32  # AES-256
_RECHECK_SECONDS = 1.0
_HEADER = ("# relay protection keys: keep this file secret and back it up apart from the"
           " database.\n# One key per line, the newest last: id, created, key (base64url).\n")


class KeyFileError(Exception):
    """The key file cannot be read, created or written; the message names it and why."""


class KeyMissing(KeyFileError):
    """Data is wrapped under a key that the key file does not hold (any more)."""

    def __init__(self, key_id: str, path: Path) -> None:
        super().__init__(f"personal data is wrapped under key {key_id}, which {path} does not"
                         " hold: configure [protection] key_file with the key file of the"
                         " relay that wrote it")
        self.key_id = key_id


def key_id_of(key: bytes) -> str:
    return "k-" + hashlib.sha256(b"relay-operator-key\x00" + key).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class OperatorKey:
    key_id: str
    created: str
    key: bytes


def _parse(path: Path, text: str) -> list[OperatorKey]:
    keys: list[OperatorKey] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 3:
                raise ValueError
            key = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except ValueError:
            raise KeyFileError(f"{path}, line {number}: expected 'id created key'") from None
        if len(key) != KEY_BYTES or key_id_of(key) != parts[0]:
            raise KeyFileError(f"{path}, line {number}: the key is not a {KEY_BYTES}-byte key"
                               f" whose id is {parts[0]}")
        keys.append(OperatorKey(parts[0], parts[1], key))
    if not keys:
        raise KeyFileError(f"{path} holds no key")
    return keys


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_ino


def _new_key() -> OperatorKey:
    key = secrets.token_bytes(KEY_BYTES)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return OperatorKey(key_id_of(key), created, key)


def _render(keys: list[OperatorKey]) -> str:
    lines = [f"{k.key_id} {k.created} {base64.urlsafe_b64encode(k.key).decode().rstrip('=')}"
             for k in keys]
    return _HEADER + "\n".join(lines) + "\n"


class Keyring:
    """The keys of one key file, re-read when it changes (another process rotated)."""

    def __init__(self, path: Path, keys: list[OperatorKey]) -> None:
        self.path = path
        self._keys = keys
        self._lock = threading.Lock()
        self._seen = _stamp(path)
        self._checked = time.monotonic()

    @classmethod
    def open(cls, path: Path) -> Keyring:
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyFileError(f"the protection key file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"cannot read the protection key file {path}: {exc}") from None
        return cls(path, _parse(path, text))

    @classmethod
    def open_or_create(cls, path: Path) -> tuple[Keyring, bool]:
        """The key file at ``path``, created with one new key if there is none (True)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.open(path), False
        except OSError as exc:
            raise KeyFileError(f"cannot create the protection key file {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_render([_new_key()]))
            out.flush()
            os.fsync(out.fileno())
        return cls.open(path), True

    @property
    def current(self) -> OperatorKey:
        """The newest key: the one that wraps new data keys. The file is looked at again
        at most once a second, so a rotation by ``relay keys rotate`` reaches a running
        relay within a second, without a restart."""
        now = time.monotonic()
        if now - self._checked >= _RECHECK_SECONDS:
            self._checked = now
            if _stamp(self.path) != self._seen:
                with contextlib.suppress(KeyFileError):
                    self.reload()
        return self._keys[-1]

    @property
    def keys(self) -> list[OperatorKey]:
        return list(self._keys)

    def get(self, key_id: str) -> bytes:
        """The key ``key_id``; the file is read again once if it is not known yet."""
        for key in self._keys:
            if key.key_id == key_id:
                return key.key
        try:
            self.reload()
        except KeyFileError:  # half copied, moved: the keys read before still serve
            raise KeyMissing(key_id, self.path) from None
        for key in self._keys:
            if key.key_id == key_id:
                return key.key
        raise KeyMissing(key_id, self.path)

    def reload(self) -> None:
        with self._lock:
            self._seen = _stamp(self.path)
            self._keys = Keyring.open(self.path)._keys

    def add_key(self) -> OperatorKey:
        """A new key, appended: it becomes the current one."""
        with self._lock, self._file_lock():
            keys = Keyring.open(self.path)._keys
            key = _new_key()
            self._write([*keys, key])
            self._keys = [*keys, key]
            self._seen = _stamp(self.path)
            return key

    def remove_key(self, key_id: str) -> None:
        """Drop ``key_id`` from the file (the caller checked nothing uses it)."""
        with self._lock, self._file_lock():
            keys = Keyring.open(self.path)._keys
            if keys[-1].key_id == key_id:
                raise KeyFileError(f"{key_id} is the current key: rotate before retiring it")
            if not any(k.key_id == key_id for k in keys):
                raise KeyFileError(f"{self.path} holds no key {key_id}")
            kept = [k for k in keys if k.key_id != key_id]
            self._write(kept)
            self._keys = kept
            self._seen = _stamp(self.path)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Held across read, change and rename: two processes rotating or retiring at
        once take turns, and neither loses the other's key."""
        try:
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyFileError(f"cannot lock the protection key file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, keys: list[OperatorKey]) -> None:
        fd, temporary = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(_render(keys))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
