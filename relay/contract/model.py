"""Vocabulary shared by every module: ids, enumerations and the facts of an event.

The values are those of the contract (docs/alerts.md and docs/protocol.md).
Everything here is pure data: no I/O, no library but the standard one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

__all__ = [
    "COMMODITIES",
    "CONCEALMENTS",
    "DETECTIONS",
    "DOCUMENT_TYPES",
    "KINDS",
    "MASS_VOLUME_COUNT_UNITS",
    "MSG_TYPES",
    "PRIORITIES",
    "PRIORITY_RANK",
    "RECEIPT_STATUSES",
    "REQUESTED_ACTIONS",
    "STATUSES",
    "SUBJECT_ROLES",
    "TLP_LEVELS",
    "AlertFacts",
    "AlertId",
    "Distribution",
    "Seq",
    "UnitId",
]

UnitId = NewType("UnitId", str)
Seq = NewType("Seq", int)
AlertId = NewType("AlertId", str)

KINDS = ("passenger", "seizure")
MSG_TYPES = ("alert", "update", "cancel")
STATUSES = ("actual", "exercise", "test")
PRIORITIES = ("routine", "urgent", "flash")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
TLP_LEVELS = ("red", "amber+strict", "amber", "green", "clear")
RECEIPT_STATUSES = ("received", "in_progress", "positive", "negative", "not_located")
COMMODITIES = (
    "cocaine", "heroin", "cannabis", "cannabis_resin", "methamphetamine", "tramadol",
    "other_synthetic_drugs", "precursors", "cash", "gold", "precious_stones",
    "counterfeit_medicines", "counterfeit_goods", "cigarettes", "wildlife", "ivory",
    "timber", "weapons", "ammunition", "explosives", "fraudulent_documents", "other",
)
SUBJECT_ROLES = ("passenger", "courier", "victim", "sender", "recipient")
DOCUMENT_TYPES = ("passport", "id_card", "residence_permit", "other")
REQUESTED_ACTIONS = ("intercept", "control", "observe", "controlled_delivery", "information")
CONCEALMENTS = (
    "body_carry", "ingested", "body_cavity", "checked_baggage", "cabin_baggage",
    "false_bottom", "clothing", "footwear", "cargo", "mail", "courier_parcel", "aircraft",
    "other",
)
DETECTIONS = (
    "profiling", "api_pnr", "xray", "canine", "body_scanner", "physical_search", "tip_off",
    "random", "other",
)
MASS_VOLUME_COUNT_UNITS = ("kg", "g", "l", "pcs")


@dataclass(frozen=True, slots=True)
class Distribution:
    """Who an alert is addressed to (alerts.md ``distribution``)."""

    all: bool = False
    units: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What visibility and subscription filters need to know of a stored alert.

    ``airports`` holds every IATA code of ``flight.origin``, ``flight.destination``,
    ``flight.route[]`` and ``location``; ``countries`` the ISO countries of those airports.
    """

    kind: str
    msg_type: str
    status: str
    priority: str
    tlp: str
    distribution: Distribution
    airports: frozenset[str]
    countries: frozenset[str]
    commodities: frozenset[str]
    references: str | None
