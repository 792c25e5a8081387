"""The receiving side of a link: a peer's event frame, checked, as an event to store here.

A peer is another state's relay: nothing it sends is trusted further than this relay
checks it. An alert is validated like a local one (its distribution may name units and
regions this relay does not know: they are the origin's), must carry an alert id, an
origin unit, a reception time and, if it names one, this peer as its ``origin_relay``;
its audience keeps only this relay's own units, and none of its countries for ``red``;
its origin unit is not one of this relay's (a peer cannot speak for a local unit). A
receipt must answer an alert that originated here, by a unit that is not local. What fails is refused whole:
:class:`Refused` names why, and the link logs it and goes on (an event that does not
belong here is never stored).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from relay.contract.errors import BadFrame, InvalidAlert
from relay.contract.facts import alert_facts
from relay.contract.federation import audience_distribution, parse_audience
from relay.contract.fields import RELAY_FIELDS
from relay.contract.frames import MAX_NOTE_LENGTH
from relay.contract.ids import is_alert_id, is_unit_id
from relay.contract.model import RECEIPT_STATUSES
from relay.contract.times import moment
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent, StoredAlert

__all__ = ["Refused", "remote_alert", "remote_receipt"]


class Refused(Exception):
    """A peer's event that this relay does not store; the message says why (no content)."""


class _AnyUnit:
    """Every unit id passes: a distribution names the origin's units, known there."""

    def __contains__(self, value: object) -> bool:
        return True


class _AnyRegion(Mapping[str, frozenset[str]]):
    """Every region name passes: regions are the origin's configuration."""

    def __getitem__(self, key: str) -> frozenset[str]:
        return frozenset()

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _seq(frame: Mapping[str, Any]) -> int:
    seq = frame.get("seq")
    if type(seq) is not int or seq < 1:
        raise Refused("the event has no valid seq")
    return seq


MAX_CLOCK_AHEAD = timedelta(minutes=10)  # a peer's clock may run ahead of ours by this much


def remote_alert(frame: Mapping[str, Any], peer_id: str, local_units: frozenset[str]) -> PendingEvent:
    """An ``alert`` frame of the peer as the event to append here."""
    seq = _seq(frame)
    alert = frame.get("alert")
    if not isinstance(alert, dict):
        raise Refused(f"event {seq}: the alert is not a map")
    alert_id, origin_unit = alert.get("alert_id"), alert.get("origin_unit")
    received_at = alert.get("received_at")
    if not is_alert_id(alert_id) or not is_unit_id(origin_unit) or not isinstance(received_at, str):
        raise Refused(f"event {seq}: alert_id, origin_unit or received_at is missing or malformed")
    if alert.get("origin_relay", peer_id) != peer_id:
        raise Refused(f"event {seq}: it names another origin relay than {peer_id}")
    if origin_unit in local_units:
        raise Refused(f"event {seq}: its origin unit is a unit of this relay")
    try:
        received = moment(received_at).astimezone(UTC)
        client = validate_alert({k: v for k, v in alert.items() if k not in RELAY_FIELDS},
                                known_units=_AnyUnit(), regions=_AnyRegion(), now=received)
        facts = alert_facts(client)
        audience = parse_audience(frame.get("audience"), local_units, facts.tlp)
    except (InvalidAlert, BadFrame) as exc:
        where = ", ".join(problem.field for problem in exc.details[:5])
        raise Refused(f"event {seq}: {exc.code} ({where})") from None
    except ValueError:
        raise Refused(f"event {seq}: received_at is not an RFC 3339 time") from None
    if received > datetime.now(UTC) + MAX_CLOCK_AHEAD:
        # Masking and reduction here count from it (docs/protection.md): a time in the
        # future would keep the passengers' names out of both.
        raise Refused(f"event {seq}: received_at is in the future of this relay's clock")
    assert isinstance(alert_id, str) and isinstance(origin_unit, str)
    body = {**client, "alert_id": alert_id, "origin_unit": origin_unit, "received_at": received_at,
            "origin_relay": peer_id, "origin_seq": seq, "audience": audience.as_dict()}
    body_json, body_msgpack = encode_body(body)
    facts = dataclasses.replace(facts, distribution=audience_distribution(audience))
    return PendingEvent(origin_unit, f"{peer_id}:{seq}", "alert", str(uuid.UUID(alert_id)),
                        origin_unit, received, facts, None, body_json, body_msgpack,
                        origin_relay=peer_id, origin_seq=seq)


def receipt_alert_id(frame: Mapping[str, Any]) -> str:
    """The alert a ``receipt`` frame answers (to look it up before :func:`remote_receipt`)."""
    receipt = frame.get("receipt")
    alert_id = receipt.get("alert_id") if isinstance(receipt, dict) else None
    if not is_alert_id(alert_id):
        raise Refused(f"event {_seq(frame)}: the receipt names no valid alert")
    assert isinstance(alert_id, str)
    return alert_id


def remote_receipt(frame: Mapping[str, Any], peer_id: str, alert: StoredAlert | None,
                   local_units: frozenset[str]) -> PendingEvent:
    """A ``receipt`` frame of the peer, for ``alert`` (looked up here), as the event to append."""
    seq = _seq(frame)
    receipt = frame.get("receipt")
    if not isinstance(receipt, dict) or set(receipt) - {"alert_id", "unit", "status", "note", "at",
                                                        "origin_relay"}:
        raise Refused(f"event {seq}: the receipt is not a receipt")
    if alert is None or alert.origin_relay is not None:
        raise Refused(f"event {seq}: the receipt answers no alert that originated here")
    unit, status, note, at = (receipt.get(key) for key in ("unit", "status", "note", "at"))
    if not is_unit_id(unit) or status not in RECEIPT_STATUSES or not isinstance(at, str) or (
            note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH
                                  or "\x00" in note)):
        raise Refused(f"event {seq}: the receipt's unit, status, note or time is not valid")
    if unit in local_units:
        raise Refused(f"event {seq}: its unit is a unit of this relay")
    if receipt.get("origin_relay", peer_id) != peer_id:
        raise Refused(f"event {seq}: it names another origin relay than {peer_id}")
    try:
        when = moment(at).astimezone(UTC)
    except ValueError:
        raise Refused(f"event {seq}: the receipt's time is not an RFC 3339 time") from None
    body: dict[str, Any] = {"alert_id": alert.alert_id, "unit": unit, "status": status, "at": at}
    if note is not None:
        body["note"] = note
    body.update(origin_relay=peer_id, origin_seq=seq)
    body_json, body_msgpack = encode_body(body)
    assert isinstance(unit, str) and isinstance(status, str)
    return PendingEvent(unit, f"{peer_id}:{seq}", "receipt", alert.alert_id, alert.origin_unit,
                        when, None, status, body_json, body_msgpack, origin_relay=peer_id,
                        origin_seq=seq)
