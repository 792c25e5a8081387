"""From an alert body to what is stored, and back (protection.md, docs/protection.md).

:meth:`Sealer.seal` turns an alert body into its stored form: the body without its
personal fields (what is hashed and what a masked alert shows), the fields' salted
commitments, the digest of what reduction removes, and the fields with their salts in an
envelope (:mod:`relay.protection.envelope`) whose data key the current operator key
wraps. :meth:`Sealer.open` gives the fields back while the data key exists.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack
import orjson

from relay.contract.personal import (
    PersonalValue,
    audit_part,
    canonical,
    commitment,
    content_digest,
    split_personal,
)
from relay.contract.wire import encode_body
from relay.protection.envelope import SealBroken, new_data_key, open_box, seal_box
from relay.protection.keyring import Keyring, OperatorKey

__all__ = ["CHAIN_V2", "SALT_BYTES", "SealBroken", "Sealed", "Sealer"]

CHAIN_V2 = 2
SALT_BYTES = 16  # protection.md: "a random salt of at least 128 bits per field"


@dataclass(frozen=True, slots=True)
class Sealed:
    """An alert as stored (relay_events, migration 010)."""

    body_json: bytes
    body_msgpack: bytes
    audit_json: bytes  # what the chain hashes of the kept fields
    content_digest: bytes  # what the chain hashes of the removable content
    commitments: bytes | None  # canonical JSON [[path, commitment], ...]; None: no field
    key_id: str | None = None
    wrapped_key: bytes | None = None
    personal: bytes | None = None


def _context(tag: bytes, alert_id: str) -> bytes:
    return tag + b"\x00" + alert_id.encode("ascii")


class Sealer:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, alert_id: str, body_json: bytes, body_msgpack: bytes) -> Sealed:
        stored, values = split_personal(orjson.loads(body_json), in_place=True)
        if not values:
            return Sealed(body_json, body_msgpack, canonical(audit_part(stored)),
                          content_digest(stored, []), None)
        salts = secrets.token_bytes(SALT_BYTES * len(values))
        salted = [(path, value, salts[i * SALT_BYTES:(i + 1) * SALT_BYTES])
                  for i, (path, value) in enumerate(values)]
        commitments = [[path, commitment(salt, value)] for path, value, salt in salted]
        data_key = new_data_key()
        operator = self.keyring.current
        stored_json, stored_msgpack = encode_body(stored)
        return Sealed(
            stored_json, stored_msgpack, canonical(audit_part(stored)),
            content_digest(stored, commitments), canonical(commitments), operator.key_id,
            seal_box(operator.key, data_key, _context(b"relay-data-key-v1", alert_id)),
            seal_box(data_key, msgpack.packb([list(s) for s in salted], use_bin_type=True),
                     _context(b"relay-personal-v1", alert_id)))

    def seal_legacy(self, alert_id: str, body_json: bytes) -> Sealed | None:
        """An alert stored before protection (chain version 1, its fields in clear),
        sealed in place: the body without its fields, and in the envelope the fields and
        the original bytes that its v1 hash covers (so that verify can still recompute
        it while the data key exists). None: it holds no personal field."""
        body = orjson.loads(body_json)
        stored, values = split_personal(body)
        if not values:
            return None
        data_key = new_data_key()
        operator = self.keyring.current
        stored_json, stored_msgpack = encode_body(stored)
        plaintext = msgpack.packb({"fields": [[path, value, b""] for path, value in values],
                                   "original": body_json}, use_bin_type=True)
        return Sealed(
            stored_json, stored_msgpack, b"", b"", None, operator.key_id,
            seal_box(operator.key, data_key, _context(b"relay-data-key-v1", alert_id)),
            seal_box(data_key, plaintext, _context(b"relay-personal-v1", alert_id)))

    def _plaintext(self, alert_id: str, key_id: str, wrapped_key: bytes, personal: bytes) -> Any:
        data_key = open_box(self.keyring.get(key_id), wrapped_key,
                            _context(b"relay-data-key-v1", alert_id))
        try:
            return msgpack.unpackb(open_box(data_key, personal, _context(b"relay-personal-v1", alert_id)),
                                   raw=False)
        except (ValueError, TypeError, msgpack.UnpackException):
            raise SealBroken("the personal fields are not in the relay's sealed format") from None

    def open(self, alert_id: str, key_id: str, wrapped_key: bytes,
             personal: bytes) -> list[tuple[str, Any, bytes]]:
        """The fields as (path, value, salt); :class:`SealBroken` if they do not open,
        :class:`~relay.protection.keyring.KeyMissing` if the key file lacks ``key_id``."""
        items = self._plaintext(alert_id, key_id, wrapped_key, personal)
        if isinstance(items, dict):  # sealed from history (seal_legacy)
            items = items.get("fields")
        try:
            return [(str(path), value, bytes(salt)) for path, value, salt in items]
        except (ValueError, TypeError):
            raise SealBroken("the personal fields are not in the relay's sealed format") from None

    def original(self, alert_id: str, key_id: str, wrapped_key: bytes, personal: bytes) -> bytes:
        """The original bytes of an alert sealed from history (what its v1 hash covers)."""
        sealed = self._plaintext(alert_id, key_id, wrapped_key, personal)
        if not isinstance(sealed, dict) or not isinstance(sealed.get("original"), bytes):
            raise SealBroken("the sealed fields hold no original body")
        return bytes(sealed["original"])

    def values(self, alert_id: str, key_id: str, wrapped_key: bytes,
               personal: bytes) -> list[PersonalValue]:
        return [(path, value) for path, value, _ in self.open(alert_id, key_id, wrapped_key, personal)]

    def rewrap(self, alert_id: str, key_id: str, wrapped_key: bytes,
               to: OperatorKey) -> tuple[str, bytes]:
        """The data key wrapped under the operator key ``to`` instead of ``key_id``."""
        context = _context(b"relay-data-key-v1", alert_id)
        data_key = open_box(self.keyring.get(key_id), wrapped_key, context)
        return to.key_id, seal_box(to.key, data_key, context)

    def check_commitments(self, alert_id: str, key_id: str, wrapped_key: bytes, personal: bytes,
                          commitments: Mapping[str, str]) -> tuple[str, dict[str, str]] | None:
        """None when the sealed fields open and match their commitments; else why not,
        as a reason code of :data:`relay.store.chain.REASONS` and its parameters."""
        try:
            fields = self.open(alert_id, key_id, wrapped_key, personal)
        except SealBroken:
            return "sealed_not_opening", {}
        if {path for path, _, _ in fields} != set(commitments):
            return "sealed_other_fields", {}
        for path, value, salt in fields:
            if commitment(salt, value) != commitments[path]:
                return "sealed_field_differs", {"path": path}
        return None
