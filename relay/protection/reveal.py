"""What the relay shows of a stored event, following its stored state (protection.md).

- an alert neither masked nor reduced: its body with its personal fields opened and put
  back (an alert without personal fields, and every receipt: the stored bytes as they are);
- a masked alert: its body without personal fields, with ``masked_at``;
- a reduced alert: what reduction kept, with ``reduced_at`` (and ``masked_at`` if it was).

Alerts stored before protection (chain version 1) hold their fields in clear: the same
states are shown by removing them. A sealed box that does not open is shown without the
fields and with ``personal_unavailable: true``, and logged by seq (never by content):
one damaged row never stops a stream.
"""

from __future__ import annotations

from typing import Any

import msgpack
import orjson
import structlog

from relay.contract.personal import splice_personal, split_personal
from relay.contract.times import rfc3339
from relay.contract.wire import Encoding, encode_body
from relay.protection.keyring import KeyMissing
from relay.protection.sealing import SealBroken, Sealer

__all__ = ["PROTECTION_COLUMNS", "Revealer", "masked_at_of"]

def masked_at_of(table: str) -> str:
    """The column ``masked_at`` of the event row ``table`` (its name or alias in the
    query): its mark in relay_masks (migration 011), NULL while it is not masked."""
    return f"(SELECT m.masked_at FROM relay_masks m WHERE m.seq = {table}.seq) AS masked_at"


# What the shown body depends on, read in a query whose FROM is ``relay_events`` (no alias).
PROTECTION_COLUMNS = ("chain_version, key_id, wrapped_key, personal, reduced_at, sealed_at, "
                      + masked_at_of("relay_events"))
_log = structlog.get_logger("relay.protection")


class Revealer:
    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def needs_work(self, row: Any) -> bool:
        """False when the stored bytes are what is shown (the common case)."""
        if row["kind"] != "alert":
            return False
        if row["masked_at"] is not None or row["reduced_at"] is not None:
            return True
        return row["personal"] is not None

    def shown_value(self, row: Any, stored: dict[str, Any]) -> dict[str, Any]:
        """The body shown for ``row``, given its stored body parsed (and changed: the
        caller parsed it for this call)."""
        masked, reduced = row["masked_at"], row["reduced_at"]
        body = stored
        if masked is None and reduced is None:
            if row["personal"] is None:  # nothing sealed: none stored, or the fields in clear
                return body
            if row["wrapped_key"] is None:  # destroyed: never shown
                return {**body, "personal_unavailable": True}
            try:
                values = self._sealer.values(str(row["alert_id"]), row["key_id"],
                                             bytes(row["wrapped_key"]), bytes(row["personal"]))
            except (SealBroken, KeyMissing) as exc:
                _log.error("personal_data_unreadable", seq=row["seq"], error=type(exc).__name__)
                return {**body, "personal_unavailable": True}
            return splice_personal(body, values, in_place=True)
        if row["chain_version"] < 2:
            body = split_personal(body, in_place=True)[0]
        if masked is not None:
            body["masked_at"] = rfc3339(masked)
        if reduced is not None:
            body["reduced_at"] = rfc3339(reduced)
        return body

    def shown(self, row: Any, encoding: Encoding) -> bytes:
        """The shown body of ``row`` in ``encoding`` (its stored column for it is read)."""
        column = "body_json" if encoding is Encoding.JSON else "body_msgpack"
        stored = bytes(row[column])
        if not self.needs_work(row):
            return stored
        value = orjson.loads(stored) if encoding is Encoding.JSON else \
            msgpack.unpackb(stored, raw=False, timestamp=0)
        shown = self.shown_value(row, value)
        if encoding is Encoding.JSON:
            return orjson.dumps(shown)
        packed: bytes = msgpack.packb(shown, use_bin_type=True)
        return packed

    def shown_both(self, row: Any) -> tuple[bytes, bytes]:
        """Both encodings, from the stored JSON."""
        if not self.needs_work(row):
            return bytes(row["body_json"]), bytes(row["body_msgpack"])
        return encode_body(self.shown_value(row, orjson.loads(row["body_json"])))
