"""The tamper-evident chain as an NDJSON export carries it: the line, and the verification
of an export from the file alone (docs/audit.md "Verifying an export").

Each line of ``GET /v1/audit/export?format=ndjson`` is one event, in seq order::

    {"seq":N,"hash":H,"alert":{...},"kind":"alert","prev_hash":P,"body":"..."}
    {"seq":N,"hash":H,"receipt":{...},"kind":"receipt","prev_hash":P,"body":"..."}

``seq``, ``hash`` and ``alert`` are what the export always carried (the hash in hex, the
stored body as a JSON object). ``kind``, ``prev_hash`` (the hash of event N - 1, 64 zero
digits before seq 1) and ``body`` were added so that the chain can be recomputed from the
export alone. ``body`` is the exact byte string the hash covers, carried as a JSON string:
re-serialising the parsed ``alert`` need not give back the same bytes, while any JSON
parser gives back the same string, whose UTF-8 encoding is those bytes.

:func:`verify_export` reads lines and does no I/O (the ``relay`` command opens the file).
It checks, line by line:

- each line is an event line of the format above;
- its ``alert`` or ``receipt`` is its ``body``, parsed (what a reader reads is what was
  hashed);
- its hash is SHA-256 over the previous hash *it states*, its seq, kind and body
  (``relay-chain-v1``, :func:`relay.store.chain.event_hash`), and seq 1 starts from the
  genesis;
- seqs only grow, and where two lines hold consecutive seqs the later one states the
  earlier one's hash as its previous hash;
- for a complete export (``filtered=False``): it starts at seq 1 and no seq is missing.

A filtered export holds only some events: between two runs of consecutive seqs the chain
passes through events that are not in the file, so a link there cannot be checked, and a
missing event cannot be told from one the filters left out.

The first problem stops the walk. It is named by the line and the seq it concerns and a
code (:data:`PROBLEM_CODES`) with parameters, which the command turns into a sentence in
the user's language. Some need the next line to be named right: a broken link between
seq N and seq N + 1 is blamed on seq N (changed, its hash recomputed), since seq N + 1 is
bound through the hashes after it to the newest hash, the one the auditor compares with
a head hash kept elsewhere; but when the link from N + 1 to N + 2 is broken as well, seq
N + 1 is the one rewritten (``relinked``). A seq that seems missing and turns up on the
next line was moved (``out_of_order``), not removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from relay.contract.fields import SHOWN_STATE_FIELDS
from relay.contract.personal import (
    audit_part,
    canonical,
    content_digest,
    content_part,
    split_personal,
)
from relay.store.chain import GENESIS, event_hash, event_hash_v2

__all__ = [
    "KINDS",
    "PROBLEM_CODES",
    "ExportProblem",
    "ExportReport",
    "export_line",
    "verify_export",
]

KINDS = ("alert", "receipt")
PROBLEM_CODES = (
    "not_json",         # the line is not a JSON object
    "bad_field",        # {field}: missing, or not of its type
    "no_prev_hash",     # prev_hash is null: the relay's log has no event before this seq
    "member_differs",   # {member} (alert or receipt) is not the parsed body
    "hash_mismatch",    # the hash is not the hash of this event over its stated prev_hash
    "not_genesis",      # seq 1 does not start from 32 zero bytes
    "out_of_order",     # {previous}: this seq comes after a greater or equal one
    "missing_start",    # {found}: a complete export must start at seq 1
    "missing_seq",      # {previous} {found}: seqs between them are missing
    "broken_link",      # {next}: the next seq's prev_hash is not this seq's hash
    "relinked",         # {previous} {next}: this seq links to neither neighbour
    "empty",            # no event line at all
)
_HEX = re.compile(rb"[0-9a-fA-F]{64}")


def export_line(*, seq: int, kind: str, hash: bytes, prev_hash: bytes | None,
                body_json: bytes, stored_body: bytes | None = None,
                commitments: bytes | None = None, content_digest: bytes | None = None,
                hashed: bytes | None = None, content_removed: bool = False) -> bytes:
    """One NDJSON line of the export, with its newline. ``body_json`` (the event as shown)
    goes in as a JSON object; the bytes the hash covers go in as a JSON string: the same
    bytes for an event of chain version 1, the stored body (``stored_body``, without the
    personal fields) for a sealed alert, which also carries its ``commitments`` and its
    ``content_digest`` (docs/audit.md "Verifying an export")."""
    prev = b"null" if prev_hash is None else b'"%s"' % prev_hash.hex().encode()
    if content_removed:
        return b'{"seq":%d,"hash":"%s","%s":%s,"kind":"%s","prev_hash":%s,"content_removed":true}\n' % (
            seq, hash.hex().encode(), kind.encode(), body_json, kind.encode(), prev)
    hashed = stored_body if stored_body is not None else hashed if hashed is not None else body_json
    body = hashed.decode("utf-8", "replace")  # a stored body is UTF-8; if not, it fails verification
    sealed = b""
    if stored_body is not None and content_digest is not None:
        sealed = b',"chain":2,"commitments":%s,"content_digest":"%s"' % (
            commitments or b"[]", content_digest.hex().encode())
    return b'{"seq":%d,"hash":"%s","%s":%s,"kind":"%s","prev_hash":%s,"body":%s%s}\n' % (
        seq, hash.hex().encode(), kind.encode(), body_json, kind.encode(), prev,
        orjson.dumps(body), sealed)


@dataclass(frozen=True, slots=True)
class ExportProblem:
    """Why an export does not verify: at ``line`` (1-based), about event ``seq`` (None when
    the line could not be read), ``code`` with ``params`` (:data:`PROBLEM_CODES`)."""

    line: int
    seq: int | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What was verified: ``events`` lines (``alerts`` + ``receipts``), from ``first_seq``
    to ``last_seq``, the newest ``last_hash`` (hex), in ``runs`` runs of consecutive seqs
    (1 for a complete export; the first gap follows ``first_gap_after``), or the
    ``problem`` that stopped the walk."""

    events: int
    alerts: int
    receipts: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str | None
    runs: int
    first_gap_after: int | None
    problem: ExportProblem | None
    content_removed: int = 0  # events stored before protection whose content is destroyed


@dataclass(frozen=True, slots=True)
class _Event:
    line: int
    seq: int
    kind: str
    hash: bytes
    prev: bytes
    removed: bool = False  # content destroyed: linked, not recomputed


class _Walk:
    """The state between lines. A doubt about the line before (a seq missing, or a broken
    link) is settled by the next line, which may show the real problem is elsewhere."""

    def __init__(self, *, filtered: bool) -> None:
        self.filtered = filtered
        self.before: _Event | None = None  # the line before ``last``
        self.last: _Event | None = None
        self.doubt: ExportProblem | None = None
        self.first_seq: int | None = None
        self.counts = {kind: 0 for kind in KINDS}
        self.runs = 0
        self.first_gap_after: int | None = None
        self.removed = 0

    def step(self, number: int, raw: bytes) -> ExportProblem | None:
        read = _read_line(number, raw)
        if isinstance(read, ExportProblem):
            return self.doubt or read
        if self.doubt is not None:
            return self._settle(read)
        problem = self._place(read)
        self.before, self.last = self.last, read
        self.counts[read.kind] += 1
        self.removed += read.removed
        return problem

    def _place(self, event: _Event) -> ExportProblem | None:
        last = self.last
        if last is None:
            self.first_seq, self.runs = event.seq, 1
            if not self.filtered and event.seq != 1:
                self.doubt = ExportProblem(event.line, 1, "missing_start", {"found": event.seq})
            return None
        if event.seq <= last.seq:
            return ExportProblem(event.line, event.seq, "out_of_order", {"previous": last.seq})
        if event.seq > last.seq + 1:
            if not self.filtered:
                self.doubt = ExportProblem(event.line, last.seq + 1, "missing_seq",
                                           {"previous": last.seq, "found": event.seq})
            elif self.first_gap_after is None:
                self.first_gap_after = last.seq
            self.runs += 1
        elif event.prev != last.hash:
            self.doubt = ExportProblem(last.line, last.seq, "broken_link", {"next": event.seq})
        return None

    def _settle(self, event: _Event) -> ExportProblem:
        """The doubt raised by ``self.last``, in the light of the line after it."""
        doubt, last = self.doubt, self.last
        assert doubt is not None and last is not None
        if doubt.code in ("missing_start", "missing_seq") and event.seq < last.seq:
            # seq found early, then the missing one: the lines were moved, not removed
            return ExportProblem(event.line, event.seq, "out_of_order", {"previous": last.seq})
        if doubt.code == "broken_link" and event.seq == last.seq + 1 and event.prev != last.hash:
            # it links to neither neighbour: its own links were rewritten
            before = self.before
            assert before is not None
            return ExportProblem(last.line, last.seq, "relinked",
                                 {"previous": before.seq, "next": event.seq})
        return doubt

    def finish(self) -> ExportProblem | None:
        if self.doubt is not None:
            return self.doubt
        if self.last is None:
            return ExportProblem(0, None, "empty")
        return None

    def report(self, problem: ExportProblem | None) -> ExportReport:
        last = self.last
        return ExportReport(
            events=sum(self.counts.values()), alerts=self.counts["alert"],
            receipts=self.counts["receipt"], first_seq=self.first_seq,
            last_seq=None if last is None else last.seq,
            last_hash=None if last is None else last.hash.hex(), runs=self.runs,
            first_gap_after=self.first_gap_after, problem=problem, content_removed=self.removed)


def _read_line(number: int, raw: bytes) -> _Event | ExportProblem:
    """One line, checked on its own: its fields, its body and its hash."""
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        line = None
    if not isinstance(line, dict):
        return ExportProblem(number, None, "not_json")
    seq = line.get("seq")
    if type(seq) is not int or seq < 1:
        return ExportProblem(number, None, "bad_field", {"field": "seq"})
    kind = line.get("kind")
    if kind not in KINDS:
        return ExportProblem(number, seq, "bad_field", {"field": "kind"})
    hashes: dict[str, bytes] = {}
    for name in ("hash", "prev_hash"):
        value = line.get(name)
        if value is None and name == "prev_hash" and "prev_hash" in line:
            return ExportProblem(number, seq, "no_prev_hash")
        if not isinstance(value, str) or not _HEX.fullmatch(value.encode()):
            return ExportProblem(number, seq, "bad_field", {"field": name})
        hashes[name] = bytes.fromhex(value)
    if line.get("content_removed") is True and line.get("chain") is None:
        # An event of chain version 1 whose original is destroyed (reduced, or masked):
        # its stated hashes are linked to its neighbours', its content cannot be recomputed.
        return _Event(number, seq, kind, hashes["hash"], hashes["prev_hash"], removed=True)
    body = _body(line.get("body"))
    if body is None:
        return ExportProblem(number, seq, "bad_field", {"field": "body"})
    body_json, parsed = body
    if line.get("chain") == 2:
        problem = _sealed_problem(number, seq, kind, line, parsed, hashes)
        if problem is not None:
            return problem
    elif kind not in line or _canonical(line[kind]) != _canonical(parsed):
        return ExportProblem(number, seq, "member_differs", {"member": kind})
    elif event_hash(hashes["prev_hash"], seq, kind, body_json) != hashes["hash"]:
        return ExportProblem(number, seq, "hash_mismatch")
    if seq == 1 and hashes["prev_hash"] != GENESIS:
        return ExportProblem(number, seq, "not_genesis")
    return _Event(number, seq, kind, hashes["hash"], hashes["prev_hash"])




def _sealed_problem(number: int, seq: int, kind: str, line: dict[str, Any], stored: object,
                    hashes: dict[str, bytes]) -> ExportProblem | None:
    """A sealed alert's line: the alert shown is its stored body with (while not masked)
    its personal fields and its state; the hash covers the kept fields and the digest of
    the rest, computed from the stored body unless it was reduced."""
    commitments, digest_hex = line.get("commitments"), line.get("content_digest")
    if not isinstance(commitments, list) or not all(
            isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c)
            for c in commitments):
        return ExportProblem(number, seq, "bad_field", {"field": "commitments"})
    if not isinstance(digest_hex, str) or not _HEX.fullmatch(digest_hex.encode()):
        return ExportProblem(number, seq, "bad_field", {"field": "content_digest"})
    shown = line.get(kind)
    if kind != "alert" or not isinstance(shown, dict) or not isinstance(stored, dict):
        return ExportProblem(number, seq, "member_differs", {"member": kind})
    if orjson.dumps(stored) != line["body"].encode("utf-8"):
        return ExportProblem(number, seq, "hash_mismatch")  # bytes changed, value kept
    visible, personal = split_personal({k: v for k, v in shown.items()
                                        if k not in SHOWN_STATE_FIELDS})
    if _canonical(visible) != _canonical(stored):
        return ExportProblem(number, seq, "member_differs", {"member": kind})
    # The personal fields it shows: none once masked, reduced or unreadable; else exactly
    # those committed to (their values cannot be checked here: the salts stay sealed).
    hidden = any(state in shown for state in SHOWN_STATE_FIELDS)
    if {path for path, _ in personal} != (set() if hidden else {c[0] for c in commitments}):
        return ExportProblem(number, seq, "member_differs", {"member": kind})
    kept = bytes.fromhex(digest_hex)
    reduced = "reduced_at" in shown
    if reduced and content_part(stored):
        return ExportProblem(number, seq, "member_differs", {"member": kind})
    if not reduced and content_digest(stored, commitments) != kept:
        return ExportProblem(number, seq, "hash_mismatch")
    if event_hash_v2(hashes["prev_hash"], seq, kind, canonical(audit_part(stored)), kept) \
            != hashes["hash"]:
        return ExportProblem(number, seq, "hash_mismatch")
    return None


def _body(body: object) -> tuple[bytes, object] | None:
    """The bytes a ``body`` string stands for and their JSON value, if they are JSON."""
    if not isinstance(body, str):
        return None
    try:
        body_json = body.encode("utf-8")
        return body_json, orjson.loads(body_json)
    except (UnicodeEncodeError, orjson.JSONDecodeError):
        return None


def _canonical(value: object) -> bytes:
    """The same bytes for the same JSON value, whatever its key order or spacing; but
    ``true``, ``1`` and ``1.0`` stay different (Python holds them equal)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def verify_export(lines: Iterable[bytes], *, filtered: bool = False) -> ExportReport:
    """Recompute the chain over the lines of an NDJSON export (an open binary file will
    do: one line at a time, constant memory). Lines holding only white space are skipped.

    ``filtered``: the export was asked with filters, so it need not start at seq 1 and
    may skip seqs (each run of consecutive seqs is verified, and counted in ``runs``).
    """
    walk = _Walk(filtered=filtered)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        problem = walk.step(number, raw)
        if problem is not None:
            return walk.report(problem)
    return walk.report(walk.finish())
