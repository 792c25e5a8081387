"""One readable line per event of the feed, in English or French.

An alert line shows, in this order: an EXERCISE or TEST mark when the alert is not
``actual`` (alerts.md, status: such alerts must never be taken for real ones), an
EXPIRED mark once its ``expires_at`` has passed (alerts.md: show expired alerts as
such), the priority, the kind (and UPDATE/CANCEL of the short form of the alert it
refers to), the flight and its route, the commodities and quantities or the number of
subjects, the TLP, the origin unit, the short form of the alert's id
(:func:`clients.shown.short_id`: what ``relay-feed receipt`` takes) and the seq::

    *** EXERCISE *** FLASH PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject · TLP:AMBER · ML-BKO-JAITF · 684fa456 · #1234
    [EXPIRED] URGENT SEIZURE at LFW · cocaine 2.4 kg · TLP:GREEN · TG-LFW-JAITF · 0c9e22d1 · #1236

An alert the relay sends without its personal fields (protection.md) says so before its
TLP, with the day (UTC) it happened: masked (``masked_at``), reduced to its audit record
(``reduced_at``: no priority, flight or contents are left, and none is made up), or its
personal fields unreadable (``personal_unavailable``)::

    FLASH PASSENGER AT571 2026-11-23 BKO→CMN→CDG · 1 subject(s) · Personal data masked on 2027-06-11 (data-protection rules) · TLP:AMBER · ML-BKO-JAITF · 684fa456 · #1234
    PASSENGER · Reduced to its audit record on 2031-12-01 · TLP:AMBER · ML-BKO-JAITF · 0c9e22d1 · #1236

Commodities are named in the reader's language (the names of :mod:`clients.prompts`);
codes, units, numbers and the TLP label (TLP 2.0 writes it ``TLP:AMBER`` in every
language) are not translated.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import clients.prompts  # noqa: F401 - registers the names of the choices (value.commodity.*)
from clients.fill_in import expired
from clients.i18n import Translator, register
from clients.shown import short_id
from relay.contract.times import moment

__all__ = ["protection_notices", "render_event", "utc_day"]

register({
    "render.exercise": ("*** EXERCISE ***", "*** EXERCICE ***"),
    "render.test": ("*** TEST ***", "*** TEST ***"),
    "render.passenger": ("PASSENGER", "PASSAGER"),
    "render.seizure": ("SEIZURE", "SAISIE"),
    "render.update": ("UPDATE", "MISE À JOUR"),
    "render.cancel": ("CANCEL", "ANNULATION"),
    "render.routine": ("ROUTINE", "ROUTINE"),
    "render.urgent": ("URGENT", "URGENT"),
    "render.flash": ("FLASH", "FLASH"),
    "render.at": ("at {airport}", "à {airport}"),
    "render.subjects": ("{count} subject(s)", "{count} personne(s)"),
    "render.of": ("of {alert_id}", "de {alert_id}"),
    "render.receipt": ("RECEIPT {status} from {unit} on {alert_id}",
                       "ACCUSÉ {status} de {unit} sur {alert_id}"),
    "render.caught_up": ("--- up to date (#{seq}); live from here ---",
                         "--- à jour (#{seq}) ; en direct à partir d'ici ---"),
    "render.received": ("received", "reçu"),
    "render.in_progress": ("in progress", "en cours"),
    "render.positive": ("POSITIVE", "POSITIF"),
    "render.negative": ("negative", "négatif"),
    "render.not_located": ("not located", "non localisé"),
    "render.expired": ("[EXPIRED]", "[EXPIRÉE]"),
    "render.masked": ("Personal data masked on {date} (data-protection rules)",
                      "Données personnelles masquées le {date} (règles de protection des données)"),
    "render.reduced": ("Reduced to its audit record on {date}",
                       "Réduite à sa trace d'audit le {date}"),
    "render.personal_unavailable": ("Personal data unavailable: the relay could not open it",
                                    "Données personnelles indisponibles : le relais n'a pas pu les ouvrir"),
    # A receipt's status in a sentence ("receipt positive stored").
    "receipt.received": ("received", "reçu"),
    "receipt.in_progress": ("in progress", "en cours"),
    "receipt.positive": ("positive", "positif"),
    "receipt.negative": ("negative", "négatif"),
    "receipt.not_located": ("not located", "non localisé"),
})

_SEPARATOR = " · "


def _flight(alert: dict[str, Any], t: Translator) -> str | None:
    flight = alert.get("flight")
    if isinstance(flight, dict):
        route = flight.get("route") or [flight.get("origin"), flight.get("destination")]
        airports = "→".join(str(code) for code in route if code)
        return " ".join(str(part) for part in (flight.get("number"), flight.get("date"), airports) if part)
    if alert.get("location"):
        return t("render.at", airport=alert["location"])
    return None


def _contents(alert: dict[str, Any], t: Translator) -> str | None:
    seizures = alert.get("seizures")
    if isinstance(seizures, list) and seizures:
        return ", ".join(_seizure(item, t) for item in seizures if isinstance(item, dict))
    subjects = alert.get("subjects")
    if isinstance(subjects, list) and subjects:
        return t("render.subjects", count=len(subjects))
    return None


def _seizure(item: dict[str, Any], t: Translator) -> str:
    commodity = item.get("commodity")
    name = _translated(t, "value.commodity", commodity, upper=False) if commodity else None
    parts = [name, item.get("quantity"), item.get("unit")]
    return " ".join(f"{part:g}" if isinstance(part, float) else str(part)
                    for part in parts if part is not None)


def _translated(t: Translator, prefix: str, value: object, *, upper: bool = True) -> str:
    """The catalogue's word for a code; a code it does not know, as it is (in capitals)."""
    try:
        return t(f"{prefix}.{value}")
    except KeyError:
        return str(value).upper() if upper else str(value)


def utc_day(value: object) -> str:
    """The UTC day of an RFC 3339 time (``2027-06-11``); anything else as it is."""
    try:
        return moment(str(value)).astimezone(UTC).date().isoformat()
    except ValueError:
        return str(value)


def protection_notices(alert: dict[str, Any], t: Translator) -> list[str]:
    """What data protection did to the alert, in words (protection.md); [] for an alert
    the relay sent whole."""
    notices = []
    if alert.get("masked_at"):
        notices.append(t("render.masked", date=utc_day(alert["masked_at"])))
    if alert.get("reduced_at"):
        notices.append(t("render.reduced", date=utc_day(alert["reduced_at"])))
    if alert.get("personal_unavailable") is True:
        notices.append(t("render.personal_unavailable"))
    return notices


def _short(value: object) -> str:
    return short_id(value) if isinstance(value, str) else "?"


def _alert_line(frame: dict[str, Any], t: Translator, now: datetime | None) -> str:
    alert: dict[str, Any] = frame.get("alert") or {}
    head: list[str] = []
    status = alert.get("status", "actual")
    if status in ("exercise", "test"):
        head.append(t(f"render.{status}"))
    if expired(alert, now):
        head.append(t("render.expired"))
    if alert.get("priority"):  # a reduced alert has none
        head.append(_translated(t, "render", alert["priority"]))
    head.append(_translated(t, "render", alert.get("kind", "?")))
    msg_type = alert.get("msg_type", "alert")
    if msg_type in ("update", "cancel"):
        head.append(_translated(t, "render", msg_type))
        if alert.get("references"):
            head.append(t("render.of", alert_id=_short(alert["references"])))
    flight = _flight(alert, t)
    if flight:
        head.append(flight)
    parts = [" ".join(head)]
    contents = _contents(alert, t)
    if contents:
        parts.append(contents)
    parts += protection_notices(alert, t)
    parts.append(f"TLP:{str(alert.get('tlp', '?')).upper()}")
    parts.append(str(alert.get("origin_unit", "?")))
    parts.append(_short(alert.get("alert_id")))
    parts.append(f"#{frame.get('seq')}")
    return _SEPARATOR.join(parts)


def _receipt_line(frame: dict[str, Any], t: Translator) -> str:
    receipt: dict[str, Any] = frame.get("receipt") or {}
    line = t("render.receipt", status=_translated(t, "render", receipt.get("status", "?")),
             unit=receipt.get("unit", "?"), alert_id=_short(receipt.get("alert_id")))
    parts = [line]
    if receipt.get("note"):
        parts.append(f"“{receipt['note']}”")
    parts.append(f"#{frame.get('seq')}")
    return _SEPARATOR.join(parts)


def render_event(frame: dict[str, Any], t: Translator, now: datetime | None = None) -> str:
    """The readable line of an ``alert``, ``receipt`` or ``caught_up`` frame; an alert
    is marked expired when its ``expires_at`` is not later than ``now`` (default: the
    clock's now)."""
    kind = frame.get("type")
    if kind == "alert":
        return _alert_line(frame, t, now)
    if kind == "receipt":
        return _receipt_line(frame, t)
    if kind == "caught_up":
        return t("render.caught_up", seq=frame.get("seq"))
    return str(frame)
