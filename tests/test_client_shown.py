"""clients.shown: the short form of an alert id, and naming an alert the way the feed did."""

from __future__ import annotations

import pytest

from clients.shown import (
    AmbiguousAlert,
    BadAlertRef,
    ShownAlerts,
    UnknownAlert,
    short_id,
)
from tests.alert_examples import passenger_alert

# Two ids the relay's generator gave within one millisecond: same time, counter one apart.
FIRST = "01a23155-61b5-70ed-be3b-3872abb1a198"
SECOND = "01a23155-61b5-70ed-be3b-38730803f347"
# A third whose end shares its last six characters with FIRST.
THIRD = "01a23156-0000-7000-8000-0000ffb1a198"


def stored(alert_id: str, origin: str = "ML-BKO-JAITF") -> dict:
    return {**passenger_alert(), "alert_id": alert_id, "origin_unit": origin}


@pytest.fixture
def shown(tmp_path):
    with ShownAlerts(tmp_path / "feed-shown.sqlite3") as record:
        record.record(10, stored(FIRST), own_unit="FR-CDG-OFAST")
        record.record(11, stored(SECOND, "FR-CDG-OFAST"), own_unit="FR-CDG-OFAST")
        record.record(12, stored(THIRD), own_unit="FR-CDG-OFAST")
        yield record


def test_the_short_form_is_the_random_end_of_the_id_not_its_time_prefix():
    """Alerts close in time share their first characters; their last eight differ."""
    assert (FIRST[:23] == SECOND[:23], "abb1a198", "0803f347") == (
        True, short_id(FIRST), short_id(SECOND))


@pytest.mark.parametrize(("ref", "expected"), [
    ("abb1a198", FIRST), ("ABB1A198", FIRST), ("0803f347", SECOND), ("3872abb1a198", FIRST),
    ("#11", SECOND), (THIRD, THIRD), ("0192a3b4-c5d6-7e8f-9012-345678901234",
                                      "0192a3b4-c5d6-7e8f-9012-345678901234"),
])
def test_an_alert_is_named_by_its_short_form_an_ending_its_seq_or_its_whole_id(shown, ref, expected):
    """What relay-feed receipt accepts; a whole id need not have been shown."""
    assert expected == shown.resolve(ref)


def test_an_ending_shared_by_two_alerts_is_refused_naming_both(shown):
    """"b1a198" ends both FIRST and THIRD: refused, naming their seqs; "1a198" is too short."""
    with pytest.raises(AmbiguousAlert) as refused:
        shown.resolve("b1a198")
    assert [12, 10] == [line.seq for line in refused.value.candidates]
    with pytest.raises(BadAlertRef):
        shown.resolve("1a198")


@pytest.mark.parametrize("ref", ["deadbeef", "#99"])
def test_an_ending_or_seq_the_feed_never_showed_is_unknown(shown, ref):
    with pytest.raises(UnknownAlert):
        shown.resolve(ref)


@pytest.mark.parametrize("ref", ["", "#", "#x", "zzzzzzzz", "abc"])
def test_anything_else_is_not_a_way_of_naming_an_alert(shown, ref):
    with pytest.raises(BadAlertRef):
        shown.resolve(ref)


def test_the_content_is_kept_only_for_the_feeds_own_unit(shown):
    """So that this terminal can cancel or update its unit's alerts, and keeps no more of
    the others' than their ids."""
    assert (None, stored(SECOND, "FR-CDG-OFAST")) == (shown.by_alert_id(FIRST).alert,
                                                       shown.by_alert_id(SECOND).alert)


def test_an_alert_shown_twice_counts_once(shown):
    """A replay (--since 0) shows the same alert again: its ending still names it alone."""
    shown.record(20, stored(SECOND, "FR-CDG-OFAST"), own_unit="FR-CDG-OFAST")
    assert (SECOND, 20) == (shown.resolve("0803f347"), shown.by_alert_id(SECOND).seq)
