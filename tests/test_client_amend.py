"""clients.amend: updates and cancels built from the alert they refer to (alerts.md,
"Lifecycle"), accepted by the relay's own rules."""

from __future__ import annotations

from clients.amend import SUMMARY_LIMIT, cancel_of, update_of
from clients.fill_in import fill_in
from clients.i18n import Translator
from clients.local_check import check_alert
from tests.alert_examples import passenger_alert, seizure_alert

ALERT_ID = "01a2075c-5693-7605-b6d4-8105684fa456"


def as_stored(alert: dict) -> dict:
    """The alert as the relay delivered it: normalised, with the relay's own fields."""
    normalised, problems = check_alert(alert)
    assert [] == problems
    return {**normalised, "alert_id": ALERT_ID, "origin_unit": "ML-BKO-JAITF",
            "received_at": "2026-11-23T08:00:01.262Z"}


def test_a_passenger_cancel_repeats_what_the_relay_requires_and_the_distribution():
    """alerts.md: a cancel is validated as an alert of its kind, and reaches only the
    units it names: flight, subjects, requested_action and distribution are repeated."""
    original = as_stored(passenger_alert(expires_at="2026-11-23T17:00:00Z"))
    cancel = cancel_of(original, ALERT_ID, reason="the courier did not board", t=Translator("en"))
    expected = {key: value for key, value in original.items()
                if key not in ("alert_id", "origin_unit", "received_at", "sent_at",
                               "expires_at", "language")}
    expected.update(msg_type="cancel", references=ALERT_ID, summary="the courier did not board")
    assert expected == cancel
    assert [] == check_alert(fill_in(cancel))[1]


def test_a_cancel_without_a_reason_says_so_in_the_officers_language():
    """"Annulée : " and the original summary, cut to the summary's limit."""
    original = as_stored(seizure_alert(summary="x" * SUMMARY_LIMIT))
    cancel = cancel_of(original, ALERT_ID, reason=None, t=Translator("fr"))
    assert (SUMMARY_LIMIT, "Annulée : xxx") == (len(cancel["summary"]), cancel["summary"][:13])
    assert [] == check_alert(fill_in(cancel))[1]


def test_an_update_replaces_each_top_level_field_the_change_file_writes():
    """The rest is the original's; a field written replaces the whole original field."""
    original = as_stored(passenger_alert())
    flight = {**original["flight"], "number": "AT573"}
    update = update_of(original, ALERT_ID, {"summary": "Courier moved to seat 31A.",
                                            "flight": flight})
    assert ("update", ALERT_ID, "Courier moved to seat 31A.", flight, original["subjects"]) == (
        update["msg_type"], update["references"], update["summary"], update["flight"],
        update["subjects"])
    assert {"alert_id", "origin_unit", "received_at", "sent_at"}.isdisjoint(update)
    assert [] == check_alert(fill_in(update))[1]


def test_an_update_of_an_update_references_the_alert_named_not_the_first():
    """The relay does not require the latest version; the officer names what to change."""
    first_update = as_stored({**passenger_alert(), "msg_type": "update", "references": ALERT_ID})
    update = update_of(first_update, "01a2075c-0000-7605-b6d4-000000000001", {})
    assert "01a2075c-0000-7605-b6d4-000000000001" == update["references"]
