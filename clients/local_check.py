"""The relay's own validation, run on the terminal before an alert is queued.

An officer learns at once, offline, what the relay would refuse, and the outbox never
holds an alert that can only be rejected. The rules are not copied: :func:`check_alert`
calls :func:`relay.validation.validate_alert`, so the terminal and the relay judge with
one text of alerts.md.

The terminal does not know two things the relay does: the units registered in its
database and the regions of its configuration. The local check therefore accepts, for
``distribution.units``, every *well-formed* unit id (protocol.md "Words":
``[A-Z0-9-]{3,40}``, the pattern the relay's database enforces on every unit) and, for
``distribution.regions``, every region name. It may accept an alert the relay then
refuses for an unknown unit or region; it never refuses one the relay would accept. The
relay stays the final judge.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from typing import Any, Final

from relay.contract.errors import InvalidAlert
from relay.contract.ids import UNIT_ID_PATTERN
from relay.contract.problems import Problem
from relay.contract.validation import validate_alert

__all__ = ["ANY_REGION", "WELL_FORMED_UNITS", "AnyRegion", "WellFormedUnits", "check_alert"]


class WellFormedUnits(Container[str]):
    """Contains every string that is a well-formed unit id, and nothing else.

    A malformed id can never be a registered unit (the relay's database refuses it), so
    refusing it locally agrees with the relay, with the relay's own problem sentence.
    """

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and UNIT_ID_PATTERN.fullmatch(value) is not None


class AnyRegion(Mapping[str, frozenset[str]]):
    """Contains every region name; each one stands for no country the terminal knows.

    Region names are keys of the relay's configuration (protocol.md "Configuration
    file"), which may be any string, so no name is refused locally. Iterating yields
    nothing: the terminal knows no region by name.
    """

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> frozenset[str]:
        if not isinstance(key, str):
            raise KeyError(key)
        return frozenset()

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


WELL_FORMED_UNITS: Final = WellFormedUnits()
ANY_REGION: Final = AnyRegion()


def check_alert(alert: object) -> tuple[dict[str, Any] | None, list[Problem]]:
    """``(normalised alert, [])`` if the relay's rules accept ``alert``, else ``(None, problems)``.

    The normalised alert is what :func:`relay.validation.validate_alert` returns: a new
    dict with ``msg_type`` and ``status`` defaulted and timestamps in UTC with ``Z``.
    The problems are the relay's own, in its order, each with the dotted path of the
    field (``subjects[0].document.number``) and the relay's English sentence. Never
    raises for any value of ``alert``.
    """
    try:
        normalised = validate_alert(alert, known_units=WELL_FORMED_UNITS, regions=ANY_REGION)
    except InvalidAlert as refused:
        return None, list(refused.details)
    return normalised, []
