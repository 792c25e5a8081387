"""Timestamps of the contract: RFC 3339 in UTC (protocol.md "Stream transport").

The one place that reads a client's timestamp (:func:`normalise_timestamp`, strict RFC
3339 section 5.6 with a required offset) and the one formatter of the relay's own times
(:func:`rfc3339`: UTC, milliseconds, ``Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

__all__ = ["TIMESTAMP_SYNTAX", "moment", "normalise_timestamp", "rfc3339"]

# RFC 3339 section 5.6, strictly: "T" and "Z" may be lower case, the offset is required.
# Leap seconds (:60) are refused: Python cannot represent them.
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_OFFSET = r"[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
TIMESTAMP_SYNTAX: Final = re.compile(
    rf"(?P<day>{_DAY})[Tt](?P<time>{_TIME})(?:\.(?P<fraction>[0-9]+))?(?P<offset>{_OFFSET})")


def normalise_timestamp(value: str) -> str:
    """An RFC 3339 timestamp with an offset, as UTC with a ``Z`` suffix.

    Microseconds are kept only when not zero; digits beyond the microsecond are dropped.
    Raises ValueError if ``value`` is not such a timestamp or not a representable moment.
    """
    match = TIMESTAMP_SYNTAX.fullmatch(value)
    if match is None:
        raise ValueError("not an RFC 3339 timestamp with a time offset")
    fraction = ((match["fraction"] or "") + "000000")[:6]
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    try:
        parsed = datetime.fromisoformat(f"{match['day']}T{match['time']}.{fraction}{offset}")
        parsed = parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("out of the representable range") from exc
    spec = "microseconds" if parsed.microsecond else "seconds"
    return parsed.isoformat(timespec=spec).replace("+00:00", "Z")


def moment(value: str) -> datetime:
    """The aware datetime of an RFC 3339 timestamp; ValueError if it is not one."""
    return datetime.fromisoformat(normalise_timestamp(value).replace("Z", "+00:00"))


def rfc3339(when: datetime, *, timespec: str = "milliseconds") -> str:
    """A moment as the relay writes it: UTC, ``Z`` suffix, to the millisecond (or to the
    ``timespec`` of :meth:`datetime.isoformat`: delivery records are kept to the second)."""
    return when.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
