"""clients.backoff and clients.cursor: when to retry, and where a feed resumes."""

from __future__ import annotations

import random
import re

import pytest

from clients.backoff import Backoff
from clients.cursor import CursorFile, CursorFileError

# -- Backoff --------------------------------------------------------------------------


def test_the_ceiling_doubles_after_each_attempt_up_to_the_maximum():
    """initial * factor**n, capped: 0.25, 0.5, 1, 2, 4, 5, 5."""
    backoff = Backoff(initial=0.25, maximum=5.0, factor=2.0)
    ceilings = []
    for _ in range(7):
        ceilings.append(backoff.ceiling())
        backoff.next_delay()
    assert [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0] == ceilings


def test_the_ceiling_stays_at_the_maximum_after_very_many_attempts():
    """No overflow after a long outage: a terminal offline for a day still retries."""
    backoff = Backoff(initial=0.25, maximum=30.0, attempts=10_000)
    assert 30.0 == backoff.ceiling()


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 0.0), (0.5, 0.5), (0.999, 0.999)])
def test_a_delay_is_the_draw_times_the_ceiling(draw, expected):
    """Full jitter: uniform in [0, ceiling]; here the ceiling is 1 s."""
    backoff = Backoff(initial=1.0, maximum=10.0, draw=lambda: draw)
    assert expected == backoff.next_delay()


def test_random_delays_stay_between_zero_and_their_ceiling():
    """With the real random draw, every delay of a long series is within [0, ceiling]."""
    backoff = Backoff(initial=0.1, maximum=3.0, draw=random.Random(4).random)
    outside = []
    for _ in range(200):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        if not 0.0 <= delay <= ceiling:
            outside.append((delay, ceiling))
    assert [] == outside


def test_reset_starts_again_from_the_initial_ceiling():
    """After a successful connection the next outage begins with short waits."""
    backoff = Backoff(initial=0.25, maximum=30.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert (0, 0.25) == (backoff.attempts, backoff.ceiling())


@pytest.mark.parametrize(("initial", "maximum", "factor"), [
    (0.0, 1.0, 2.0), (2.0, 1.0, 2.0), (0.5, 1.0, 0.5)])
def test_nonsense_settings_are_refused(initial, maximum, factor):
    """A zero start, a start beyond the maximum, or a shrinking factor."""
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=initial, maximum=maximum, factor=factor)


# -- CursorFile -----------------------------------------------------------------------


def test_a_cursor_never_saved_loads_as_none(tmp_path):
    """No file yet: no position, so the feed starts from since or from now."""
    assert CursorFile(tmp_path / "feed.cursor").load() is None


def test_a_saved_seq_is_loaded_back_by_a_new_cursor(tmp_path):
    """save() then load() through another object, as after a restart."""
    CursorFile(tmp_path / "state" / "feed.cursor").save(1234)
    assert 1234 == CursorFile(tmp_path / "state" / "feed.cursor").load()


def test_a_later_save_replaces_the_earlier_one_and_leaves_no_temporary_file(tmp_path):
    """The file is replaced atomically; only the cursor itself remains."""
    cursor = CursorFile(tmp_path / "feed.cursor")
    cursor.save(5)
    cursor.save(6)
    assert (6, ["feed.cursor"]) == (cursor.load(), sorted(p.name for p in tmp_path.iterdir()))


def test_a_non_durable_save_is_readable_too(tmp_path):
    """durable=False skips the fsyncs, not the write."""
    cursor = CursorFile(tmp_path / "feed.cursor")
    cursor.save(10)
    cursor.save(11, durable=False)
    assert 11 == CursorFile(tmp_path / "feed.cursor").load()


@pytest.mark.parametrize("content", [b"", b"twelve\n", b"-3\n", b"12.5\n", b"\xff\xfe1\n"])
def test_a_garbled_cursor_file_raises_instead_of_guessing(tmp_path, content):
    """Empty, not a number, negative, fractional or not ASCII: CursorFileError, naming the file."""
    path = tmp_path / "feed.cursor"
    path.write_bytes(content)
    with pytest.raises(CursorFileError, match=re.escape(str(path))):
        CursorFile(path).load()
