"""relay.logs: repeated lines are rate-limited, and the next one tells how many were dropped."""

from __future__ import annotations

from relay.logs import Repeats


def test_past_the_burst_lines_of_a_kind_are_dropped_until_the_window_ends():
    now = [0.0]
    repeats = Repeats(burst=3, window=10.0, clock=lambda: now[0])
    assert [0, 0, 0, None, None] == [repeats.admit("auth_refused") for _ in range(5)]
    assert 0 == repeats.admit("connection_open")  # another kind is not held back
    now[0] = 10.0
    assert 2 == repeats.admit("auth_refused")  # the first after the window says how many
    assert 0 == repeats.admit("auth_refused")


def test_many_kinds_of_lines_are_remembered_in_bounded_memory():
    repeats = Repeats(burst=1, window=10.0, clock=lambda: 0.0)
    for n in range(20_000):
        repeats.admit(f"kind-{n}")
    assert len(repeats._seen) <= 10_001
