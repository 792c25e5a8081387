"""clients.outbox: a terminal's alerts on disk, and what became of each, in one SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.client import token_digest
from clients.outbox import Outbox
from tests.alert_examples import passenger_alert, seizure_alert

OWNER = token_digest("relay_" + "a" * 43)  # the terminal's token, as the outbox keeps it
OTHER = token_digest("relay_" + "b" * 43)

INVALID = {"type": "error", "code": "invalid_alert", "message": "the alert is invalid",
           "details": [{"field": "flight.number", "problem": "must be an IATA flight number"}]}


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "state" / "outbox.sqlite3") as box:
        yield box


def test_an_added_alert_is_queued_under_a_new_unique_key(outbox):
    """add() stores the alert as given, queued, with no attempt yet; each gets its own key."""
    first = outbox.add(passenger_alert(), owner=OWNER)
    second = outbox.add(passenger_alert(), owner=OWNER)
    assert (passenger_alert(), "queued", 0, True) == (first.alert, first.state, first.attempts,
                                                      first.pending)
    assert first.key != second.key
    assert (1, 2) == (first.number, second.number)


def test_a_key_given_by_the_caller_is_kept(outbox):
    """add(key=...) stores that key; get() finds the entry by key or by number."""
    entry = outbox.add(seizure_alert(), key="bko-2026-0001", owner=OWNER)
    assert entry == outbox.get("bko-2026-0001") == outbox.get(entry.number)


def test_an_entry_goes_queued_sent_acknowledged_and_keeps_the_ack(outbox):
    """mark_sent counts attempts; mark_acknowledged keeps seq, alert_id and duplicate."""
    key = outbox.add(passenger_alert(), owner=OWNER).key
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
    key = outbox.add(passenger_alert(), owner=OWNER).key
    outbox.mark_sent(key)
    outbox.mark_rejected(key, INVALID)
    entry = outbox.get(key)
    assert ("rejected", INVALID, False, []) == (entry.state, entry.error, entry.pending,
                                                outbox.pending())


def test_pending_is_oldest_first_without_acknowledged_or_rejected_entries(outbox):
    """Queued and sent entries, in the order they were posted."""
    keys = [outbox.add(seizure_alert(summary=f"seizure {n}"), owner=OWNER).key for n in range(5)]
    outbox.mark_sent(keys[3])
    outbox.mark_acknowledged(keys[1], seq=7, alert_id="a1", duplicate=False)
    outbox.mark_rejected(keys[2], INVALID)
    assert [keys[0], keys[3], keys[4]] == [entry.key for entry in outbox.pending()]
    assert [keys[1]] == [entry.key for entry in outbox.entries("acknowledged")]


REFUSED = {"reason": "refused", "params": {"url": "ws://relay"}}


def test_a_problem_is_noted_without_changing_the_state(outbox):
    """note_problem says why the last attempt failed; the entry stays pending."""
    key = outbox.add(passenger_alert(), owner=OWNER).key
    outbox.mark_sent(key)
    outbox.note_problem(key, REFUSED)
    entry = outbox.get(key)
    assert ("sent", 1, REFUSED) == (entry.state, entry.attempts, entry.last_error)


def test_an_entry_survives_closing_and_reopening_the_file(tmp_path):
    """Once add() returns, the alert is on disk: a new process finds it as it was."""
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as box:
        added = box.add(passenger_alert(), key="kept-across-restarts", owner=OWNER)
        box.mark_sent(added.key)
        before = box.get(added.key)
    with Outbox(path) as box:
        after = box.get("kept-across-restarts")
        pending = box.pending()
    assert before == after
    assert [before] == pending


def test_mark_sent_after_the_ack_does_not_undo_it(outbox):
    """A late attempt's bookkeeping never turns an acknowledged entry back into pending."""
    key = outbox.add(passenger_alert(), owner=OWNER).key
    outbox.mark_acknowledged(key, seq=3, alert_id="a3", duplicate=False)
    outbox.mark_sent(key)
    outbox.mark_rejected(key, INVALID)
    entry = outbox.get(key)
    assert ("acknowledged", 3, None, 0) == (entry.state, entry.seq, entry.error, entry.attempts)


def test_two_outboxes_on_one_file_see_each_others_entries(tmp_path):
    """Two processes (a post and a flush) share one outbox file."""
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as poster, Outbox(path) as flusher:
        posted = poster.add(seizure_alert(), owner=OWNER)
        seen = flusher.pending()
        flusher.mark_acknowledged(posted.key, seq=9, alert_id="a9", duplicate=False)
        assert [posted.key] == [entry.key for entry in seen]
        assert "acknowledged" == poster.get(posted.key).state


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_a_key_of_the_wrong_length_is_refused(outbox, key):
    """The relay takes ids of 1 to 64 characters (protocol.md, Stream transport)."""
    with pytest.raises(ValueError, match="1 to 64"):
        outbox.add(passenger_alert(), key=key, owner=OWNER)
    assert [] == outbox.entries()


def test_the_longest_key_is_accepted(outbox):
    """64 characters is still a valid id."""
    assert "k" * 64 == outbox.add(passenger_alert(), key="k" * 64, owner=OWNER).key


def test_getting_a_missing_entry_raises_key_error(outbox):
    """An unknown key or number is not silently None."""
    with pytest.raises(KeyError):
        outbox.get("no-such-key")


def test_the_first_ack_stays_when_a_second_flusher_is_acknowledged_as_a_duplicate(tmp_path):
    """Two relay-post processes sent the same entry: the record keeps the first ack."""
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        entry = outbox.add({"kind": "seizure"}, owner=OWNER)
        outbox.mark_acknowledged(entry.key, seq=7, alert_id="a", duplicate=False)
        outbox.mark_acknowledged(entry.key, seq=7, alert_id="a", duplicate=True)
        kept = outbox.get(entry.key)
    assert ("acknowledged", 7, False) == (kept.state, kept.seq, kept.duplicate)


# -- whose entry it is (docs/clients.md "One outbox, several tokens") ------------------------


def test_an_entry_is_sendable_only_under_the_token_that_queued_it_until_its_unit_is_known(outbox):
    """Queued under OWNER, whose unit the relay never named here: another token may not
    send it, even one of a known unit."""
    entry = outbox.add(passenger_alert(), owner=OWNER)
    outbox.learn(OTHER, "FR-CDG-OFAST")
    assert ([entry.key], [], [entry.key]) == (
        [e.key for e in outbox.sendable(OWNER)], [e.key for e in outbox.sendable(OTHER)],
        [e.key for e in outbox.held(OTHER)])


def test_once_its_unit_is_known_an_entry_goes_with_any_token_of_that_unit_and_no_other(outbox):
    """A token welcomed as ML-BKO-JAITF queued it; a new token of the same unit (the old
    one revoked) sends it; a token of another unit does not."""
    entry = outbox.add(passenger_alert(), owner=OWNER)
    outbox.learn(OWNER, "ML-BKO-JAITF")
    new_token, other_unit = token_digest("relay_" + "c" * 43), OTHER
    outbox.learn(new_token, "ML-BKO-JAITF")
    outbox.learn(other_unit, "FR-CDG-OFAST")
    assert ([entry.key], [], "ML-BKO-JAITF") == (
        [e.key for e in outbox.sendable(new_token)], [e.key for e in outbox.sendable(other_unit)],
        outbox.unit_of_entry(outbox.get(entry.key)))


def test_the_unit_an_entry_was_sent_as_is_kept(outbox):
    """mark_sent binds the entry to the unit of the connection that sent it, once."""
    key = outbox.add(passenger_alert(), owner=OWNER).key
    outbox.mark_sent(key, unit="ML-BKO-JAITF")
    outbox.mark_sent(key, unit="FR-CDG-OFAST")
    assert ("ML-BKO-JAITF", 2) == (outbox.get(key).unit, outbox.get(key).attempts)


def test_a_refused_token_rejects_its_entries_of_no_known_unit_and_keeps_the_others(outbox):
    """The relay refused OWNER: what it queued with no unit known is rejected (never sent
    under another token); an entry already bound to a unit waits for a good token."""
    unknown = outbox.add(seizure_alert(summary="never accepted"), owner=OWNER)
    bound = outbox.add(seizure_alert(summary="sent once"), owner=OWNER)
    outbox.mark_sent(bound.key, unit="ML-BKO-JAITF")
    refusal = {"code": "unauthorized", "message": "the relay refused the token", "details": []}
    refused = outbox.refuse_owner(OWNER, refusal)
    assert ([unknown.key], ["rejected", "sent"], refusal) == (
        [entry.key for entry in refused],
        [outbox.get(unknown.key).state, outbox.get(bound.key).state],
        outbox.get(unknown.key).error)


# -- what happened, and identical alerts -------------------------------------------------------


def test_a_failed_run_counts_one_attempt_for_each_entry_it_meant_to_send(outbox):
    """The relay could not be reached: each entry says so, with when, and counts one try."""
    keys = [outbox.add(seizure_alert(summary=f"s{n}"), owner=OWNER).key for n in range(2)]
    outbox.note_failed_attempt(keys, REFUSED)
    entries = [outbox.get(key) for key in keys]
    assert [("queued", 1, REFUSED, True)] * 2 == [
        (e.state, e.attempts, e.last_error, e.last_attempt_at is not None) for e in entries]


def test_identical_finds_the_latest_queued_or_acknowledged_entry_with_the_content(outbox):
    """A rejected entry does not count: the officer fixes and posts it again."""
    first = outbox.add(seizure_alert(), owner=OWNER, fingerprint="f1")
    outbox.mark_acknowledged(first.key, seq=4, alert_id="a4", duplicate=False)
    second = outbox.add(seizure_alert(), owner=OWNER, fingerprint="f2")
    outbox.mark_rejected(second.key, INVALID)
    assert (first.number, None, None) == (
        outbox.identical("f1").number, outbox.identical("f2"), outbox.identical("f3"))


def test_an_outbox_of_the_first_version_is_opened_and_its_entries_go_with_the_first_unit(tmp_path):
    """A file without the owner columns gets them; its entries, owned by nobody, are sent
    by the first token that flushes, and then belong to its unit."""
    import sqlite3

    path = tmp_path / "outbox.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE outbox (number INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL "
                "UNIQUE, alert TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('queued', "
                "'sent', 'acknowledged', 'rejected')), created_at TEXT NOT NULL, updated_at TEXT "
                "NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, seq INTEGER, alert_id TEXT, "
                "duplicate INTEGER, error TEXT, last_problem TEXT)")
    old.execute("INSERT INTO outbox (key, alert, state, created_at, updated_at, last_problem) "
                "VALUES ('old-1', '{}', 'sent', 'x', 'x', 'cannot connect')")
    old.commit()
    old.close()
    with Outbox(path) as outbox:
        assert ["old-1"] == [e.key for e in outbox.sendable(OWNER)]
        outbox.mark_sent("old-1", unit="ML-BKO-JAITF")
        outbox.learn(OTHER, "FR-CDG-OFAST")
        entry = outbox.get("old-1")
        assert (None, "cannot connect", []) == (entry.owner, entry.last_problem,
                                                outbox.sendable(OTHER))
