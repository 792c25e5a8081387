"""How many connections a relay process holds, in all and per client address.

Counted when a TCP connection is made, before a byte of it is read, so that a flood of
connections is refused at the door: without a token, an attacker could otherwise hold
file descriptors and memory until they run out for everyone (issue 9). The edges ask
:meth:`Admission.admit` in ``connection_made`` and call :meth:`Admission.release` in
``connection_lost``; a refused connection is closed at once and counted.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["Admission"]


class Admission:
    def __init__(self, *, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self._by_address: Counter[str] = Counter()
        self.total = 0
        self.refused = 0

    def admit(self, address: str) -> bool:
        """Count one more connection from ``address``; False (nothing counted) when it
        would pass either limit."""
        if self.total >= self.max_total or self._by_address[address] >= self.max_per_address:
            self.refused += 1
            return False
        self._by_address[address] += 1
        self.total += 1
        return True

    def release(self, address: str) -> None:
        """A connection admitted from ``address`` has ended."""
        if self._by_address[address] <= 0:
            raise RuntimeError(f"no connection from {address} to release")
        self._by_address[address] -= 1
        if not self._by_address[address]:
            del self._by_address[address]
        self.total -= 1

    def of(self, address: str) -> int:
        return self._by_address[address]
