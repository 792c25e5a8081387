"""Holds and re-identification over HTTP (protection.md "Hold", "Re-identification"), role
``audit`` only.

- ``POST /v1/protection/holds`` keeps an alert out of masking and reduction until a date;
  ``GET /v1/protection/holds`` lists the holds, newest first.
- ``POST /v1/alerts/{alert_id}/reidentify`` gives back the personal fields of an alert
  whose data key still exists, with the alert as it read before masking.

Each request, granted or refused, is recorded in the access log by the middleware with
the ``reason`` it gave (``request["reason"]``), never with the fields; a hold also with
its alert as ``target`` (its path does not name it) and, once placed, the action
``protection.hold``, as ``relay protection hold`` records it. A re-identification is checked in the order of the spec: the token (401), the role (403),
the reason (400), the alert (404), its keys (410).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson
import structlog
from aiohttp import web

from relay import protection
from relay.contract.errors import BadFrame, InvalidQuery, NotFound, Unavailable
from relay.contract.ids import is_alert_id
from relay.contract.personal import PersonalValue, splice_personal, split_personal
from relay.contract.problems import Problem
from relay.contract.roles import Action
from relay.contract.times import TIMESTAMP_SYNTAX, moment, rfc3339
from relay.contract.wire import json_value
from relay.http.body import read_body
from relay.http.middleware import is_storable, json_response, require_role
from relay.http.services import SERVICES
from relay.protection.keyring import KeyMissing
from relay.protection.sealing import SealBroken, Sealer
from relay.store.access_log import storable

__all__ = [
    "HOLD_ACTION",
    "MAX_REASON",
    "KeysDestroyed",
    "PersonalUnreadable",
    "list_holds",
    "parse_until",
    "place_hold",
    "reidentified",
    "reidentify",
]

MAX_REASON = 2000  # characters; relay_holds.reason holds as many
HOLD_ACTION = "protection.hold"  # the access log's action, as `relay protection hold` writes it
_MAX_TARGET = 64
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_log = structlog.get_logger("relay.http")


class KeysDestroyed(NotFound):
    """410: the alert exists, but its personal fields are gone for good (its data key was
    destroyed, or it was reduced). The contract has no code of its own for it: the code
    is ``not_found``, the detail ``keys_destroyed``."""

    status = 410


class PersonalUnreadable(Unavailable):
    """500: the sealed fields do not open (a damaged row, or a key the key file lacks).
    Retrying does not help until the operator looks into it, so nothing says to retry."""

    status = 500
    retriable = False


async def _body(request: web.Request, allowed: frozenset[str]) -> tuple[dict[str, Any], list[Problem]]:
    """The JSON object of the body (an empty body: ``{}``) and its unknown fields; a body
    that is not a JSON object is ``{}`` and a problem naming ``body``."""
    data = await read_body(request, request.app[SERVICES].config.body_timeout)
    try:
        body = json_value(data) if data.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {}, [Problem("body", "not_json_object")]
    return body, [Problem(storable(key), "unknown_field") for key in body if key not in allowed]


def _given_reason(body: Mapping[str, Any]) -> str | None:
    """The reason as the access log records it, even from a request that is refused."""
    reason = body.get("reason")
    return reason[:MAX_REASON] if isinstance(reason, str) else None


def _check_reason(body: Mapping[str, Any], problems: list[Problem]) -> str:
    """``reason``: 1 to 2000 characters, not only whitespace; else a problem naming it."""
    if "reason" not in body:
        problems.append(Problem("reason", "required"))
        return ""
    reason = body["reason"]
    if not isinstance(reason, str):
        problems.append(Problem("reason", "not_a_string"))
    elif not 1 <= len(reason) <= MAX_REASON:
        problems.append(Problem("reason", "length", {"low": 1, "high": MAX_REASON}))
    elif not is_storable(reason):
        problems.append(Problem("reason", "nul_character"))
    elif control := next((c for c in reason if unicodedata.category(c) == "Cc"
                          and c not in "\t\n"), None):
        # the same rule as `relay protection hold`: a reason is listed on terminals
        problems.append(Problem("reason", "control_character", {"character": f"U+{ord(control):04X}"}))
    elif not reason.strip():
        problems.append(Problem("reason", "blank"))
    else:
        return reason
    return ""


def parse_until(value: object, now: datetime) -> tuple[datetime | None, Problem | None]:
    """The end of a hold: a date ``YYYY-MM-DD`` (its first moment, UTC) or an RFC 3339
    timestamp with an offset, after ``now``; else the problem of ``until``."""
    if not isinstance(value, str):
        return None, Problem("until", "not_a_string")
    if _DAY.fullmatch(value):
        try:
            until = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError:
            return None, Problem("until", "not_a_real_date", {"value": value})
    elif TIMESTAMP_SYNTAX.fullmatch(value):
        try:
            until = moment(value)
        except ValueError:
            return None, Problem("until", "not_a_real_moment", {"value": value})
    else:
        return None, Problem("until", "bad_date_or_timestamp")
    if until <= now:
        return None, Problem("until", "in_the_past")
    return until, None


async def place_hold(request: web.Request) -> web.Response:
    """POST /v1/protection/holds {"alert_id", "reason", "until"}: 201 with the hold."""
    services = request.app[SERVICES]
    body, problems = await _body(request, frozenset({"alert_id", "reason", "until"}))
    alert_id = body.get("alert_id")
    # recorded, whatever the answer: why, and which alert (the path does not say)
    request["reason"] = _given_reason(body)
    request["target"] = alert_id[:_MAX_TARGET] if isinstance(alert_id, str) else None
    principal = require_role(request, Action.AUDIT)
    if "alert_id" not in body:
        problems.append(Problem("alert_id", "required"))
    elif not isinstance(alert_id, str):
        problems.append(Problem("alert_id", "not_a_string"))
    elif not is_alert_id(alert_id):
        problems.append(Problem("alert_id", "bad_alert_id"))
    reason = _check_reason(body, problems)
    now = datetime.now(UTC)
    until: datetime | None = None
    if "until" not in body:
        problems.append(Problem("until", "required"))
    else:
        until, problem = parse_until(body["until"], now)
        problems += [problem] if problem is not None else []
    if problems:
        raise BadFrame(f"the hold has {len(problems)} problem(s)", problems)
    assert isinstance(alert_id, str) and until is not None
    hold = await services.storage.place_hold(alert_id=alert_id, reason=reason, until=until,
                                             placed_by=principal.unit.unit_id)
    if hold is None:
        raise NotFound(f"no alert {alert_id}", [Problem("alert_id", "no_such_alert")])
    request["rows"] = 1
    request["action"] = HOLD_ACTION
    return json_response(hold.as_dict(now), 201)


async def list_holds(request: web.Request) -> web.Response:
    """GET /v1/protection/holds[?alert_id=]: newest first."""
    services = request.app[SERVICES]
    require_role(request, Action.AUDIT)
    problems = [Problem(key, "unknown_parameter") for key in sorted(set(request.query) - {"alert_id"})]
    alert_id = request.query.get("alert_id")
    if alert_id is not None and not is_alert_id(alert_id):
        problems.append(Problem("alert_id", "bad_alert_id"))
    if problems:
        raise InvalidQuery("the query has problems", problems)
    holds = await services.storage.holds(alert_id=alert_id)
    now = datetime.now(UTC)
    request["rows"] = len(holds)
    return json_response({"holds": [hold.as_dict(now) for hold in holds]})


async def reidentify(request: web.Request) -> web.Response:
    """POST /v1/alerts/{alert_id}/reidentify {"reason"}: the alert's personal fields."""
    services = request.app[SERVICES]
    body, problems = await _body(request, frozenset({"reason"}))
    request["reason"] = _given_reason(body)  # recorded, whatever the answer
    require_role(request, Action.AUDIT)
    _check_reason(body, problems)
    if problems:
        raise BadFrame("a re-identification needs a reason", problems)
    alert_id = request.match_info["alert_id"]
    if not is_alert_id(alert_id):
        raise NotFound(f"no alert {alert_id[:40]}", [Problem("alert_id", "bad_alert_id")])
    row = await services.storage.personal_of(alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}", [Problem("alert_id", "no_such_alert")])
    request["rows"] = 1
    response = json_response(reidentified(row, protection.active().sealer))
    response.headers["Cache-Control"] = "no-store"  # personal fields: kept by no cache
    return response


def reidentified(row: Any, sealer: Sealer) -> dict[str, Any]:
    """The answer to a re-identification of the stored alert ``row``
    (:func:`relay.store.protection.personal_of`): its personal fields, and the alert as it
    read before masking (with ``masked_at`` if it is masked). :class:`KeysDestroyed` once
    they cannot be had; :class:`PersonalUnreadable` if the sealed fields do not open.

    An alert stored before protection (chain version 1) holds its fields in clear until
    the jobs seal it in place (``sealed_at``); from then on, as every later alert, in its
    envelope."""
    alert_id = str(row["alert_id"])
    if row["reduced_at"] is not None:
        raise KeysDestroyed(f"alert {alert_id} was reduced: its personal fields are destroyed",
                            [Problem("alert_id", "keys_destroyed")])
    stored = orjson.loads(row["body_json"])
    values: list[PersonalValue]
    if row["chain_version"] < 2 and row["sealed_at"] is None:  # in clear, as stored
        values = split_personal(stored)[1]
        alert = stored
    elif row["personal"] is None or row["wrapped_key"] is None:
        if _had_personal(row, stored):
            raise KeysDestroyed(f"the data key of alert {alert_id} was destroyed",
                                [Problem("alert_id", "keys_destroyed")])
        values = []
        alert = stored
    else:
        try:
            values = sealer.values(alert_id, row["key_id"], bytes(row["wrapped_key"]),
                                   bytes(row["personal"]))
        except (SealBroken, KeyMissing) as exc:
            _log.error("personal_data_unreadable", seq=row["seq"], error=type(exc).__name__)
            raise PersonalUnreadable(f"the personal fields of alert {alert_id} cannot be opened",
                                     [Problem("alert_id", "personal_unreadable")]) from None
        alert = splice_personal(stored, values)
    masked_at = None if row["masked_at"] is None else rfc3339(row["masked_at"])
    if masked_at is not None:
        alert["masked_at"] = masked_at
    return {"alert_id": alert_id, "seq": row["seq"], "masked_at": masked_at,
            "fields": [{"path": path, "value": value} for path, value in values],
            "alert": alert}


def _had_personal(row: Any, stored: Mapping[str, Any]) -> bool:
    """Whether a sealed alert without an envelope had personal fields (they were
    destroyed) or none: an alert stored since protection committed to each of them; one
    sealed from history, a passenger alert, always had some (a subject's surname and
    document number are required)."""
    if row["chain_version"] >= 2:
        return row["commitments"] is not None
    return stored.get("kind") == "passenger"
