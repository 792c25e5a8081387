"""Two valid example alerts used across the tests: fresh dicts, with overrides."""

from __future__ import annotations

import copy
from typing import Any

_PASSENGER: dict[str, Any] = {
    "kind": "passenger",
    "priority": "flash",
    "tlp": "amber",
    "distribution": {"units": ["MA-CMN-BNPJ", "FR-CDG-OFAST"]},
    "sent_at": "2026-11-23T08:00:00Z",
    "summary": "Suspected cocaine courier (ingestion) boarding AT571 BKO-CMN, connecting to CDG.",
    "language": "en",
    "flight": {"number": "AT571", "date": "2026-11-23", "origin": "BKO", "destination": "CDG",
               "route": ["BKO", "CMN", "CDG"], "scheduled_arrival": "2026-11-23T16:40:00Z"},
    "subjects": [{"role": "courier", "surname": "DOE", "given_names": "John", "nationality": "ML",
                  "document": {"type": "passport", "number": "AA0000000", "issuing_country": "ML"},
                  "seat": "23C"}],
    "indicators": ["cash_ticket", "one_way", "ingestion_signs"],
    "requested_action": "intercept",
    "grading": {"source": "B", "information": "2"},
}

_SEIZURE: dict[str, Any] = {
    "kind": "seizure",
    "priority": "urgent",
    "tlp": "green",
    "distribution": {"countries": ["TG", "ET", "BR"]},
    "sent_at": "2026-11-23T09:30:00Z",
    "summary": "2.4 kg of cocaine in ingested pellets, passenger arriving from GRU via ADD.",
    "location": "LFW",
    "occurred_at": "2026-11-23T07:55:00Z",
    "seizures": [{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"}],
    "concealment": "ingested",
    "detection": "body_scanner",
}


def passenger_alert(**overrides: Any) -> dict[str, Any]:
    """Bamako → Casablanca → Paris, flight AT571, one courier."""
    alert = copy.deepcopy(_PASSENGER)
    alert.update(overrides)
    return alert


def seizure_alert(**overrides: Any) -> dict[str, Any]:
    """Cocaine seized at Lomé (LFW)."""
    alert = copy.deepcopy(_SEIZURE)
    alert.update(overrides)
    return alert
