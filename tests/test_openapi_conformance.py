"""The relay answers as its OpenAPI document says (issue 3): schemathesis against a live relay.

schemathesis reads ``/v1/openapi.json`` and sends examples, boundary values, schema-valid
and schema-invalid requests, and chains of requests along the document's links (publish →
the alert's file, a page → the next page). It runs every check but one:

- ``positive_data_acceptance`` is left out. It expects a 2xx for every schema-valid request,
  and a schema cannot say everything the relay rightly refuses with 400: which cursors the
  relay gave out, which units, regions and airports it knows, and the cross-field rules of
  alerts.md that JSON Schema cannot express (``expires_at`` after ``sent_at``, the route's
  ends, a birth date in the past, a summary that is not only whitespace, the 64 KiB
  encoded size).
- Every other check runs: no server error, every status, content type and header declared,
  every body matching its schema, every schema-invalid request refused, 401 without a
  token, 405 with ``Allow`` for an undeclared method, and a published alert readable at once.

It runs twice: with a unit holding publish, subscribe and audit (every endpoint answers),
and with a subscribe-only unit (the 403 answers are checked too). The run is bounded
(``MAX_EXAMPLES`` per operation, a fixed seed, a time-out); ``RELAY_SCHEMATHESIS_EXAMPLES``
and ``RELAY_SCHEMATHESIS_SEED`` widen or vary it when hunting for bugs.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema_rs
import orjson
import pytest

from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import TIMEOUT, create_unit, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAX_EXAMPLES = int(os.environ.get("RELAY_SCHEMATHESIS_EXAMPLES", "20"))
SEED = int(os.environ.get("RELAY_SCHEMATHESIS_SEED", "20261123"))
RUN_TIMEOUT = 100.0  # seconds; a run takes about 10 on a loaded 2-core machine
SCHEMATHESIS = Path(sys.executable).with_name("st")


async def _call(relay, token: str, method: str, path: str, *, body: Any = None,
                key: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    async with aiohttp.ClientSession() as http, http.request(
            method, relay.http + path, headers=headers,
            data=None if body is None else orjson.dumps(body)) as response:
        return response.status, orjson.loads(await response.read())


@pytest.fixture(scope="module")
async def seeded(relay, dsn) -> dict[str, Any]:
    """Alerts for the GET endpoints to return: a passenger alert with a receipt, a delivery,
    an update and a cancellation, and two seizures; published over HTTP."""
    _, publisher = await create_unit(dsn, "ML-BKO-JAITF", country="ML",
                                     roles="publish,subscribe,audit")
    _, subscriber = await create_unit(dsn, "MA-CMN-BNPJ", country="MA", roles="subscribe")
    await create_unit(dsn, "FR-CDG-OFAST", country="FR")
    _, admin = await create_unit(dsn, "FR-ADMIN-DNPAF", country="FR", roles="admin")
    async with stream_client(relay, subscriber) as partner:
        await partner.subscribe()
        status, first = await _call(relay, publisher, "POST", "/v1/alerts",
                                    body=passenger_alert(), key="seed-passenger")
        assert 201 == status, first
        await partner.events(1)
        receipt = await partner.request({"type": "receipt", "alert_id": first["alert_id"],
                                         "status": "in_progress", "note": "team at the gate"})
        assert "ack" == receipt["type"], receipt
    for key, alert in [
        ("seed-update", passenger_alert(msg_type="update", references=first["alert_id"])),
        ("seed-cancel", passenger_alert(msg_type="cancel", references=first["alert_id"])),
        ("seed-seizure", seizure_alert()),
        ("seed-all", seizure_alert(distribution={"all": True}, status="exercise")),
    ]:
        status, body = await _call(relay, publisher, "POST", "/v1/alerts", body=alert, key=key)
        assert 201 == status, body
    deadline = time.monotonic() + TIMEOUT
    while True:  # delivery records are written about once a second
        status, file = await _call(relay, publisher, "GET", f"/v1/alerts/{first['alert_id']}")
        if file["deliveries"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert file["deliveries"] and file["updates"] and file["cancellation"], file
    return {"publisher": publisher, "subscriber": subscriber, "admin": admin,
            "alert_id": first["alert_id"]}


async def run_schemathesis(relay, token: str, workdir: Path) -> tuple[int, str]:
    """``st run`` against the relay's document; its exit status and whole output."""
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", f"{relay.http}/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--generation-database", "none", "--request-timeout", "10", "--no-color",
        cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"})
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return -1, f"schemathesis did not finish within {RUN_TIMEOUT}s\n{output.decode()}"
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@pytest.mark.parametrize("unit", ["publisher", "subscriber"])
async def test_schemathesis_finds_no_failure(relay, seeded, workdir, unit):
    """No server error and no answer that breaks the document, for either kind of unit."""
    status, output = await run_schemathesis(relay, seeded[unit], workdir)
    assert 0 == status, f"schemathesis failed (exit {status}):\n{output}\nrelay log:\n{relay.log()}"


async def test_schemathesis_finds_no_failure_as_an_admin(pg_server, template_db, workdir):
    """The admin API, on a relay of its own: schemathesis adds, changes, suspends units
    and revokes tokens, which must not disturb the other runs."""
    from tests.conftest import fresh_database, running_relay

    dsn = await fresh_database(pg_server, template_db)
    async with running_relay(dsn, workdir / "admin") as relay:
        _, admin = await create_unit(dsn, "FR-ADMIN-DNPAF", country="FR", roles="admin")
        await create_unit(dsn, "FR-ADMIN-DEPUTY", country="FR", roles="admin")
        await create_unit(dsn, "ML-BKO-JAITF", country="ML")
        status, output = await run_schemathesis(relay, admin, workdir)
    assert 0 == status, f"schemathesis failed (exit {status}):\n{output}\nrelay log:\n{relay.log()}"


async def test_the_richest_answers_match_their_schemas(relay, seeded):
    """The answers schemathesis may not reach match the document: an alert file with an
    update, a cancellation, a receipt and a delivery, as the origin and as the partner; a
    page; the chain report; the access log."""
    async with aiohttp.ClientSession() as http, http.get(relay.http + "/v1/openapi.json") as r:
        document = orjson.loads(await r.read())

    def check(schema_name: str, body: Any) -> None:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$ref": f"#/components/schemas/{schema_name}",
                  "components": document["components"]}
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        assert [] == [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)]

    alert_file = f"/v1/alerts/{seeded['alert_id']}"
    for token in (seeded["publisher"], seeded["subscriber"]):
        status, body = await _call(relay, token, "GET", alert_file)
        assert (200, 1) == (status, len(body["receipts"])), body
        check("AlertFile", body)
        status, body = await _call(relay, token, "GET", "/v1/alerts?limit=500")
        assert 200 == status and body["alerts"], body
        check("AlertPage", body)
    for path, schema_name in [("/v1/audit/verify", "VerifyReport"),
                              ("/v1/audit/access-log", "AccessLogPage")]:
        status, body = await _call(relay, seeded["publisher"], "GET", path)
        assert 200 == status, body
        check(schema_name, body)
    status, body = await _call(relay, seeded["admin"], "GET", "/v1/admin/units/ML-BKO-JAITF")
    assert 200 == status, body
    check("Unit", body["unit"])
    status, body = await _call(relay, seeded["admin"], "GET", "/v1/admin/units/ML-BKO-JAITF/tokens")
    assert 200 == status and body["tokens"], body
    check("TokenInfo", body["tokens"][0])
