"""Holds and re-identification over HTTP (protection.md "Hold", "Re-identification"),
end to end against a real relay and its database.

Passenger alerts are published over HTTP; the clock is moved by running the relay's own
jobs (relay.store.protection.run_jobs) from the test against the relay's database, as
``relay protection run --now`` does: 200 days later masks them, 1,900 days later reduces
them. One hold is placed before masking, and its alert reads as before. Then
re-identification is refused without a token, without the role ``audit``, without a
reason and for an unknown alert, gives back exactly the values posted with one, and is
410 once the keys are destroyed; every such request is in the access log with who, what,
the status and why, and never with a personal value.

The tests of this module share one relay and one timeline: the reduction is the last
thing done to its alerts (the ``reduced`` fixture, asked for by the last tests only).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest

from relay import protection
from relay.contract.facts import alert_facts
from relay.contract.personal import split_personal
from relay.contract.times import rfc3339
from relay.contract.validation import validate_alert
from relay.contract.wire import encode_body
from relay.core.events import PendingEvent
from relay.protection.keyring import Keyring
from relay.store.protection import JobSettings, RunResult, run_jobs
from tests.alert_examples import passenger_alert, seizure_alert
from tests.conftest import running_relay
from tests.support import RelayProcess, create_unit
from tests.test_migrations import apply_legacy, legacy_append, new_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

# One distinctive value per personal field (protection.md "Personal fields").
SUBJECT = {"role": "courier", "surname": "QZREIDSURNAME", "given_names": "QZREIDGIVEN",
           "nationality": "ML", "birth_date": "1981-03-14",
           "document": {"type": "passport", "number": "QZ5518203", "issuing_country": "ML"},
           "seat": "47J", "pnr_locator": "QZPNRX", "bag_tags": ["QZBAG55120", "QZBAG55121"]}
SECOND = {"role": "passenger", "surname": "QZSECONDNAME", "nationality": "SN",
          "document": {"type": "passport", "number": "QZ9920417", "issuing_country": "SN"}}
HELD = {"role": "courier", "surname": "QZHELDSURNAME", "nationality": "ML",
        "document": {"type": "passport", "number": "QZ4400871", "issuing_country": "ML"},
        "seat": "12A"}
PERSONAL = ["QZREIDSURNAME", "QZREIDGIVEN", "1981-03-14", "QZ5518203", "47J", "QZPNRX",
            "QZBAG55120", "QZBAG55121", "QZSECONDNAME", "QZ9920417", "QZHELDSURNAME", "QZ4400871"]
DEFAULTS = JobSettings(mask_after_days=183, delete_after_days=1826, shred_on_mask=False,
                       batch=1000)
REASON = "Case 2026/117 (parquet de Bamako): courier network, order of 2026-11-30"


async def call(relay: RelayProcess, token: str | None, method: str, path: str, *,
               body: Any = None, data: bytes | None = None) -> tuple[int, Any]:
    """One HTTP request; its status and JSON body."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    if method == "POST" and path == "/v1/alerts":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    payload = data if data is not None else None if body is None else orjson.dumps(body)
    async with aiohttp.ClientSession() as http, http.request(
            method, relay.http + path, headers=headers, data=payload) as response:
        return response.status, orjson.loads(await response.read())


async def publish(relay: RelayProcess, token: str, alert: dict[str, Any]) -> str:
    status, body = await call(relay, token, "POST", "/v1/alerts", body=alert)
    assert 201 == status, body
    return str(body["alert_id"])


def reidentify(relay: RelayProcess, token: str | None, alert_id: str, **kwargs: Any):
    return call(relay, token, "POST", f"/v1/alerts/{alert_id}/reidentify", **kwargs)


def fields_of(alert: dict[str, Any]) -> list[dict[str, Any]]:
    """The personal fields of a posted alert, as a re-identification gives them."""
    return [{"path": path, "value": value} for path, value in split_personal(alert)[1]]


def days_later(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


@pytest.fixture(scope="module")
async def database(relay: RelayProcess) -> AsyncIterator[asyncpg.Pool]:
    """The relay's database, with the relay's key installed in this process (as
    ``relay protection run`` opens it)."""
    env = relay.env()  # the key file its environment names, else its data directory's
    protection.install(Keyring.open(Path(env.get("RELAY_PROTECTION_KEY_FILE")
                                         or Path(env["RELAY_DATA_DIR"]) / "protection.key")))
    pool = await asyncpg.create_pool(relay.dsn, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def units(relay: RelayProcess) -> dict[str, str]:
    _, publisher = await create_unit(relay.dsn, "ML-BKO-JAITF", country="ML",
                                     roles="publish,subscribe")
    _, auditor = await create_unit(relay.dsn, "ML-BKO-AUDIT", country="ML", roles="audit")
    await create_unit(relay.dsn, "MA-CMN-BNPJ", country="MA", roles="subscribe")
    await create_unit(relay.dsn, "FR-CDG-OFAST", country="FR", roles="subscribe")
    return {"publisher": publisher, "auditor": auditor}


@pytest.fixture(scope="module")
async def masked(relay: RelayProcess, units: dict[str, str],
                 database: asyncpg.Pool) -> dict[str, Any]:
    """Two passenger alerts and a seizure published; a hold placed on the second
    passenger alert for a year; then the jobs run as 200 days later."""
    alerts = {"courier": passenger_alert(subjects=[SUBJECT, SECOND]),
              "held": passenger_alert(subjects=[HELD]),
              "seizure": seizure_alert()}
    ids = {name: await publish(relay, units["publisher"], alert) for name, alert in alerts.items()}
    until = days_later(365).strftime("%Y-%m-%d")
    hold = await call(relay, units["auditor"], "POST", "/v1/protection/holds",
                      body={"alert_id": ids["held"], "reason": REASON, "until": until})
    done = await run_jobs(database, DEFAULTS, now=days_later(200), run_by="tests")
    return {"alerts": alerts, "ids": ids, "hold": hold, "until": until, "run": done}


@pytest.fixture(scope="module")
async def reduced(masked: dict[str, Any], database: asyncpg.Pool) -> RunResult:
    """The jobs run as 1,900 days later: every alert is reduced, its keys destroyed."""
    return await run_jobs(database, DEFAULTS, now=days_later(1900), run_by="tests")


# -- masking and holds ------------------------------------------------------------------

async def test_masking_removes_the_personal_fields_but_not_from_the_held_alert(relay, units, masked):
    """The run masks the courier's alert (the seizure has nothing to mask); the alert held
    before masking reads exactly as it was posted, without masked_at."""
    assert 1 == masked["run"].masked
    status, file = await call(relay, units["auditor"], "GET", f"/v1/alerts/{masked['ids']['courier']}")
    assert 200 == status, file
    assert "masked_at" in file["alert"]
    assert [] == split_personal(file["alert"])[1]
    status, file = await call(relay, units["auditor"], "GET", f"/v1/alerts/{masked['ids']['held']}")
    assert 200 == status, file
    assert "masked_at" not in file["alert"]
    assert masked["alerts"]["held"]["subjects"] == file["alert"]["subjects"]


async def test_a_hold_is_placed_by_an_auditor_with_who_why_and_until_when(masked):
    """201 with the hold: the alert, the reason, the end (a date: its first moment, UTC),
    the unit that placed it, when, and that it is active."""
    status, hold = masked["hold"]
    assert 201 == status, hold
    assert {"alert_id": masked["ids"]["held"], "reason": REASON,
            "until": f"{masked['until']}T00:00:00.000Z", "placed_by": "ML-BKO-AUDIT",
            "active": True} == {k: hold[k] for k in ("alert_id", "reason", "until", "placed_by",
                                                     "active")}
    assert isinstance(hold["hold_id"], int)
    placed = datetime.fromisoformat(hold["placed_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - placed) < timedelta(minutes=5)


async def test_holds_are_listed_newest_first_and_by_alert(relay, units, masked):
    """GET lists every hold, newest first; ?alert_id= only that alert's."""
    until = days_later(30).isoformat(timespec="seconds")
    status, second = await call(relay, units["auditor"], "POST", "/v1/protection/holds",
                                body={"alert_id": masked["ids"]["seizure"], "reason": "Lab results pending",
                                      "until": until})
    assert 201 == status, second
    status, listed = await call(relay, units["auditor"], "GET", "/v1/protection/holds")
    assert 200 == status, listed
    ids = [hold["hold_id"] for hold in listed["holds"]]
    assert ids == sorted(ids, reverse=True)
    assert [second["hold_id"], masked["hold"][1]["hold_id"]] == ids[:2]
    assert second == listed["holds"][0]
    status, one = await call(relay, units["auditor"], "GET",
                             f"/v1/protection/holds?alert_id={masked['ids']['held']}")
    assert (200, [masked["hold"][1]]) == (status, one["holds"])


async def test_a_hold_is_refused_to_a_unit_without_the_role_audit(relay, units, masked):
    """403 to place or to list holds, even for the unit that published the alert."""
    status, body = await call(relay, units["publisher"], "POST", "/v1/protection/holds",
                              body={"alert_id": masked["ids"]["courier"], "reason": REASON,
                                    "until": masked["until"]})
    assert (403, "forbidden") == (status, body["code"])
    status, body = await call(relay, units["publisher"], "GET", "/v1/protection/holds")
    assert (403, "forbidden") == (status, body["code"])


@pytest.mark.parametrize(("hold", "expected"), [
    pytest.param({"reason": "  \n", "until": "2020-01-01"},
                 [("alert_id", "required"), ("reason", "blank"), ("until", "in_the_past")],
                 id="missing-blank-past"),
    pytest.param({"alert_id": 7, "reason": 7, "until": 7, "note": "x"},
                 [("note", "unknown_field"), ("alert_id", "not_a_string"),
                  ("reason", "not_a_string"), ("until", "not_a_string")], id="kinds"),
    pytest.param({"alert_id": "ABC", "reason": "", "until": "next month"},
                 [("alert_id", "bad_alert_id"), ("reason", "length"),
                  ("until", "bad_date_or_timestamp")], id="shapes"),
    pytest.param({"alert_id": "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "reason": "x" * 2001,
                  "until": "2099-02-30"},
                 [("reason", "length"), ("until", "not_a_real_date")], id="long-unreal-date"),
    pytest.param({"alert_id": "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "reason": "a\x00b",
                  "until": "2099-01-01T25:00:00Z"},
                 [("reason", "nul_character"), ("until", "bad_date_or_timestamp")], id="nul-hour"),
    pytest.param({"alert_id": "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "reason": "ok",
                  "until": "2099-02-29T10:00:00Z"},
                 [("until", "not_a_real_moment")], id="unreal-moment"),
    pytest.param({"reason": "ok", "until": "2020-01-01T10:00:00"},
                 [("alert_id", "required"), ("until", "bad_date_or_timestamp")], id="no-offset"),
    pytest.param({}, [("alert_id", "required"), ("reason", "required"), ("until", "required")],
                 id="empty"),
    pytest.param([1], [("body", "not_json_object"), ("alert_id", "required"),
                       ("reason", "required"), ("until", "required")], id="not-an-object"),
])
async def test_a_bad_hold_is_400_naming_every_bad_field_at_once(relay, units, hold, expected):
    status, body = await call(relay, units["auditor"], "POST", "/v1/protection/holds", body=hold)
    assert 400 == status, body
    assert expected == [(d["field"], d["code"]) for d in body["details"]]


async def test_a_hold_on_no_such_alert_is_404(relay, units):
    status, body = await call(relay, units["auditor"], "POST", "/v1/protection/holds",
                              body={"alert_id": str(uuid.uuid4()), "reason": REASON,
                                    "until": days_later(30).strftime("%Y-%m-%d")})
    assert (404, [("alert_id", "no_such_alert")]) == (
        status, [(d["field"], d["code"]) for d in body["details"]])


@pytest.mark.parametrize(("query", "expected"), [
    ("alert_id=not-an-id", [("alert_id", "bad_alert_id")]),
    ("unit=ML-BKO-AUDIT", [("unit", "unknown_parameter")]),
])
async def test_a_bad_hold_query_is_400(relay, units, query, expected):
    status, body = await call(relay, units["auditor"], "GET", f"/v1/protection/holds?{query}")
    assert (400, "invalid_query") == (status, body["code"])
    assert expected == [(d["field"], d["code"]) for d in body["details"]]


# -- re-identification ---------------------------------------------------------------------

async def test_reidentify_needs_a_valid_token(relay, masked):
    for token in (None, "relay_not-a-token"):
        status, body = await reidentify(relay, token, masked["ids"]["courier"], body={"reason": REASON})
        assert (401, "unauthorized") == (status, body["code"])


async def test_reidentify_is_refused_without_the_role_audit(relay, units, masked):
    """403 even for the unit that published the alert, and before the reason is looked at."""
    for body in ({"reason": REASON}, {}):
        status, answer = await reidentify(relay, units["publisher"], masked["ids"]["courier"], body=body)
        assert (403, "forbidden") == (status, answer["code"])


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(None, [("reason", "required")], id="no-body"),
    pytest.param({}, [("reason", "required")], id="no-reason"),
    pytest.param({"reason": ""}, [("reason", "length")], id="empty"),
    pytest.param({"reason": " \t\n "}, [("reason", "blank")], id="blank"),
    pytest.param({"reason": 12}, [("reason", "not_a_string")], id="not-text"),
    pytest.param({"reason": "x" * 2001}, [("reason", "length")], id="too-long"),
    pytest.param({"reason": REASON, "fields": ["surname"]}, [("fields", "unknown_field")],
                 id="unknown-field"),
    pytest.param("because", [("body", "not_json_object"), ("reason", "required")], id="not-an-object"),
])
async def test_reidentify_needs_a_reason(relay, units, masked, body, expected):
    """400 naming the reason, before the alert is looked for (an unknown one too)."""
    for alert_id in (masked["ids"]["courier"], str(uuid.uuid4())):
        status, answer = await reidentify(relay, units["auditor"], alert_id, body=body)
        assert (400, expected) == (status, [(d["field"], d["code"]) for d in answer["details"]])


async def test_reidentify_of_a_body_that_is_not_json_is_400(relay, units, masked):
    status, answer = await reidentify(relay, units["auditor"], masked["ids"]["courier"],
                                      data=b"reason=because")
    assert (400, [("body", "not_json_object"), ("reason", "required")]) == (
        status, [(d["field"], d["code"]) for d in answer["details"]])


async def test_reidentify_of_an_unknown_alert_is_404(relay, units, masked):
    status, answer = await reidentify(relay, units["auditor"], str(uuid.uuid4()), body={"reason": REASON})
    assert (404, [("alert_id", "no_such_alert")]) == (
        status, [(d["field"], d["code"]) for d in answer["details"]])
    status, answer = await reidentify(relay, units["auditor"], "not-an-alert-id", body={"reason": REASON})
    assert (404, [("alert_id", "bad_alert_id")]) == (
        status, [(d["field"], d["code"]) for d in answer["details"]])


async def test_reidentify_gives_back_exactly_the_values_posted(relay, units, masked):
    """200: each personal field by its path, and the alert as it read before masking,
    with masked_at; the alert itself stays masked."""
    alert_id = masked["ids"]["courier"]
    posted = masked["alerts"]["courier"]
    status, answer = await reidentify(relay, units["auditor"], alert_id, body={"reason": REASON})
    assert 200 == status, answer
    status, file = await call(relay, units["auditor"], "GET", f"/v1/alerts/{alert_id}")
    assert 200 == status, file
    assert (alert_id, file["seq"], file["alert"]["masked_at"]) == (
        answer["alert_id"], answer["seq"], answer["masked_at"])
    assert fields_of(posted) == answer["fields"]
    assert len(answer["fields"]) == 9  # 7 of the courier, 2 of the other passenger
    assert {**file["alert"], **posted} == answer["alert"]
    assert "masked_at" in file["alert"] and [] == split_personal(file["alert"])[1]


async def test_reidentify_of_an_alert_held_before_masking_gives_its_fields(relay, units, masked):
    status, answer = await reidentify(relay, units["auditor"], masked["ids"]["held"],
                                      body={"reason": REASON})
    assert (200, None) == (status, answer["masked_at"]), answer
    assert fields_of(masked["alerts"]["held"]) == answer["fields"]


async def test_reidentify_of_an_alert_without_personal_fields_gives_none(relay, units, masked):
    status, answer = await reidentify(relay, units["auditor"], masked["ids"]["seizure"],
                                      body={"reason": REASON})
    assert (200, [], None) == (status, answer["fields"], answer["masked_at"]), answer
    assert {"alert_id": masked["ids"]["seizure"], "kind": "seizure"} == {
        k: answer["alert"][k] for k in ("alert_id", "kind")}


async def test_reidentify_is_410_once_the_data_key_is_destroyed_at_masking(relay, units, masked,
                                                                            database):
    """With shred_on_mask the data key goes at masking: nothing is left to re-identify."""
    alert_id = await publish(relay, units["publisher"],
                             passenger_alert(subjects=[{**SECOND, "surname": "QZSHREDDED"}]))
    done = await run_jobs(database, JobSettings(183, 1826, True, 1000), now=days_later(200),
                          run_by="tests")
    assert (1, 1) == (done.masked, done.shredded)
    status, answer = await reidentify(relay, units["auditor"], alert_id, body={"reason": REASON})
    assert (410, "not_found", [("alert_id", "keys_destroyed")]) == (
        status, answer["code"], [(d["field"], d["code"]) for d in answer["details"]])


async def test_a_seal_that_does_not_open_is_500_and_logged_by_seq_only(relay, units, masked,
                                                                        database):
    """A sealed box moved from another alert's row does not open under this alert's id:
    the relay says the fields cannot be opened, and logs the seq, never a value."""
    alert_id = await publish(relay, units["publisher"],
                             passenger_alert(subjects=[{**SECOND, "surname": "QZMOVEDBOX"}]))
    async with database.acquire() as conn:
        seq = await conn.fetchval(
            "UPDATE relay_events SET personal = (SELECT personal FROM relay_events"
            " WHERE alert_id = $2::uuid AND kind = 'alert')"
            " WHERE alert_id = $1::uuid AND kind = 'alert' RETURNING seq",
            alert_id, masked["ids"]["held"])
    status, answer = await reidentify(relay, units["auditor"], alert_id, body={"reason": REASON})
    assert (500, [("alert_id", "personal_unreadable")]) == (
        status, [(d["field"], d["code"]) for d in answer["details"]])
    lines = await relay.log_lines(lambda line: line.get("event") == "personal_data_unreadable"
                                  and line.get("seq") == seq)
    assert not any("QZMOVEDBOX" in orjson.dumps(line).decode() for line in lines)


# -- the access log ------------------------------------------------------------------------

async def test_each_hold_and_reidentification_is_in_the_access_log_with_its_reason(
        relay, units, masked, database):
    """Granted or refused, by an auditor or not: who, which path, the status and why; an
    unauthenticated request has no who and is not recorded. No personal value is ever in
    the access log, nor in the relay's log."""
    courier = masked["ids"]["courier"]
    path = f"/v1/alerts/{courier}/reidentify"
    tag = uuid.uuid4().hex[:8]
    asked = [  # (token, body, expected status, recorded reason)
        ("publisher", {"reason": f"{tag} not an auditor"}, 403, f"{tag} not an auditor"),
        ("auditor", {"reason": "  "}, 400, "  "),
        ("auditor", {}, 400, None),
        ("auditor", {"reason": f"{tag} the order of the court"}, 200, f"{tag} the order of the court"),
    ]
    for token, body, expected, _ in asked:
        status, answer = await reidentify(relay, units[token], courier, body=body)
        assert expected == status, answer
    status, _ = await reidentify(relay, None, courier, body={"reason": f"{tag} anonymous"})
    assert 401 == status
    unknown = str(uuid.uuid4())
    status, _ = await reidentify(relay, units["auditor"], unknown, body={"reason": f"{tag} unknown"})
    assert 404 == status
    hold = {"alert_id": courier, "reason": f"{tag} hold", "until": days_later(10).strftime("%Y-%m-%d")}
    status, _ = await call(relay, units["publisher"], "POST", "/v1/protection/holds", body=hold)
    assert 403 == status
    status, _ = await call(relay, units["auditor"], "POST", "/v1/protection/holds", body=hold)
    assert 201 == status

    status, page = await call(relay, units["auditor"], "GET", "/v1/audit/access-log?limit=500")
    assert 200 == status, page
    entries = [(e["unit"], e["method"], e["path"], e["status"], e.get("reason"),
                e.get("action"), e.get("target"))
               for e in reversed(page["entries"])
               if e["path"].endswith("/reidentify") or e["path"].startswith("/v1/protection/")]
    expected = [("ML-BKO-JAITF" if token == "publisher" else "ML-BKO-AUDIT", "POST", path,
                 status, reason, None, None) for token, _, status, reason in asked]
    expected += [
        ("ML-BKO-AUDIT", "POST", f"/v1/alerts/{unknown}/reidentify", 404, f"{tag} unknown", None, None),
        # the path of a hold does not name the alert: the target does
        ("ML-BKO-JAITF", "POST", "/v1/protection/holds", 403, f"{tag} hold", None, courier),
        ("ML-BKO-AUDIT", "POST", "/v1/protection/holds", 201, f"{tag} hold", "protection.hold",
         courier)]
    assert expected == entries[-len(expected):]
    assert not any(entry[4] and f"{tag} anonymous" in entry[4] for entry in entries)

    async with database.acquire() as conn:
        dump = orjson.dumps([dict(r) for r in await conn.fetch(
            "SELECT unit_id, method, path, query::text, rows, status, action, target, reason"
            " FROM relay_access_log")]).decode()
    assert f"{tag} the order of the court" in dump
    assert [] == [value for value in PERSONAL if value in dump]
    log = relay.log_path.read_text(errors="replace")
    assert [] == [value for value in PERSONAL if value in log]


# -- after reduction -------------------------------------------------------------------------

async def test_reidentify_is_410_once_the_alert_is_reduced(relay, units, masked, reduced):
    """1,900 days later every alert is reduced (the hold ended long before): nothing is
    left to re-identify, whether it was masked, held or had no personal field; the
    refusal is recorded."""
    assert reduced.reduced >= 3
    for name in ("courier", "held", "seizure"):
        status, answer = await reidentify(relay, units["auditor"], masked["ids"][name],
                                          body={"reason": f"{REASON} ({name})"})
        assert (410, "not_found", [("alert_id", "keys_destroyed")]) == (
            status, answer["code"], [(d["field"], d["code"]) for d in answer["details"]]), name
    status, page = await call(relay, units["auditor"], "GET", "/v1/audit/access-log?limit=3")
    assert [(410, f"{REASON} ({name})") for name in ("seizure", "held", "courier")] == [
        (e["status"], e.get("reason")) for e in page["entries"]]


# -- an alert stored before protection -------------------------------------------------------

def legacy_event(key: str, alert: dict[str, Any], received: datetime) -> tuple[PendingEvent, dict[str, Any]]:
    """An alert as the relay stored it before migration 010, and its stored body."""
    alert = validate_alert(alert, known_units=set(), regions={})
    alert_id = str(uuid.uuid4())
    body = {**alert, "alert_id": alert_id, "origin_unit": "ML-BKO-JAITF",
            "received_at": rfc3339(received)}
    return PendingEvent("ML-BKO-JAITF", key, "alert", alert_id, "ML-BKO-JAITF", received,
                        alert_facts(alert), None, *encode_body(body)), body


async def test_alerts_stored_before_protection_are_reidentified_once_sealed_and_masked(
        pg_server, workdir):
    """A database with history from before migration 010 (alerts with their fields in
    clear, chain version 1): the jobs seal them in place, then mask them;
    re-identification gives the fields back, and none for a seizure."""
    dsn = await new_database(pg_server)
    received = datetime.now(UTC) - timedelta(minutes=1)
    passenger, passenger_body = legacy_event(
        "legacy-1", passenger_alert(subjects=[SUBJECT], distribution={"countries": ["MA"]}), received)
    seizure, seizure_body = legacy_event("legacy-2", seizure_alert(), received)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_legacy(conn)
        await legacy_append(conn, [passenger, seizure])
    finally:
        await conn.close()
    async with running_relay(dsn, workdir / "legacy") as legacy:
        _, auditor = await create_unit(dsn, "ML-BKO-AUDIT", country="ML", roles="audit")
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
        try:
            await run_jobs(pool, DEFAULTS, now=days_later(200), run_by="tests")
            rows = await pool.fetch("SELECT chain_version, sealed_at IS NOT NULL AS sealed,"
                                    " EXISTS (SELECT 1 FROM relay_masks m WHERE m.seq = e.seq) AS masked"
                                    " FROM relay_events e ORDER BY seq")
        finally:
            await pool.close()
        assert [(1, True, True), (1, True, False)] == [tuple(row) for row in rows]
        status, answer = await reidentify(legacy, auditor, passenger.alert_id, body={"reason": REASON})
        assert 200 == status, answer
        assert fields_of(passenger_body) == answer["fields"]
        assert {**passenger_body, "masked_at": answer["masked_at"]} == answer["alert"]
        status, answer = await reidentify(legacy, auditor, seizure.alert_id, body={"reason": REASON})
        assert (200, [], None) == (status, answer["fields"], answer["masked_at"]), answer
        assert seizure_body == answer["alert"]
