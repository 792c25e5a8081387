"""clients.fill_in: what relay-post fills in (sent_at, relative times), when two alerts
are the same, and what deserves a warning."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from clients.fill_in import (
    RelativeTimeError,
    expired,
    fill_in,
    fingerprint,
    names_no_unit,
    time_fields,
)
from relay.contract.specs import Day, Timestamp
from tests.alert_examples import passenger_alert, seizure_alert

NOW = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)


def test_the_time_fields_come_from_the_contracts_field_table():
    """Every timestamp and date of alerts.md, nested ones included, and nothing else."""
    assert {"sent_at": Timestamp, "expires_at": Timestamp, "occurred_at": Timestamp,
            "flight.scheduled_arrival": Timestamp, "flight.date": Day,
            "subjects[].birth_date": Day} == time_fields()


def test_sent_at_left_out_is_the_clock_when_the_alert_is_queued():
    """alerts.md: sent_at is the terminal's clock; a file need not write it."""
    alert = passenger_alert()
    del alert["sent_at"]
    assert "2026-11-23T08:00:00Z" == fill_in(alert, NOW)["sent_at"]


def test_a_sent_at_written_in_the_file_is_kept():
    """An officer who writes the moment gets that moment."""
    assert passenger_alert()["sent_at"] == fill_in(passenger_alert(), NOW)["sent_at"]


@pytest.mark.parametrize(("written", "expected"), [
    ("now", "2026-11-23T08:00:00Z"),
    ("now+8h", "2026-11-23T16:00:00Z"),
    ("now-30m", "2026-11-23T07:30:00Z"),
    ("now+1d2h30m", "2026-11-24T10:30:00Z"),
    ("now + 9h", "2026-11-23T17:00:00Z"),
])
def test_a_relative_timestamp_is_that_moment(written, expected):
    """now, now+8h, now-30m, with days, hours and minutes."""
    filled = fill_in(passenger_alert(expires_at=written), NOW)
    assert expected == filled["expires_at"]


def test_relative_times_are_filled_in_nested_fields_and_lists():
    """flight.scheduled_arrival and flight.date inside the flight; birth dates in the list."""
    alert = passenger_alert()
    alert["flight"] = {**alert["flight"], "date": "today", "scheduled_arrival": "now+8h40m"}
    alert["subjects"] = [{**alert["subjects"][0], "birth_date": "today-1d"}]
    filled = fill_in(alert, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert ("2026-11-23", "2026-11-23T20:40:00Z", "2026-11-22") == (
        filled["flight"]["date"], filled["flight"]["scheduled_arrival"],
        filled["subjects"][0]["birth_date"])


@pytest.fixture
def in_addis_ababa(monkeypatch):
    """The terminal's clock set to East Africa Time (UTC+3), as a terminal there is."""
    monkeypatch.setenv("TZ", "EAT-3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_today_is_the_terminals_local_date(in_addis_ababa):
    """At 22:30 UTC it is already the next day in Addis Ababa (UTC+3)."""
    alert = passenger_alert()
    alert["flight"] = {**alert["flight"], "date": "today", "scheduled_arrival": "now"}
    filled = fill_in(alert, datetime(2026, 11, 23, 22, 30, tzinfo=UTC))
    assert ("2026-11-24", "2026-11-23T22:30:00Z") == (filled["flight"]["date"],
                                                      filled["flight"]["scheduled_arrival"])


def test_words_outside_time_fields_and_other_strings_are_left_alone():
    """A summary saying "now", a date written in full, a non-map alert: as written."""
    alert = seizure_alert(summary="now", occurred_at="2026-11-23T07:55:00Z")
    filled = fill_in(alert, NOW)
    assert ("now", "2026-11-23T07:55:00Z") == (filled["summary"], filled["occurred_at"])
    assert [1, 2] == fill_in([1, 2], NOW)


def test_the_alert_given_is_not_changed():
    """fill_in returns a copy: the outbox keeps the filled alert, the fingerprint the written one."""
    alert = passenger_alert(expires_at="now+8h")
    fill_in(alert, NOW)
    assert "now+8h" == alert["expires_at"]


def test_a_relative_time_more_than_ten_years_away_is_refused_naming_the_field():
    """now+99999d is a typo, not a plan."""
    with pytest.raises(RelativeTimeError) as refused:
        fill_in(passenger_alert(expires_at="now+99999d"), NOW)
    assert ("expires_at", "now+99999d") == (refused.value.path, refused.value.value)


def test_the_same_content_has_the_same_fingerprint_whatever_the_order_and_sent_at():
    """Key order and sent_at do not count; relative times count as written."""
    alert = passenger_alert(expires_at="now+8h")
    reordered = dict(reversed(list({**alert, "sent_at": "2026-11-24T00:00:00Z"}.items())))
    assert fingerprint(alert) == fingerprint(reordered)
    assert fingerprint(alert) != fingerprint({**alert, "expires_at": "now+9h"})
    assert fingerprint(alert) != fingerprint({**alert, "summary": alert["summary"] + "."})


def test_an_alert_is_expired_once_its_expires_at_has_passed():
    """Not before, at the moment and after; no expires_at never expires."""
    alert = passenger_alert(expires_at="2026-11-23T17:00:00Z")
    moments = [datetime(2026, 11, 23, 16, 59, tzinfo=UTC), datetime(2026, 11, 23, 17, 0, tzinfo=UTC)]
    assert [False, True, False] == [expired(alert, moments[0]), expired(alert, moments[1]),
                                    expired(passenger_alert(), moments[1])]


@pytest.mark.parametrize(("distribution", "expected"), [
    ({"countries": ["TG", "ET"]}, True),
    ({"regions": ["G5-SAHEL"]}, True),
    ({"units": ["FR-CDG-OFAST"], "countries": ["MA"]}, False),
    ({"all": True}, False),
])
def test_a_distribution_that_names_no_unit_is_worth_a_warning(distribution, expected):
    """The relay refuses an unknown unit but accepts a country where no unit is registered."""
    assert expected == names_no_unit(seizure_alert(distribution=distribution))
