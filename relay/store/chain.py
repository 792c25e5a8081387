"""The tamper-evident chain of the event log: its canonical encoding and its verification.

Each event's ``hash`` is SHA-256 over the previous event's hash and the event's canonical
encoding ``relay-chain-v1`` (sql/migrations/004_chain_and_roles.sql, docs/audit.md)::

    prev_hash (32 zero bytes before seq 1) || b"relay-chain-v1\\x00"
    || seq (8 bytes, big-endian) || kind (ASCII) || b"\\x00" || body_json

:func:`verify_chain` walks the log in seq order and reports the first seq where the
chain breaks: a missing event, a hash that does not match, or columns that disagree with
the hashed body (visibility is decided from those columns, so they are checked too).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg
import msgpack
import orjson
from asyncpg.pool import PoolConnectionProxy

from relay import protection
from relay.contract.errors import BadFrame
from relay.contract.facts import alert_facts
from relay.contract.federation import audience_distribution, parse_audience
from relay.contract.fields import RELAY_FIELDS
from relay.contract.personal import (
    audit_part,
    canonical,
    content_digest,
    content_part,
    has_personal,
    remove_personal,
)
from relay.protection.keyring import KeyMissing
from relay.protection.sealing import SealBroken
from relay.store.eventlog import EVENT_COLUMNS, event_from_row
from relay.store.pool import translate_errors

__all__ = [
    "CHAIN_VERSION",
    "GENESIS",
    "ChainReport",
    "event_hash",
    "event_hash_v2",
    "sealed_hash",
    "verify_chain",
    "verify_stored_chain",
]

Connection = asyncpg.Connection | PoolConnectionProxy
GENESIS = bytes(32)
CHAIN_VERSION = b"relay-chain-v1"
CHAIN_VERSION_2 = b"relay-chain-v2"

# Why a chain is broken: a code, its parameters and the English sentence (the French
# ones are in relay/cli/messages.py, "relay.chain.<code>"; "columns" names its column by
# a code of COLUMNS).
REASONS: Final = {
    "missing": "event {event} is missing",
    "hash_mismatch": "the hash does not match the event's content and the previous hash",
    "columns": "the stored {what} disagrees with the hashed body",
    "kept_columns": "the stored {what} disagrees with the kept body",
    "receipt_marked": "a receipt marked masked, reduced or sealed: only alerts ever are",
    "reduced_content": "a reduced alert holds content that reduction removes",
    "masked_personal": "a masked alert stored before protection still holds personal fields",
    "not_json": "the stored body or commitments are not JSON",
    "bad_shape": "the stored body or commitments are not of their shape",
    "not_encoding": "the stored body is not in the relay's encoding: its bytes were changed",
    "digest_mismatch": "the digest kept beside the event does not match its content",
    "msgpack_differs": "the stored MessagePack body is not the stored JSON body",
    "masked_not_passenger": "an alert marked masked that is not a passenger alert",
    "fields_destroyed": "the sealed personal fields of an alert neither masked nor reduced"
                        " were destroyed",
    "no_data_key": "sealed personal fields without their data key",
    "key_missing": "the sealed personal fields do not open: key {key} is not in the key file",
    "sealed_not_opening": "the sealed personal fields do not open: altered, or moved from another alert",
    "sealed_other_fields": "the sealed personal fields are not the ones committed to",
    "sealed_field_differs": "the sealed field {path} differs from its commitment",
    "original_not_json": "the sealed original body is not JSON",
    "original_mismatch": "the stored body is not the sealed original without its personal fields",
    "bad_commitments": "the commitments are not of their shape",
    "tail_missing": "the head says seq {head}, but the log ends at seq {last}:"
                    " events are missing at the end",
    "past_head": "the log goes on to seq {last} past the head's seq {head}:"
                 " events were added without the relay",
    "head_rewritten": "the newest event's hash differs from the one the head recorded:"
                      " the log was rewritten",
}
COLUMNS: Final = {
    "alert_id": "alert_id",
    "receipt": "receipt author or status",
    "receipt_origin": "origin_unit (not the origin of the receipt's alert)",
    "origin_unit": "origin_unit",
    "origin_relay": "origin_relay",
    "audience": "audience",
    "audience_without_peer": "origin_relay (an event with an audience came from no peer)",
    "facts": "distribution, TLP or filter facts",
}
Problem = tuple[int, str, dict[str, Any]]  # (seq, reason code, its parameters)


def reason(code: str, params: dict[str, Any]) -> str:
    """The English sentence of a reason code."""
    values = {**params, "what": COLUMNS.get(str(params.get("what")), params.get("what"))}
    return REASONS[code].format(**values)
_PAGE = 5000


def event_hash(prev: bytes, seq: int, kind: str, body_json: bytes) -> bytes:
    """The chain hash of one event (the same formula as ``relay_event_hash`` in SQL)."""
    return hashlib.sha256(
        prev + CHAIN_VERSION + b"\x00" + seq.to_bytes(8, "big") + kind.encode("ascii")
        + b"\x00" + body_json
    ).digest()


def event_hash_v2(prev: bytes, seq: int, kind: str, audit_json: bytes, digest: bytes) -> bytes:
    """The chain hash of a sealed alert (``relay_event_hash_v2``, migration 010): over the
    canonical JSON of what reduction keeps and the digest of what it removes."""
    return hashlib.sha256(
        prev + CHAIN_VERSION_2 + b"\x00" + seq.to_bytes(8, "big") + kind.encode("ascii")
        + b"\x00" + audit_json + b"\x00" + digest
    ).digest()


def sealed_hash(prev: bytes, seq: int, kind: str, stored_body: dict[str, Any],
                commitments: list[list[str]], kept_digest: bytes | None) -> tuple[bytes, bytes]:
    """(hash, digest) of a sealed alert from its stored body: the digest is computed from
    the body unless the alert was reduced (``kept_digest``: the one kept beside it)."""
    digest = kept_digest if kept_digest is not None else content_digest(stored_body, commitments)
    return event_hash_v2(prev, seq, kind, canonical(audit_part(stored_body)), digest), digest


@dataclass(frozen=True, slots=True)
class ChainReport:
    intact: bool
    events: int
    head: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None  # in English (the HTTP answer); ``code`` and ``params`` name it
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def broken(cls, checked: int, head_seq: int, head_hash: bytes, seq: int, code: str,
               **params: Any) -> ChainReport:
        return cls(False, checked, head_seq, head_hash.hex(), seq, reason(code, params), code,
                   params)

    def as_dict(self) -> dict[str, Any]:
        """The body of ``GET /v1/audit/verify`` (protocol.md)."""
        if self.intact:
            return {"intact": True, "events": self.events, "head": self.head,
                    "head_hash": self.head_hash}
        return {"intact": False, "events": self.events, "first_broken_seq": self.first_broken_seq,
                "reason": self.reason}


async def verify_chain(conn: Connection, *, page_size: int = _PAGE) -> ChainReport:
    """Recompute the whole chain; constant memory (``page_size`` events at a time).

    The head and every page are read in one repeatable-read snapshot, so events that a
    running relay commits meanwhile are neither counted nor taken for tampering.
    """
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _verify_snapshot(conn, page_size)


async def verify_stored_chain(pool: asyncpg.Pool) -> ChainReport:
    """:func:`verify_chain` on a connection of ``pool``; a failing store is ``unavailable``."""
    async with translate_errors("verifying the chain"), pool.acquire() as conn:
        return await verify_chain(conn)


async def _verify_snapshot(conn: Connection, page_size: int) -> ChainReport:
    head_row = await conn.fetchrow("SELECT seq, hash FROM relay_head")
    assert head_row is not None  # migration 001 inserts the one row; nothing deletes it
    head, head_hash = int(head_row["seq"]), bytes(head_row["hash"])
    prev, expected, checked = GENESIS, 1, 0
    while True:
        rows = await conn.fetch(
            f"SELECT {EVENT_COLUMNS}, hash, receipt_status, content_digest, commitments,"
            " (SELECT a.origin_unit FROM relay_events a WHERE a.kind = 'alert'"
            "   AND a.alert_id = relay_events.alert_id) AS alert_origin"
            " FROM relay_events WHERE seq >= $1 ORDER BY seq LIMIT $2", expected, page_size)
        for row in rows:
            problem = _check_row(row, expected, prev)
            if problem is not None:
                return ChainReport.broken(checked, head, head_hash, problem[0], problem[1],
                                          **problem[2])
            prev, expected, checked = bytes(row["hash"]), expected + 1, checked + 1
        if len(rows) < page_size:
            break
    last = expected - 1
    if last < head:
        return ChainReport.broken(checked, head, head_hash, last + 1, "tail_missing",
                                  head=head, last=last)
    if last > head:
        return ChainReport.broken(checked, head, head_hash, head + 1, "past_head",
                                  head=head, last=last)
    if head_hash != prev:
        return ChainReport.broken(checked, head, head_hash, head, "head_rewritten")
    return ChainReport(True, checked, head, head_hash.hex())


def _check_row(row: asyncpg.Record, expected: int, prev: bytes) -> Problem | None:
    seq = row["seq"]
    if seq != expected:
        return expected, "missing", {"event": expected}
    if row["masked_at"] is not None and row["alert_kind"] != "passenger":
        return seq, "masked_not_passenger", {}
    problem = _check_sealed(row, prev) if row["chain_version"] == 2 else _check_v1(row, prev)
    if problem is None and _msgpack_of(bytes(row["body_json"])) != bytes(row["body_msgpack"]):
        # What MessagePack subscribers receive is the JSON body hashed, encoded again.
        return seq, "msgpack_differs", {}
    return problem


def _check_v1(row: asyncpg.Record, prev: bytes) -> Problem | None:
    """An event of chain version 1: a receipt, or an alert stored before protection."""
    seq = row["seq"]
    original = bytes(row["body_json"])
    if row["kind"] != "alert":
        if row["reduced_at"] is not None or row["sealed_at"] is not None or row["masked_at"] is not None:
            return seq, "receipt_marked", {}
    elif row["reduced_at"] is not None or (row["sealed_at"] is not None and row["personal"] is None
                                           and row["masked_at"] is not None
                                           and row["alert_kind"] == "passenger"):
        # Stored before protection, and its original content destroyed since (reduced, or
        # masked with shred_on_mask): the chain runs through its stored hash, and the
        # columns are checked against what it kept (docs/audit.md).
        reduced = row["reduced_at"] is not None
        body = orjson.loads(original)
        if reduced and content_part(body):
            return seq, "reduced_content", {}
        if not reduced and has_personal(body):
            return seq, "masked_personal", {}
        mismatch = _columns_mismatch(row, reduced=reduced)
        return (seq, "kept_columns", {"what": mismatch}) if mismatch else None
    elif row["sealed_at"] is not None and row["personal"] is not None:
        opened = _original_of(row)
        if isinstance(opened, tuple):
            return seq, *opened
        original = opened
    if event_hash(prev, seq, row["kind"], original) != bytes(row["hash"]):
        return seq, "hash_mismatch", {}
    mismatch = _columns_mismatch(row, body_json=original)
    if mismatch:
        return seq, "columns", {"what": mismatch}
    return None


def _check_sealed(row: asyncpg.Record, prev: bytes) -> Problem | None:
    """A sealed alert (chain version 2): its hash, its digest, its columns and, while its
    data key exists, its sealed personal fields against their commitments."""
    seq = row["seq"]
    try:
        body = orjson.loads(row["body_json"])
        commitments = orjson.loads(row["commitments"]) if row["commitments"] is not None else []
    except orjson.JSONDecodeError:
        return seq, "not_json", {}
    if not isinstance(body, dict) or not isinstance(commitments, list):
        return seq, "bad_shape", {}
    if orjson.dumps(body) != bytes(row["body_json"]):
        # The hash covers the body's value; its bytes are the relay's one encoding of it.
        return seq, "not_encoding", {}
    reduced = row["reduced_at"] is not None
    kept = bytes(row["content_digest"]) if row["content_digest"] is not None else b""
    if reduced and content_part(body):
        return seq, "reduced_content", {}
    computed, _ = sealed_hash(prev, seq, row["kind"], body, commitments, kept if reduced else None)
    if computed != bytes(row["hash"]):
        return seq, "hash_mismatch", {}
    if not reduced and content_digest(body, commitments) != kept:
        return seq, "digest_mismatch", {}
    mismatch = _columns_mismatch(row, reduced=reduced)
    if mismatch:
        return seq, "columns", {"what": mismatch}
    if row["wrapped_key"] is not None and row["personal"] is not None:
        problem = _sealed_fields_problem(row, commitments)
        if problem:
            return seq, *problem
    elif commitments and row["masked_at"] is None and not reduced:
        return seq, "fields_destroyed", {}
    return None


def _msgpack_of(body_json: bytes) -> bytes | None:
    """The MessagePack body the relay stores beside ``body_json`` (None: not JSON)."""
    try:
        packed: bytes = msgpack.packb(orjson.loads(body_json), use_bin_type=True)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    return packed


def _original_of(row: asyncpg.Record) -> bytes | tuple[str, dict[str, Any]]:
    """The original bytes of an alert sealed from history, checked against its stored
    body; or why they cannot be had."""
    if row["wrapped_key"] is None:
        return "no_data_key", {}
    try:
        original = protection.active().sealer.original(
            row["alert_id"], row["key_id"], bytes(row["wrapped_key"]), bytes(row["personal"]))
    except KeyMissing as exc:
        return "key_missing", {"key": exc.key_id}
    except SealBroken:
        return "sealed_not_opening", {}
    try:
        stripped = remove_personal(orjson.loads(original))
    except orjson.JSONDecodeError:
        return "original_not_json", {}
    if orjson.dumps(stripped) != bytes(row["body_json"]):
        return "original_mismatch", {}
    return original


def _sealed_fields_problem(row: asyncpg.Record,
                           commitments: list[Any]) -> tuple[str, dict[str, Any]] | None:
    try:
        expected = {str(path): str(value) for path, value in commitments}
    except (TypeError, ValueError):
        return "bad_commitments", {}
    try:
        return protection.active().sealer.check_commitments(
            row["alert_id"], row["key_id"], bytes(row["wrapped_key"]), bytes(row["personal"]),
            expected)
    except KeyMissing as exc:
        return "key_missing", {"key": exc.key_id}


def _columns_mismatch(row: asyncpg.Record, *, reduced: bool = False,
                      body_json: bytes | None = None) -> str | None:
    """The first indexed column that differs from what the hashed body says (of a
    reduced alert: of what it kept; its priority is not kept, its column stays)."""
    body = orjson.loads(row["body_json"] if body_json is None else body_json)
    event = event_from_row(row, shown=False)
    if reduced and event.facts is not None:
        body = {**body, "priority": event.facts.priority}
    if str(body.get("alert_id")) != event.alert_id:
        return "alert_id"
    if event.facts is None:
        if body.get("unit") != event.author_unit or body.get("status") != row["receipt_status"]:
            return "receipt"
        if row["alert_origin"] != event.origin_unit:
            return "receipt_origin"
        return None
    if body.get("origin_unit") != event.origin_unit or event.author_unit != event.origin_unit:
        return "origin_unit"
    if body.get("origin_relay") != event.origin_relay and event.origin_relay is not None:
        return "origin_relay"
    client_fields = {k: v for k, v in body.items() if k not in RELAY_FIELDS}
    expected = alert_facts(client_fields)
    if event.origin_relay is not None:
        # From a peer: the distribution columns hold the audience the origin decided.
        try:
            audience = parse_audience(body.get("audience"), None, expected.tlp)
        except BadFrame:
            return "audience"
        expected = dataclasses.replace(expected, distribution=audience_distribution(audience))
    elif "audience" in body:
        return "audience_without_peer"
    if expected != event.facts:
        return "facts"
    return None
