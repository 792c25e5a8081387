"""Passengers' personal data (protection.md): keys, sealing, what is shown.

The process's protection is installed once at start (:func:`install`) by the relay or the
command that opens the database, from its key file, and read by the store wherever an
event is written or shown (:func:`active`): there is no path that stores or shows an
alert without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.protection.keyring import Keyring
from relay.protection.reveal import Revealer
from relay.protection.sealing import Sealer

__all__ = ["Protection", "active", "install"]


@dataclass(frozen=True, slots=True)
class Protection:
    keyring: Keyring
    sealer: Sealer
    revealer: Revealer

    @classmethod
    def of(cls, keyring: Keyring) -> Protection:
        sealer = Sealer(keyring)
        return cls(keyring, sealer, Revealer(sealer))


_installed: list[Protection] = []


def install(keyring: Keyring) -> Protection:
    """Make ``keyring`` the process's protection (a later call replaces it)."""
    protection = Protection.of(keyring)
    _installed[:] = [protection]
    return protection


def active() -> Protection:
    if not _installed:
        raise RuntimeError("no protection key is installed: the relay opens its key file at start")
    return _installed[0]
