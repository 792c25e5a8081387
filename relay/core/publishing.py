"""From a client's publish or receipt to a committed event: one path for stream and HTTP.

Order of checks: role → rate limit → validation (all problems at once) → the referenced
alert (update/cancel: same origin and kind; receipt: addressed to the unit) → group
commit. ``origin_unit`` is always the authenticated unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import uuid_utils

from relay.contract.errors import Forbidden, InvalidAlert, NotFound, RateLimited
from relay.contract.facts import alert_facts
from relay.contract.frames import ReceiptFrame
from relay.contract.problems import Problem
from relay.contract.roles import Action, require
from relay.contract.times import rfc3339
from relay.contract.validation import validate_alert
from relay.contract.visibility import is_addressed_to
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent, StoredAlert, WriteResult
from relay.core.ports import Committer, EventSource, UnitDirectory
from relay.core.principals import Principal
from relay.core.ratelimit import RateLimiter

__all__ = ["Publisher"]


class Publisher:
    def __init__(
        self,
        *,
        writer: Committer,
        events: EventSource,
        known_units: UnitDirectory,
        regions: Mapping[str, frozenset[str]],
        limiter: RateLimiter,
        on_committed: Callable[[str], None] = lambda kind: None,
        relay_id: str | None = None,
    ) -> None:
        self._relay_id = relay_id
        self._writer = writer
        self._events = events
        self._known_units = known_units
        self._regions = regions
        self._limiter = limiter
        self._on_committed = on_committed

    async def publish(self, principal: Principal, key: str, raw_alert: object) -> WriteResult:
        """Validate, check references, commit; the result is what the ack carries."""
        unit = principal.unit
        require(unit.unit_id, unit.roles, Action.PUBLISH)
        if not self._limiter.allow(unit.unit_id):
            raise RateLimited(f"unit {unit.unit_id} is publishing too fast; retry shortly")
        alert = await self._validate(raw_alert)
        facts = alert_facts(alert)
        if facts.references is not None:
            await self._check_reference(unit.unit_id, facts.references, facts.kind)
        received_at = datetime.now(UTC)
        alert_id = str(uuid_utils.uuid7())
        body = {**alert, "alert_id": alert_id, "origin_unit": unit.unit_id,
                "received_at": rfc3339(received_at)}
        if self._relay_id is not None:  # federation.md "Identity"
            body["origin_relay"] = self._relay_id
        body_json, body_msgpack = encode_body(body)
        pending = PendingEvent(unit.unit_id, key, "alert", alert_id, unit.unit_id, received_at,
                               facts, None, body_json, body_msgpack)
        result = await self._writer.submit(pending)
        if not result.duplicate:
            self._on_committed("alert")
        return result

    async def receipt(self, principal: Principal, frame: ReceiptFrame) -> WriteResult:
        """A receipt from a unit the alert was distributed to."""
        unit = principal.unit
        require(unit.unit_id, unit.roles, Action.SEND_RECEIPT)
        if not self._limiter.allow(unit.unit_id):
            raise RateLimited(f"unit {unit.unit_id} is sending too fast; retry shortly")
        stored = await self._events.find_alert(frame.alert_id)
        if stored is None:
            raise NotFound(f"no alert {frame.alert_id}", [Problem("alert_id", "no_such_alert")])
        if not is_addressed_to(principal.viewer, stored.facts.tlp, stored.facts.distribution,
                               self._regions):
            raise Forbidden(f"alert {frame.alert_id} was not distributed to {unit.unit_id}")
        at = datetime.now(UTC)
        body: dict[str, Any] = {"alert_id": stored.alert_id, "unit": unit.unit_id,
                                "status": frame.status, "at": rfc3339(at)}
        if frame.note is not None:
            body["note"] = frame.note
        body_json, body_msgpack = encode_body(body)
        pending = PendingEvent(unit.unit_id, frame.id, "receipt", stored.alert_id,
                               stored.origin_unit, at, None, frame.status, body_json, body_msgpack,
                               alert_relay=stored.origin_relay)
        result = await self._writer.submit(pending)
        if not result.duplicate:
            self._on_committed("receipt")
        return result

    async def _validate(self, raw_alert: object) -> dict[str, Any]:
        try:
            return validate_alert(raw_alert, known_units=self._known_units.ids, regions=self._regions)
        except InvalidAlert as first:
            if not any(p.code == "unknown_unit" for p in first.details):
                raise
        await self._known_units.refresh()
        return validate_alert(raw_alert, known_units=self._known_units.ids, regions=self._regions)

    async def _check_reference(self, unit_id: str, alert_id: str, kind: str) -> None:
        stored: StoredAlert | None = await self._events.find_alert(alert_id)
        if stored is None:
            raise NotFound(f"no alert {alert_id} to reference",
                           [Problem("references", "no_such_alert")])
        if stored.origin_unit != unit_id:
            raise Forbidden(f"alert {alert_id} belongs to {stored.origin_unit}, not {unit_id}",
                            [Problem("references", "alert_of_another_unit")])
        if stored.facts.kind != kind:
            raise InvalidAlert("the update changes the kind of the alert",
                               [Problem("kind", "kind_of_referenced", {"kind": stored.facts.kind})])
