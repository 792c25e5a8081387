"""Exponential backoff with full jitter, for reconnecting over poor links.

The n-th wait is drawn uniformly from ``[0, min(maximum, initial * factor**n)]`` ("full
jitter"): many terminals cut off by the same outage do not come back in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """The delays before successive reconnection attempts; ``reset()`` after a success."""

    initial: float = 0.25
    maximum: float = 30.0
    factor: float = 2.0
    draw: Callable[[], float] = field(default=random.random, repr=False)
    attempts: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")

    def ceiling(self) -> float:
        """The largest delay the next attempt may wait."""
        return min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))

    def next_delay(self) -> float:
        delay = self.draw() * self.ceiling()
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
