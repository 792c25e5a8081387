"""clients.outbox: a terminal's alerts on disk, and what became of each, in one SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.outbox import Outbox
from tests.alert_examples import passenger_alert, seizure_alert

INVALID = {"type": "error", "code": "invalid_alert", "message": "the alert is invalid",
           "details": [{"field": "flight.number", "problem": "must be an IATA flight number"}]}


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "state" / "outbox.sqlite3") as box:
        yield box


def test_an_added_alert_is_queued_under_a_new_unique_key(outbox):
    """add() stores the alert as given, queued, with no attempt yet; each gets its own key."""
    first = outbox.add(passenger_alert())
    second = outbox.add(passenger_alert())
    assert (passenger_alert(), "queued", 0, True) == (first.alert, first.state, first.attempts,
                                                      first.pending)
    assert first.key != second.key
    assert (1, 2) == (first.number, second.number)


def test_a_key_given_by_the_caller_is_kept(outbox):
    """add(key=...) stores that key; get() finds the entry by key or by number."""
    entry = outbox.add(seizure_alert(), key="bko-2026-0001")
    assert entry == outbox.get("bko-2026-0001") == outbox.get(entry.number)


def test_an_entry_goes_queued_sent_acknowledged_and_keeps_the_ack(outbox):
    """mark_sent counts attempts; mark_acknowledged keeps seq, alert_id and duplicate."""
    key = outbox.add(passenger_alert()).key
    outbox.mark_sent(key)
    sent = outbox.get(key)
    outbox.mark_sent(key)
    outbox.mark_acknowledged(key, seq=42, alert_id="0192a3b4-c5d6-7e8f-9012-345678901234",
                             duplicate=True)
    done = outbox.get(key)
    assert ("sent", 1, True) == (sent.state, sent.attempts, sent.pending)
    assert ("acknowledged", 2, 42, "0192a3b4-c5d6-7e8f-9012-345678901234", True, False) == (
        done.state, done.attempts, done.seq, done.alert_id, done.duplicate, done.pending)


def test_a_rejected_entry_keeps_the_error_and_is_no_longer_pending(outbox):
    """mark_rejected keeps the relay's error object for the officer; it is not sent again."""
    key = outbox.add(passenger_alert()).key
    outbox.mark_sent(key)
    outbox.mark_rejected(key, INVALID)
    entry = outbox.get(key)
    assert ("rejected", INVALID, False, []) == (entry.state, entry.error, entry.pending,
                                                outbox.pending())


def test_pending_is_oldest_first_without_acknowledged_or_rejected_entries(outbox):
    """Queued and sent entries, in the order they were posted."""
    keys = [outbox.add(seizure_alert(summary=f"seizure {n}")).key for n in range(5)]
    outbox.mark_sent(keys[3])
    outbox.mark_acknowledged(keys[1], seq=7, alert_id="a1", duplicate=False)
    outbox.mark_rejected(keys[2], INVALID)
    assert [keys[0], keys[3], keys[4]] == [entry.key for entry in outbox.pending()]
    assert [keys[1]] == [entry.key for entry in outbox.entries("acknowledged")]


def test_a_problem_is_noted_without_changing_the_state(outbox):
    """note_problem says why the last attempt failed; the entry stays pending."""
    key = outbox.add(passenger_alert()).key
    outbox.mark_sent(key)
    outbox.note_problem(key, "cannot connect to ws://relay: refused")
    entry = outbox.get(key)
    assert ("sent", "cannot connect to ws://relay: refused") == (entry.state, entry.last_problem)


def test_an_entry_survives_closing_and_reopening_the_file(tmp_path):
    """Once add() returns, the alert is on disk: a new process finds it as it was."""
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as box:
        added = box.add(passenger_alert(), key="kept-across-restarts")
        box.mark_sent(added.key)
        before = box.get(added.key)
    with Outbox(path) as box:
        after = box.get("kept-across-restarts")
        pending = box.pending()
    assert before == after
    assert [before] == pending


def test_mark_sent_after_the_ack_does_not_undo_it(outbox):
    """A late attempt's bookkeeping never turns an acknowledged entry back into pending."""
    key = outbox.add(passenger_alert()).key
    outbox.mark_acknowledged(key, seq=3, alert_id="a3", duplicate=False)
    outbox.mark_sent(key)
    outbox.mark_rejected(key, INVALID)
    entry = outbox.get(key)
    assert ("acknowledged", 3, None, 0) == (entry.state, entry.seq, entry.error, entry.attempts)


def test_two_outboxes_on_one_file_see_each_others_entries(tmp_path):
    """Two processes (a post and a flush) share one outbox file."""
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as poster, Outbox(path) as flusher:
        posted = poster.add(seizure_alert())
        seen = flusher.pending()
        flusher.mark_acknowledged(posted.key, seq=9, alert_id="a9", duplicate=False)
        assert [posted.key] == [entry.key for entry in seen]
        assert "acknowledged" == poster.get(posted.key).state


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_a_key_of_the_wrong_length_is_refused(outbox, key):
    """The relay takes ids of 1 to 64 characters (protocol.md, Stream transport)."""
    with pytest.raises(ValueError, match="1 to 64"):
        outbox.add(passenger_alert(), key=key)
    assert [] == outbox.entries()


def test_the_longest_key_is_accepted(outbox):
    """64 characters is still a valid id."""
    assert "k" * 64 == outbox.add(passenger_alert(), key="k" * 64).key


def test_getting_a_missing_entry_raises_key_error(outbox):
    """An unknown key or number is not silently None."""
    with pytest.raises(KeyError):
        outbox.get("no-such-key")


def test_the_first_ack_stays_when_a_second_flusher_is_acknowledged_as_a_duplicate(tmp_path):
    """Two relay-post processes sent the same entry: the record keeps the first ack."""
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        entry = outbox.add({"kind": "seizure"})
        outbox.mark_acknowledged(entry.key, seq=7, alert_id="a", duplicate=False)
        outbox.mark_acknowledged(entry.key, seq=7, alert_id="a", duplicate=True)
        kept = outbox.get(entry.key)
    assert ("acknowledged", 7, False) == (kept.state, kept.seq, kept.duplicate)
