"""How fast the protection jobs go: they give way to publishing (docs/protection.md,
"Pace").

A catch-up (a million alerts due at once, after an upgrade or a long stop) competes with
publishers for the database's processors and its disk. Between two batches the jobs
pause as long as the batch took, times ``pause_ratio``; and longer when publishing
suffers, the way a background transfer yields to interactive traffic (LEDBAT, RFC 6817,
which watches the delay it adds rather than waiting for losses). The signal is the worst
publish commit this process saw since the previous batch, or the one still in flight if
it has lasted longer (a commit stalled for seconds must not read as calm):

- over ``yield_above``, the pause doubles, up to ``max_slowdown`` times the base one;
- at or under it, it comes back one step (one base pause) at a time.

So a job that hurts publishers backs off at once, and returns to full pace only after a
run of calm batches; and whatever publishing goes through, a run takes at most
``1 + pause_ratio * max_slowdown`` times as long as its batches, so that masking keeps up
with what becomes due. A run with nothing published meanwhile (the ``relay protection run``
command, a quiet night) goes at the base pace. Pure: no clock, no I/O; the caller gives
the times and feeds the commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CommitWatch", "Pace"]


@dataclass(slots=True)
class CommitWatch:
    """The worst publish commit (queued to committed, seconds) since the last look, and
    the commit in flight (the writer commits one batch at a time)."""

    _worst: float = field(default=0.0, init=False)
    _in_flight_since: float | None = field(default=None, init=False)

    def observe(self, seconds: float) -> None:
        if seconds > self._worst:
            self._worst = seconds

    def commit_started(self, at: float) -> None:
        self._in_flight_since = at

    def commit_ended(self) -> None:
        self._in_flight_since = None

    def take_worst(self, now: float) -> float:
        """The worst commit since the previous call, or the age at ``now`` of the one in
        flight if it is older (0.0: none), and start again."""
        worst, self._worst = self._worst, 0.0
        if self._in_flight_since is not None:
            worst = max(worst, now - self._in_flight_since)
        return worst


@dataclass(slots=True)
class Pace:
    """The pause after each batch of one run of the jobs."""

    pause_ratio: float
    yield_above: float  # seconds: a publish commit slower than this slows the jobs down
    max_slowdown: float  # at most this many base pauses
    watch: CommitWatch = field(default_factory=CommitWatch)
    slowdown: float = field(default=1.0, init=False)  # the current multiple of the base pause
    slowest: float = field(default=1.0, init=False)  # the largest it reached in this run
    paused: float = field(default=0.0, init=False)  # seconds of pause asked for in this run

    def pause_after(self, batch_seconds: float, now: float) -> float:
        """Seconds to pause after a batch that took ``batch_seconds``, ending at ``now``
        (the clock of the watch's commits)."""
        if self.watch.take_worst(now) > self.yield_above:
            self.slowdown = min(self.slowdown * 2, self.max_slowdown)
        else:
            self.slowdown = max(self.slowdown - 1, 1.0)
        self.slowest = max(self.slowest, self.slowdown)
        pause = batch_seconds * self.pause_ratio * self.slowdown
        self.paused += pause
        return pause

    def current_slowdown(self) -> float:
        """The multiple of the base pause now (for a gauge)."""
        return self.slowdown
