"""The admin HTTP API (admin.md "HTTP", "Health and metrics") against a running relay:
units and tokens under /v1/admin/, role admin only, each action in the access log, the
last admin kept, bad bodies named, unknown paths 404 without a token."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import asyncpg
import orjson
import pytest
import websockets

from relay.store.admin import suspend_unit
from tests.support import SETUP, TIMEOUT, create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Admin:
    """Requests of one token to the relay's HTTP port."""

    def __init__(self, relay, token: str) -> None:
        self.base = relay.http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body=None, raw: bytes | None = None):
        async with aiohttp.ClientSession(headers=self.headers) as http, http.request(
                method, self.base + path, json=body if raw is None else None, data=raw,
                timeout=aiohttp.ClientTimeout(TIMEOUT)) as response:
            text = await response.text()
            return response.status, (await response.json() if text else None), response.headers


@pytest.fixture(scope="module")
async def admin(relay, dsn):
    _, token = await create_unit(dsn, unique_unit("FR"), country="FR", roles="admin")
    await create_unit(dsn, unique_unit("FR"), country="FR", roles="admin")  # not the last admin
    return Admin(relay, token)


async def test_a_unit_added_over_http_gets_a_working_token_shown_once(relay, admin):
    unit_id = unique_unit("MA")
    status, body, headers = await admin.call("POST", "/v1/admin/units", {
        "unit_id": unit_id, "country": "MA", "airport": "CMN", "name": "Casablanca JAITF",
        "roles": ["subscribe", "publish"]})
    assert 201 == status, body
    assert {"unit_id": unit_id, "country": "MA", "airport": "CMN", "name": "Casablanca JAITF",
            "roles": ["publish", "subscribe"], "suspended": False} == {
        key: body["unit"][key] for key in ("unit_id", "country", "airport", "name", "roles", "suspended")}
    assert body["token"].startswith("relay_") and body["token_id"].startswith("tok_")
    assert "no-store" == headers["Cache-Control"]
    async with stream_client(relay, body["token"]) as client:
        assert unit_id == client.welcome["unit"]
    status, listing, _ = await admin.call("GET", "/v1/admin/units")
    assert 200 == status and unit_id in [unit["unit_id"] for unit in listing["units"]]
    status, one, _ = await admin.call("GET", f"/v1/admin/units/{unit_id}")
    assert 200 == status and 1 == one["unit"]["active_tokens"]
    status, tokens, _ = await admin.call("GET", f"/v1/admin/units/{unit_id}/tokens")
    assert 200 == status and [body["token_id"]] == [t["token_id"] for t in tokens["tokens"]]
    assert "token" not in tokens["tokens"][0] and body["token"] not in str(tokens)
    status, again, _ = await admin.call("POST", "/v1/admin/units", {
        "unit_id": unit_id, "country": "MA", "roles": ["publish"]})
    assert (409, "conflict") == (status, again["code"])
    assert "already_exists" == again["details"][0]["code"]


async def test_revoking_one_token_over_http_closes_its_stream_within_5_s(relay, admin, dsn):
    """DELETE /v1/admin/tokens/{id}: 204; its open stream connection closes with 4401
    within 5 s; the unit's other token keeps working (the cut of an export is tested with
    a long one in test_hostile_database.py)."""
    unit_id, kept = await create_unit(dsn, unique_unit("PT"), country="PT")
    status, issued, _ = await admin.call("POST", f"/v1/admin/units/{unit_id}/tokens",
                                         {"label": "laptop of the duty officer", "expires_in_days": 7})
    assert 201 == status, issued
    assert ("laptop of the duty officer", True) == (issued["token_info"]["label"],
                                                    issued["token_info"]["expires_at"] is not None)
    async with stream_client(relay, issued["token"]) as client:
        started = time.monotonic()
        status, _, _ = await admin.call("DELETE", f"/v1/admin/tokens/{issued['token_id']}")
        assert 204 == status
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(client.ws.recv(), 5)
        assert 4401 == closed.value.rcvd.code and time.monotonic() - started < 5
    async with stream_client(relay, kept) as client:
        assert unit_id == client.welcome["unit"]
    status, gone, _ = await admin.call("DELETE", f"/v1/admin/tokens/{issued['token_id']}")
    assert (409, "already_revoked") == (status, gone["details"][0]["code"])
    status, missing, _ = await admin.call("DELETE", "/v1/admin/tokens/tok_000000000000")
    assert (404, "not_found") == (status, missing["code"])


async def test_patch_suspends_reinstates_and_changes_a_unit(relay, admin, dsn):
    unit_id, token = await create_unit(dsn, unique_unit("ES"), country="ES")
    status, body, _ = await admin.call("PATCH", f"/v1/admin/units/{unit_id}", {"suspended": True})
    assert 200 == status and body["unit"]["suspended"] and 0 == body["unit"]["active_tokens"]
    with pytest.raises(websockets.InvalidStatus):
        async with stream_client(relay, token):
            pass
    status, refused, _ = await admin.call("POST", f"/v1/admin/units/{unit_id}/tokens", {})
    assert (409, "unit_suspended") == (status, refused["details"][0]["code"])
    status, body, _ = await admin.call("PATCH", f"/v1/admin/units/{unit_id}", {
        "suspended": False, "roles": ["subscribe"], "name": "Madrid-Barajas", "airport": "MAD"})
    assert 200 == status, body
    assert (False, ["subscribe"], "Madrid-Barajas", "MAD") == (
        body["unit"]["suspended"], body["unit"]["roles"], body["unit"]["name"], body["unit"]["airport"])
    status, issued, _ = await admin.call("POST", f"/v1/admin/units/{unit_id}/tokens", {})
    async with stream_client(relay, issued["token"]) as client:
        assert unit_id == client.welcome["unit"]


async def test_bad_bodies_are_400_naming_each_field(admin):
    status, body, _ = await admin.call("POST", "/v1/admin/units", {
        "unit_id": "bad id", "country": "XX", "airport": "QQQ", "roles": ["fly"], "colour": "red"})
    assert (400, "bad_frame") == (status, body["code"])
    assert {("colour", "unknown_field")} <= {(d["field"], d["code"]) for d in body["details"]}
    status, body, _ = await admin.call("POST", "/v1/admin/units", {
        "unit_id": "ma x", "country": "XX", "airport": "QQQ", "roles": ["fly"]})
    assert {("unit_id", "bad_unit_id"), ("country", "bad_country"), ("airport", "unknown_airport"),
            ("roles[0]", "not_one_of")} <= {(d["field"], d["code"]) for d in body["details"]}
    status, body, _ = await admin.call("PATCH", "/v1/admin/units/NO-SUCH-UNIT", {"suspended": "yes"})
    assert (400, [("suspended", "not_a_boolean")]) == (status, [(d["field"], d["code"]) for d in body["details"]])
    status, body, _ = await admin.call("POST", "/v1/admin/units", raw=b"[1, 2")
    assert (400, "not_json_object") == (status, body["details"][0]["code"])
    status, body, _ = await admin.call("PATCH", "/v1/admin/units/NO-SUCH-UNIT", {"name": "x"})
    assert (404, "not_found") == (status, body["code"])
    status, body, _ = await admin.call("POST", "/v1/admin/units/NO-SUCH-UNIT/tokens",
                                       {"expires_in_days": 99999})
    assert 400 == status or 404 == status


async def test_without_the_admin_role_every_admin_path_is_403_and_recorded(relay, dsn):
    """A publish/subscribe unit (and an auditor) get 403 on every admin path; the
    attempts are in the access log with their status."""
    unit_id, token = await create_unit(dsn, unique_unit("IT"), country="IT")
    outsider = Admin(relay, token)
    paths = [("GET", "/v1/admin/units"), ("POST", "/v1/admin/units"),
             ("GET", f"/v1/admin/units/{unit_id}"), ("PATCH", f"/v1/admin/units/{unit_id}"),
             ("GET", f"/v1/admin/units/{unit_id}/tokens"),
             ("POST", f"/v1/admin/units/{unit_id}/tokens"), ("DELETE", "/v1/admin/tokens/tok_x")]
    for method, path in paths:
        status, body, _ = await outsider.call(method, path, {})
        assert (403, "forbidden") == (status, body["code"]), (method, path)
    _, auditor = await create_unit(dsn, unique_unit("IT"), country="IT", roles="audit")
    status, log, _ = await Admin(relay, auditor).call(
        "GET", "/v1/audit/access-log?limit=50&unit=" + unit_id)
    assert 200 == status
    assert sorted((e["method"], e["path"], e["status"]) for e in log["entries"]) == sorted(
        (method, path, 403) for method, path in paths)


async def test_the_last_admin_cannot_drop_its_role_or_be_suspended_over_http(relay, pg_server, template_db,
                                                                              workdir):
    from tests.conftest import fresh_database, running_relay

    dsn = await fresh_database(pg_server, template_db)
    async with running_relay(dsn, workdir / "last-admin") as lone_relay:
        unit_id, token = await create_unit(dsn, unique_unit("BE"), country="BE", roles="admin")
        only = Admin(lone_relay, token)
        status, body, _ = await only.call("PATCH", f"/v1/admin/units/{unit_id}", {"roles": ["audit"]})
        assert (409, "last_admin") == (status, body["details"][0]["code"])
        status, body, _ = await only.call("PATCH", f"/v1/admin/units/{unit_id}", {"suspended": True})
        assert (409, "last_admin") == (status, body["details"][0]["code"])
        status, body, _ = await only.call("GET", f"/v1/admin/units/{unit_id}")
        assert ["admin"] == body["unit"]["roles"] and not body["unit"]["suspended"]


async def test_admin_actions_are_recorded_once_with_who_what_and_target(relay, admin, dsn):
    unit_id = unique_unit("NL")
    status, added, _ = await admin.call("POST", "/v1/admin/units",
                                        {"unit_id": unit_id, "country": "NL", "roles": ["publish"]})
    assert 201 == status
    await admin.call("DELETE", f"/v1/admin/tokens/{added['token_id']}")
    _, auditor = await create_unit(dsn, unique_unit("NL"), country="NL", roles="audit")
    _, log, _ = await Admin(relay, auditor).call("GET", "/v1/audit/access-log?limit=100")
    mine = [e for e in log["entries"] if e.get("target") in (unit_id, added["token_id"])]
    assert [("token.revoke", added["token_id"], "DELETE", 204), ("unit.add", unit_id, "POST", 201)] == [
        (e["action"], e["target"], e["method"], e["status"]) for e in mine]
    assert added["token"] not in str(log)
    assert 1 == sum(1 for e in log["entries"] if e["path"] == "/v1/admin/units" and e["method"] == "POST"
                    and e.get("target") == unit_id)


@pytest.mark.parametrize("path", ["/health", "/v1/nothing", "/v1/admin/units/X/nope", "/metrics/x"])
async def test_unknown_paths_are_404_without_a_token(relay, path):
    async with aiohttp.ClientSession() as http, http.get(relay.http + path,
                                                         timeout=aiohttp.ClientTimeout(TIMEOUT)) as r:
        body = await r.json()
        assert (404, "not_found") == (r.status, body["code"])
        assert "WWW-Authenticate" not in r.headers


async def test_a_refused_export_attempt_is_in_the_access_log(relay, dsn):
    """A unit without the role audit asks for an export: 403, and the attempt is recorded
    with its status for the auditors to see."""
    unit_id, token = await create_unit(dsn, unique_unit("LU"), country="LU")
    status, body, _ = await Admin(relay, token).call("GET", "/v1/audit/export?format=csv")
    assert (403, "forbidden") == (status, body["code"])
    _, auditor = await create_unit(dsn, unique_unit("LU"), country="LU", roles="audit")
    _, log, _ = await Admin(relay, auditor).call("GET", f"/v1/audit/access-log?unit={unit_id}")
    assert [("GET", "/v1/audit/export", {"format": "csv"}, 403)] == [
        (e["method"], e["path"], e["query"], e["status"]) for e in log["entries"]]


async def test_a_request_begun_before_its_tokens_revocation_does_not_act_after_it(relay, dsn, admin):
    """An admin request whose body is held back while its unit is suspended: when the body
    arrives, 401, and nothing was created."""
    unit_id, token = await create_unit(dsn, unique_unit("DK"), country="DK", roles="admin")
    planted = unique_unit("DK")
    body = orjson.dumps({"unit_id": planted, "country": "DK", "roles": ["admin"]})
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.http_port)
    try:
        writer.write(f"POST /v1/admin/units HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.3)  # the headers are in: authenticated once
        conn = await asyncpg.connect(dsn)
        try:
            await suspend_unit(conn, SETUP, unit_id)
            writer.write(body)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            created = await conn.fetchval("SELECT count(*) FROM relay_units WHERE unit_id = $1",
                                          planted)
        finally:
            await conn.close()
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 401"), head
    assert 0 == created


async def test_roles_changed_behind_the_relays_back_still_reconnect_the_unit(relay, dsn):
    """No notification (a listener down, an update by hand): the periodic check sees the
    roles differ and closes the unit's connection with 1012."""
    unit_id, token = await create_unit(dsn, unique_unit("SE"), country="SE")
    async with stream_client(relay, token) as client:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("UPDATE relay_units SET roles = '{publish}' WHERE unit_id = $1", unit_id)
        finally:
            await conn.close()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(client.ws.recv(), 5)
        assert 1012 == closed.value.rcvd.code


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "Gate\x00B", "nul_character"), ("name", "\x1b]0;owned\x07", "control_character"),
    ("name", "evil\u202etxt.exe", "control_character"), ("label", "x" * 201, "length"),
])
async def test_names_and_labels_refuse_what_would_break_storage_or_a_terminal(admin, field, value, code):
    if field == "name":
        status, body, _ = await admin.call("POST", "/v1/admin/units", {
            "unit_id": unique_unit("FI"), "country": "FI", "roles": ["publish"], "name": value})
    else:
        status, body, _ = await admin.call("POST", "/v1/admin/units", {
            "unit_id": unique_unit("FI"), "country": "FI", "roles": ["publish"], "label": value})
    assert (400, [(field, code)]) == (status, [(d["field"], d["code"]) for d in body["details"]])


@pytest.mark.parametrize("path", ["/v1/admin/units/A%00B", "/v1/admin/units/%00/tokens"])
async def test_ids_that_cannot_exist_are_404_without_asking_the_database(admin, path):
    status, body, _ = await admin.call("GET", path)
    assert (404, "not_found") == (status, body["code"])
    status, body, _ = await admin.call("DELETE", "/v1/admin/tokens/tok%00")
    assert (404, "not_found") == (status, body["code"])
