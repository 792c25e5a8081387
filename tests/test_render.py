"""clients.render: one readable line per feed event, in English and in French."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clients.i18n import Translator
from clients.render import render_event
from tests.alert_examples import passenger_alert, seizure_alert

PASSENGER_ID = "0192a3b4-c5d6-7e8f-9012-345678901234"  # shown as 78901234
UPDATE_ID = "0192a3b4-c5d6-7e8f-9012-3456abcd1234"     # shown as abcd1234
BEFORE_EXPIRY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def stored(alert: dict[str, Any], origin: str, alert_id: str = PASSENGER_ID) -> dict[str, Any]:
    """An alert as the relay sends it: with its alert_id and origin_unit (protocol.md, events)."""
    return {**alert, "alert_id": alert_id, "origin_unit": origin,
            "received_at": "2026-11-23T08:00:01Z"}


def alert_event(seq: int, alert: dict[str, Any]) -> dict[str, Any]:
    return {"type": "alert", "seq": seq, "alert": alert}


def receipt_event(seq: int, status: str, note: str | None = None) -> dict[str, Any]:
    receipt = {"alert_id": PASSENGER_ID, "unit": "FR-CDG-OFAST", "status": status,
               "at": "2026-11-23T17:02:00Z"}
    if note is not None:
        receipt["note"] = note
    return {"type": "receipt", "seq": seq, "receipt": receipt}


PASSENGER = stored(passenger_alert(), "ML-BKO-JAITF")
SEIZURE = stored(seizure_alert(), "TG-LFW-JAITF")

LINES = {
    "passenger": (
        alert_event(1234, PASSENGER),
        "FLASH PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · 78901234 · #1234",
        "FLASH PASSAGER AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · 78901234 · #1234",
    ),
    "seizure": (
        alert_event(1236, SEIZURE),
        "URGENT SEIZURE at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · 78901234 · #1236",
        "URGENT SAISIE à LFW · cocaïne 2.4 kg · TLP:GREEN · TG-LFW-JAITF · 78901234 · #1236",
    ),
    "exercise": (
        alert_event(1237, {**SEIZURE, "status": "exercise"}),
        "*** EXERCISE *** URGENT SEIZURE at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · 78901234 · #1237",
        "*** EXERCICE *** URGENT SAISIE à LFW · cocaïne 2.4 kg · TLP:GREEN · TG-LFW-JAITF · 78901234 · #1237",
    ),
    "test": (
        alert_event(1238, {**PASSENGER, "status": "test", "priority": "routine"}),
        "*** TEST *** ROUTINE PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · 78901234 · #1238",
        "*** TEST *** ROUTINE PASSAGER AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · 78901234 · #1238",
    ),
    "update": (
        alert_event(1239, {**PASSENGER, "msg_type": "update", "references": PASSENGER_ID,
                           "alert_id": UPDATE_ID}),
        "FLASH PASSENGER UPDATE of 78901234 AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · abcd1234 · #1239",
        "FLASH PASSAGER MISE À JOUR de 78901234 AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · abcd1234 · #1239",
    ),
    "cancel": (
        alert_event(1240, {**SEIZURE, "msg_type": "cancel", "references": PASSENGER_ID,
                           "alert_id": UPDATE_ID}),
        "URGENT SEIZURE CANCEL of 78901234 at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · abcd1234 · #1240",
        "URGENT SAISIE ANNULATION de 78901234 à LFW · cocaïne 2.4 kg · TLP:GREEN · TG-LFW-JAITF · abcd1234 · #1240",
    ),
    "receipt with a note": (
        receipt_event(1241, "positive", note="courier stopped at gate 4"),
        "RECEIPT POSITIVE from FR-CDG-OFAST on 78901234 · “courier stopped at gate 4” · #1241",
        "ACCUSÉ POSITIF de FR-CDG-OFAST sur 78901234 · “courier stopped at gate 4” · #1241",
    ),
    "receipt without a note": (
        receipt_event(1242, "not_located"),
        "RECEIPT not located from FR-CDG-OFAST on 78901234 · #1242",
        "ACCUSÉ non localisé de FR-CDG-OFAST sur 78901234 · #1242",
    ),
    "caught_up": (
        {"type": "caught_up", "seq": 1242},
        "--- up to date (#1242); live from here ---",
        "--- à jour (#1242) ; en direct à partir d'ici ---",
    ),
}


@pytest.mark.parametrize("case", sorted(LINES))
def test_each_event_has_its_line_in_english(case):
    """Mark, priority, kind, flight or place, contents, TLP, origin and seq, in that order."""
    frame, english, _french = LINES[case]
    assert english == render_event(frame, Translator("en"), BEFORE_EXPIRY)


@pytest.mark.parametrize("case", sorted(LINES))
def test_each_event_has_its_line_in_french(case):
    """The same line with the French words; codes, units and numbers unchanged."""
    frame, _english, french = LINES[case]
    assert french == render_event(frame, Translator("fr"), BEFORE_EXPIRY)


@pytest.mark.parametrize("status", ["exercise", "test"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_alert_that_is_not_actual_is_marked_before_anything_else(status, language):
    """alerts.md, status: an exercise or test alert must never be taken for a real one."""
    t = Translator(language)
    line = render_event(alert_event(7, {**PASSENGER, "status": status}), t)
    mark = t(f"render.{status}")
    assert (True, False) == (line.startswith(mark + " "),
                             render_event(alert_event(7, PASSENGER), t).startswith("***"))


@pytest.mark.parametrize(("language", "mark"), [("en", "[EXPIRED]"), ("fr", "[EXPIRÉE]")])
def test_an_alert_past_its_expires_at_is_marked_expired(language, mark):
    """alerts.md: the relay still delivers an expired alert; the feed shows it as such,
    after the exercise mark, and only once expires_at has passed."""
    t = Translator(language)
    alert = {**PASSENGER, "status": "exercise", "expires_at": "2026-11-23T17:00:00Z"}
    before = render_event(alert_event(8, alert), t, datetime(2026, 11, 23, 16, 59, tzinfo=UTC))
    at = render_event(alert_event(8, alert), t, datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    assert (False, True) == (mark in before, at.startswith(f"{t('render.exercise')} {mark} "))


def test_the_short_form_on_a_line_is_the_end_of_the_alert_id_not_its_time_prefix():
    """Two alerts received in the same millisecond share their first characters (UUIDv7)
    but not the short form their lines show."""
    first, second = "01a23155-61b5-70ed-be3b-3872abb1a198", "01a23155-61b5-70ed-be3b-38730803f347"
    lines = [render_event(alert_event(9, stored(SEIZURE, "TG-LFW-JAITF", alert_id)),
                          Translator("en"), BEFORE_EXPIRY) for alert_id in (first, second)]
    assert [" · abb1a198 · #9", " · 0803f347 · #9"] == [line[-len(" · abb1a198 · #9"):]
                                                       for line in lines]
