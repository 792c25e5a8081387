"""Passengers' personal fields in an alert body (protection.md), without I/O or keys.

- :func:`split_personal` takes the personal fields out of a body, each with its concrete
  path (``subjects[0].document.number``); :func:`splice_personal` puts them back.
- :func:`commitment` is the salted hash by which the chain commits to one field.
- :func:`audit_part` / :func:`content_part` divide a body into what reduction keeps
  (what the audit needs) and what it removes; :func:`content_digest` is the digest of
  the latter that the chain commits to, and that is kept beside the event.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from relay.contract.fields import personal_fields

__all__ = [
    "AUDIT_FIELDS",
    "PERSONAL_PATHS",
    "PersonalValue",
    "audit_part",
    "canonical",
    "commitment",
    "content_digest",
    "content_part",
    "has_personal",
    "remove_personal",
    "splice_personal",
    "split_personal",
]

PERSONAL_PATHS: Final = personal_fields()
# protection.md "Reduced": what every alert keeps; with, for an alert from a peer, the
# relay fields that say where it came from and whom it reached (federation.md).
AUDIT_FIELDS: Final = ("alert_id", "kind", "msg_type", "references", "origin_unit",
                       "origin_relay", "distribution", "tlp", "status", "sent_at",
                       "received_at", "origin_seq", "audience")
_COMMITMENT_TAG: Final = b"relay-personal-v1\x00"

PersonalValue = tuple[str, Any]  # (concrete path, value)


def _segments(path: str) -> list[str]:
    """``subjects[].document.number`` -> ["subjects", "[]", "document", "number"]."""
    out: list[str] = []
    for part in path.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return out


_PATHS: Final = tuple(_segments(p) for p in PERSONAL_PATHS)


def _walk(node: Any, segments: Sequence[str], prefix: str, found: list[tuple[str, Any, Any]]) -> None:
    """Every (path, parent map, key) where ``segments`` leads to a value under ``node``."""
    head, rest = segments[0], segments[1:]
    if head == "[]":
        if isinstance(node, list):
            for index, item in enumerate(node):
                _walk(item, rest, f"{prefix}[{index}]", found)
        return
    if not isinstance(node, dict) or head not in node:
        return
    path = f"{prefix}.{head}" if prefix else head
    if rest:
        _walk(node[head], rest, path, found)
    else:
        found.append((path, node, head))


def _locations(body: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    found: list[tuple[str, Any, Any]] = []
    for segments in _PATHS:
        _walk(body, segments, "", found)
    return found


def has_personal(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` holds any personal field."""
    return bool(_locations(body))


def split_personal(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[PersonalValue]]:
    """A copy of ``body`` without its personal fields, and those fields with their paths
    (in a stable order: by field of the table, then by subject)."""
    stripped = copy.deepcopy(dict(body))
    located = _locations(stripped)
    values = [(path, parent[key]) for path, parent, key in located]
    for _, parent, key in located:
        del parent[key]
    return stripped, values


def remove_personal(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as a masked alert shows it: without its personal fields."""
    return split_personal(body)[0]


def splice_personal(body: Mapping[str, Any], values: Sequence[PersonalValue]) -> dict[str, Any]:
    """A copy of ``body`` with ``values`` put back at their paths (the inverse of
    :func:`split_personal`). A path that no longer leads anywhere is skipped."""
    out = copy.deepcopy(dict(body))
    for path, value in values:
        node: Any = out
        parts = path.replace("[", ".[").split(".")
        for part in parts[:-1]:
            if part.startswith("["):
                index = int(part[1:-1])
                node = node[index] if isinstance(node, list) and index < len(node) else None
            else:
                node = node.setdefault(part, {}) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node[parts[-1]] = value
    return out


def canonical(value: object) -> bytes:
    """The one encoding the chain hashes: JSON with sorted keys, no spaces."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def commitment(salt: bytes, value: object) -> str:
    """The salted hash committing to one personal field (hex): SHA-256 over a tag, the
    field's salt (16 random bytes or more) and its value's canonical JSON."""
    return hashlib.sha256(_COMMITMENT_TAG + salt + canonical(value)).hexdigest()


def audit_part(body: Mapping[str, Any]) -> dict[str, Any]:
    """What reduction keeps of an alert body."""
    return {name: body[name] for name in AUDIT_FIELDS if name in body}


def content_part(body: Mapping[str, Any]) -> dict[str, Any]:
    """What reduction removes of an alert body (given without its personal fields)."""
    return {name: value for name, value in body.items() if name not in AUDIT_FIELDS}


def content_digest(stored_body: Mapping[str, Any], commitments: Sequence[Sequence[str]]) -> bytes:
    """The digest the chain commits to for what reduction removes: the content of the
    body stored without its personal fields, and the personal fields' commitments
    (``[[path, commitment], ...]``)."""
    return hashlib.sha256(
        b"relay-content-v2\x00" + canonical({"content": content_part(stored_body),
                                               "commitments": [list(c) for c in commitments]})
    ).digest()
