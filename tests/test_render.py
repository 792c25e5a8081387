"""clients.render: one readable line per feed event, in English and in French."""

from __future__ import annotations

from typing import Any

import pytest

from clients.i18n import Translator
from clients.render import render_event
from tests.alert_examples import passenger_alert, seizure_alert

PASSENGER_ID = "0192a3b4-c5d6-7e8f-9012-345678901234"


def stored(alert: dict[str, Any], origin: str) -> dict[str, Any]:
    """An alert as the relay sends it: with its alert_id and origin_unit (protocol.md, events)."""
    return {**alert, "alert_id": PASSENGER_ID, "origin_unit": origin,
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
        "FLASH PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · #1234",
        "FLASH PASSAGER AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · #1234",
    ),
    "seizure": (
        alert_event(1236, SEIZURE),
        "URGENT SEIZURE at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1236",
        "URGENT SAISIE à LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1236",
    ),
    "exercise": (
        alert_event(1237, {**SEIZURE, "status": "exercise"}),
        "*** EXERCISE *** URGENT SEIZURE at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1237",
        "*** EXERCICE *** URGENT SAISIE à LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1237",
    ),
    "test": (
        alert_event(1238, {**PASSENGER, "status": "test", "priority": "routine"}),
        "*** TEST *** ROUTINE PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · #1238",
        "*** TEST *** ROUTINE PASSAGER AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · #1238",
    ),
    "update": (
        alert_event(1239, {**PASSENGER, "msg_type": "update", "references": PASSENGER_ID}),
        f"FLASH PASSENGER UPDATE of {PASSENGER_ID} AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · TLP:AMBER · ML-BKO-JAITF · #1239",
        f"FLASH PASSAGER MISE À JOUR de {PASSENGER_ID} AT571 2026-11-23 BKO→CMN→CDG · 1 personne(s) · TLP:AMBER · ML-BKO-JAITF · #1239",
    ),
    "cancel": (
        alert_event(1240, {**SEIZURE, "msg_type": "cancel", "references": PASSENGER_ID}),
        f"URGENT SEIZURE CANCEL of {PASSENGER_ID} at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1240",
        f"URGENT SAISIE ANNULATION de {PASSENGER_ID} à LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · #1240",
    ),
    "receipt with a note": (
        receipt_event(1241, "positive", note="courier stopped at gate 4"),
        f"RECEIPT POSITIVE from FR-CDG-OFAST on {PASSENGER_ID} · “courier stopped at gate 4” · #1241",
        f"ACCUSÉ POSITIF de FR-CDG-OFAST sur {PASSENGER_ID} · “courier stopped at gate 4” · #1241",
    ),
    "receipt without a note": (
        receipt_event(1242, "not_located"),
        f"RECEIPT not located from FR-CDG-OFAST on {PASSENGER_ID} · #1242",
        f"ACCUSÉ non localisé de FR-CDG-OFAST sur {PASSENGER_ID} · #1242",
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
    assert english == render_event(frame, Translator("en"))


@pytest.mark.parametrize("case", sorted(LINES))
def test_each_event_has_its_line_in_french(case):
    """The same line with the French words; codes, units and numbers unchanged."""
    frame, _english, french = LINES[case]
    assert french == render_event(frame, Translator("fr"))


@pytest.mark.parametrize("status", ["exercise", "test"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_alert_that_is_not_actual_is_marked_before_anything_else(status, language):
    """alerts.md, status: an exercise or test alert must never be taken for a real one."""
    t = Translator(language)
    line = render_event(alert_event(7, {**PASSENGER, "status": status}), t)
    mark = t(f"render.{status}")
    assert (True, False) == (line.startswith(mark + " "),
                             render_event(alert_event(7, PASSENGER), t).startswith("***"))
