"""Identifiers of the contract and the one pattern of each (protocol.md "Words").

- a unit id: upper-case ``[A-Z0-9-]{3,40}``, by convention ``CC-AAA-KIND``;
- an alert id: a UUID (the relay gives UUIDv7) in lower-case hex, 8-4-4-4-12.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["ALERT_ID_PATTERN", "UNIT_ID_PATTERN", "is_alert_id", "is_unit_id"]

UNIT_ID_PATTERN: Final = re.compile(r"^[A-Z0-9-]{3,40}$")
ALERT_ID_PATTERN: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_unit_id(value: object) -> bool:
    """True for a string that is a well-formed unit id."""
    return isinstance(value, str) and UNIT_ID_PATTERN.fullmatch(value) is not None


def is_alert_id(value: object) -> bool:
    """True for a string that is a whole alert id (no prefix, no suffix, no newline)."""
    return isinstance(value, str) and ALERT_ID_PATTERN.fullmatch(value) is not None
