"""How fast the protection jobs go: they give way to publishing (docs/protection.md,
"Pace").

A catch-up (a million alerts due at once, after an upgrade or a long stop) competes with
publishers for the database's processors and its disk. Between two batches the jobs
pause as long as the batch took, times ``pause_ratio``; and longer when publishing
suffers, the way a background transfer yields to interactive traffic (LEDBAT, RFC 6817,
which watches the delay it adds rather than waiting for losses). The signal is the worst
publish commit this process saw since the previous batch:

- over ``yield_above``, the pause doubles, up to ``max_slowdown`` times the base one;
- at or under it, it comes back one step (one base pause) at a time.

So a job that hurts publishers backs off at once, and returns to full pace only after a
run of calm batches. A run with nothing published meanwhile (the ``relay protection run``
command, a quiet night) goes at the base pace. Pure: no clock, no I/O; the caller measures
the batch and feeds the commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CommitWatch", "Pace"]


@dataclass(slots=True)
class CommitWatch:
    """The worst publish commit (queued to committed, seconds) since the last look."""

    _worst: float = 0.0

    def observe(self, seconds: float) -> None:
        if seconds > self._worst:
            self._worst = seconds

    def take_worst(self) -> float:
        """The worst commit since the previous call (0.0: none), and start again."""
        worst, self._worst = self._worst, 0.0
        return worst


@dataclass(slots=True)
class Pace:
    """The pause after each batch of one run of the jobs."""

    pause_ratio: float
    yield_above: float  # seconds: a publish commit slower than this slows the jobs down
    max_slowdown: float  # at most this many base pauses
    watch: CommitWatch = field(default_factory=CommitWatch)
    slowdown: float = 1.0  # the current multiple of the base pause
    slowest: float = 1.0  # the largest it reached in this run

    def pause_after(self, batch_seconds: float) -> float:
        """Seconds to pause after a batch that took ``batch_seconds``."""
        if self.watch.take_worst() > self.yield_above:
            self.slowdown = min(self.slowdown * 2, self.max_slowdown)
        else:
            self.slowdown = max(self.slowdown - 1, 1.0)
        self.slowest = max(self.slowest, self.slowdown)
        return batch_seconds * self.pause_ratio * self.slowdown
