"""The HTTP API end to end: auth, publish, history with visibility equal to the stream's,
stable pagination, one alert's file, audit endpoints and their access log."""

from __future__ import annotations

import asyncio
import itertools
import json

import aiohttp
import pytest

from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import TIMEOUT, create_unit, stream_client, unique_unit
from tests.test_visibility_matrix import FORMS, TLPS, distribution

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def cast(dsn):
    """Units of the example alerts plus viewers in several countries and an auditor."""
    made = {
        "bko": await create_unit(dsn, "ML-BKO-JAITF", country="ML"),
        "cmn": await create_unit(dsn, "MA-CMN-BNPJ", country="MA"),
        "cdg": await create_unit(dsn, "FR-CDG-OFAST", country="FR"),
        "named": await create_unit(dsn, unique_unit("TG"), country="TG"),
        "country": await create_unit(dsn, unique_unit("ET"), country="ET"),
        "region": await create_unit(dsn, unique_unit("NE"), country="NE"),
        "elsewhere": await create_unit(dsn, unique_unit("BR"), country="BR"),
        "watch": await create_unit(dsn, unique_unit("SN"), country="SN", roles="subscribe"),
        "audit": await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit"),
    }
    return made


class Api:
    def __init__(self, relay, token: str | None) -> None:
        self.base = relay.http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(self, method: str, path: str, *, body=None, headers=None, params=None):
        async with aiohttp.ClientSession() as http, http.request(
                method, self.base + path, params=params, headers={**self.headers, **(headers or {})},
                data=body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)) as r:
            text = await r.text()
            ctype = r.headers.get("Content-Type", "")
            return r.status, (json.loads(text) if "json" in ctype and "ndjson" not in ctype else text), r.headers

    async def publish(self, alert, key):
        return await self.call("POST", "/v1/alerts", body=alert, headers={"Idempotency-Key": key})

    async def all_alerts(self, **params):
        seqs, cursor = [], None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            status, page, _ = await self.call("GET", "/v1/alerts", params=query)
            assert 200 == status, page
            seqs += [item["seq"] for item in page["alerts"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seqs


async def test_requests_without_a_valid_token_get_401_with_the_error_object(relay):
    """No header, a wrong scheme, an unknown token: 401 and the contract's error object."""
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer relay_nope-nope-nope-nope"}):
        async with aiohttp.ClientSession() as http, http.get(relay.http + "/v1/alerts", headers=headers) as r:
            body = await r.json()
            assert 401 == r.status and "Bearer" in r.headers["WWW-Authenticate"]
            assert ("error", "unauthorized") == (body["type"], body["code"])


async def test_publish_over_http_is_idempotent_and_reaches_the_stream(relay, cast):
    """201, then 200 for the same key and alert, 409 for the same key and another alert;
    the alert is delivered on the stream like any other."""
    api = Api(relay, cast["bko"][1])
    async with stream_client(relay, cast["cmn"][1]) as subscriber:
        await subscriber.subscribe()
        created = await api.publish(passenger_alert(), "http-1")
        (event,) = await subscriber.events(1)
    again = await api.publish(passenger_alert(), "http-1")
    conflict = await api.publish(passenger_alert(summary="another"), "http-1")
    assert 201 == created[0] and created[1]["duplicate"] is False
    assert (200, created[1]["seq"], True) == (again[0], again[1]["seq"], again[1]["duplicate"])
    assert (409, "conflict") == (conflict[0], conflict[1]["code"])
    assert created[1]["seq"] == event["seq"]


async def test_publish_errors_have_their_status_and_details(relay, cast):
    """400 with every problem, 400 without Idempotency-Key, 403 without the role, 413 too big."""
    bad = await Api(relay, cast["bko"][1]).publish(passenger_alert(priority="soon", tlp="black"), "bad")
    no_key = await Api(relay, cast["bko"][1]).call("POST", "/v1/alerts", body=passenger_alert())
    no_role = await Api(relay, cast["watch"][1]).publish(seizure_alert(), "w")
    too_big = await Api(relay, cast["bko"][1]).publish({"summary": "x" * 200_000}, "big")
    not_json = await Api(relay, cast["bko"][1]).call("POST", "/v1/alerts", body=b"{nope",
                                                     headers={"Idempotency-Key": "nj"})
    assert (400, {"priority", "tlp"}) == (bad[0], {d["field"] for d in bad[1]["details"]})
    assert (400, "Idempotency-Key") == (no_key[0], no_key[1]["details"][0]["field"])
    assert (403, "forbidden") == (no_role[0], no_role[1]["code"])
    assert (413, "too_large") == (too_big[0], too_big[1]["code"])
    assert 400 == not_json[0]


async def test_http_visibility_equals_stream_visibility(relay, cast):
    """The visibility matrix: each viewer lists over HTTP exactly what it replays on the stream."""
    origin = Api(relay, cast["bko"][1])
    named_unit = cast["named"][0]
    published = []
    for form, tlp in itertools.product(FORMS, TLPS):
        if tlp == "red" and form != "units":
            continue
        status, body, _ = await origin.publish(seizure_alert(tlp=tlp, distribution=distribution(form, named_unit)),
                                               f"matrix-{form}-{tlp}")
        assert 201 == status, body
        published.append(body["seq"])
    first = min(published)
    for name in ("bko", "named", "country", "region", "elsewhere", "audit"):
        listed = [s for s in await Api(relay, cast[name][1]).all_alerts(limit="7") if s >= first]
        if name == "audit":
            assert set(published) <= set(listed)
            continue
        async with stream_client(relay, cast[name][1]) as client:
            await client.subscribe(since=first - 1)
            replayed = []
            while (frame := await client.recv())["type"] != "caught_up":
                if frame["type"] == "alert":
                    replayed.append(frame["seq"])
        assert sorted(replayed, reverse=True) == listed, name


async def test_pages_neither_skip_nor_repeat_while_alerts_arrive(relay, cast):
    """Page through with limit 3 while new alerts are published between pages."""
    api = Api(relay, cast["bko"][1])
    for i in range(10):
        await api.publish(seizure_alert(distribution={"countries": ["TG"]}), f"page-{i}")
    before = await api.all_alerts()
    seen, cursor = [], None
    while True:
        _, page, _ = await api.call("GET", "/v1/alerts", params={"limit": "3", **({"cursor": cursor} if cursor else {})})
        seen += [item["seq"] for item in page["alerts"]]
        await api.publish(seizure_alert(distribution={"countries": ["TG"]}), f"between-{len(seen)}")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert before == seen
    assert seen == sorted(seen, reverse=True)


async def test_filters_narrow_the_history(relay, cast):
    """kind, airport, country, flight, commodity, q and from/to each narrow; bad ones are 400."""
    api = Api(relay, cast["bko"][1])
    _, passenger, _ = await api.publish(passenger_alert(summary="Courier with 3 kg in luggage, unique-token-xyz"), "f-p")
    _, seizure, _ = await api.publish(seizure_alert(distribution={"countries": ["TG"]},
                                                    seizures=[{"commodity": "gold", "quantity": 3, "unit": "kg"}]), "f-s")
    checks = {
        "kind=passenger": ({"kind": "passenger"}, passenger, seizure),
        "airport": ({"airport": "CMN"}, passenger, seizure),
        "country": ({"country": "TG"}, seizure, passenger),
        "flight": ({"flight": "AT571"}, passenger, seizure),
        "commodity": ({"commodity": "gold"}, seizure, passenger),
        "q": ({"q": "UNIQUE-token-XYZ"}, passenger, seizure),
    }
    for name, (params, wanted, unwanted) in checks.items():
        seqs = await api.all_alerts(**params)
        assert wanted["seq"] in seqs and unwanted["seq"] not in seqs, name
    assert [] == await api.all_alerts(**{"from": "2999-01-01T00:00:00Z"})
    assert seizure["seq"] in await api.all_alerts(**{"to": "2999-01-01T00:00:00Z"})
    status, error, _ = await api.call("GET", "/v1/alerts", params={"colour": "red", "limit": "9999",
                                                                   "cursor": "zzz", "from": "yesterday"})
    assert (400, {"colour", "limit", "cursor", "from"}) == (status, {d["field"] for d in error["details"]})


async def file_with_deliveries(api: Api, alert_id: str, units: set[str]) -> tuple[int, dict]:
    """The alert's file once its delivery records (written every second) name ``units``."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        status, file, _ = await api.call("GET", f"/v1/alerts/{alert_id}")
        if status != 200 or units <= {d["unit"] for d in file["deliveries"]} \
                or asyncio.get_running_loop().time() > deadline:
            return status, file
        await asyncio.sleep(0.1)


async def test_the_alert_file_has_updates_cancellation_receipts_and_deliveries(relay, cast):
    """GET /v1/alerts/{id}: the whole story of an alert, as far as the caller may see."""
    origin = Api(relay, cast["bko"][1])
    async with stream_client(relay, cast["cmn"][1]) as partner:
        await partner.subscribe()
        _, first, _ = await origin.publish(passenger_alert(), "file-1")
        await partner.events(1)
        await partner.request({"type": "receipt", "alert_id": first["alert_id"], "status": "positive"})
    _, update, _ = await origin.publish(passenger_alert(msg_type="update", references=first["alert_id"]), "file-2")
    _, cancel, _ = await origin.publish(passenger_alert(msg_type="cancel", references=first["alert_id"]), "file-3")
    status, file = await file_with_deliveries(origin, first["alert_id"], {"MA-CMN-BNPJ"})
    assert 200 == status, file
    assert first["alert_id"] == file["alert"]["alert_id"]
    assert [update["seq"]] == [u["seq"] for u in file["updates"]]
    assert cancel["seq"] == file["cancellation"]["seq"]
    assert ["positive"] == [r["receipt"]["status"] for r in file["receipts"]]
    delivery = {d["unit"]: d for d in file["deliveries"]}["MA-CMN-BNPJ"]
    assert "positive" == delivery["receipt_status"] and delivery["acknowledged_at"]
    hidden = await Api(relay, cast["elsewhere"][1]).call("GET", f"/v1/alerts/{first['alert_id']}")
    missing = await origin.call("GET", "/v1/alerts/not-an-id")
    assert (404, 404) == (hidden[0], missing[0])


async def test_audit_endpoints_verify_export_and_log_every_request(relay, cast):
    """verify says intact; exports stream every alert (NDJSON: and every receipt); each
    auditor request is logged with its rows; other units get 403."""
    auditor = Api(relay, cast["audit"][1])
    status, report, _ = await auditor.call("GET", "/v1/audit/verify")
    assert (200, True) == (status, report["intact"])
    total = len(await auditor.all_alerts())
    _, ndjson, _ = await auditor.call("GET", "/v1/audit/export", params={"format": "ndjson"})
    lines = [json.loads(line) for line in ndjson.splitlines()]
    _, csv_text, _ = await auditor.call("GET", "/v1/audit/export", params={"format": "csv", "kind": "passenger"})
    alerts = [line for line in lines if line["kind"] == "alert"]
    assert total == len(alerts) and all(len(line["hash"]) == 64 for line in lines)
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert csv_text.startswith("seq,alert_id,received_at")
    _, log, _ = await auditor.call("GET", "/v1/audit/access-log", params={"limit": "10"})
    paths = [(e["path"], e["rows"]) for e in log["entries"]]
    assert ("/v1/audit/export", len(lines)) in paths
    assert ("/v1/audit/verify", report["events"]) in paths
    for path in ("/v1/audit/verify", "/v1/audit/export", "/v1/audit/access-log"):
        assert 403 == (await Api(relay, cast["bko"][1]).call("GET", path))[0]


async def test_the_openapi_document_describes_every_endpoint(relay):
    """GET /v1/openapi.json needs no token and lists the contract's endpoints."""
    status, document, _ = await Api(relay, None).call("GET", "/v1/openapi.json")
    assert 200 == status
    assert {"/v1/alerts", "/v1/alerts/{alert_id}", "/v1/audit/export", "/v1/audit/verify",
            "/v1/audit/access-log"} <= set(document["paths"])


async def test_nul_characters_and_repeated_parameters_are_refused_not_failed(relay, cast):
    """PostgreSQL text cannot hold U+0000: a NUL in a query parameter or in an alert is
    answered 400 naming it (it was 503, and a NUL alert failed its commit on every retry);
    a parameter given twice is ambiguous and refused too."""
    unit = Api(relay, cast["bko"][1])
    nul_query = await unit.call("GET", "/v1/alerts", params={"q": "a\x00b"})
    twice = await unit.call("GET", "/v1/alerts?kind=passenger&kind=seizure")
    nul_alert = await unit.publish(seizure_alert(summary="a\x00b", ext={"k\x00": 1}), "nul-alert")
    assert (400, "invalid_query", ["q"]) == (nul_query[0], nul_query[1]["code"],
                                             [d["field"] for d in nul_query[1]["details"]])
    assert (400, ["kind"]) == (twice[0], [d["field"] for d in twice[1]["details"]])
    assert (400, "invalid_alert", ["summary", "ext.'k\\x00'"]) == (
        nul_alert[0], nul_alert[1]["code"], [d["field"] for d in nul_alert[1]["details"]])


async def test_an_idempotency_key_that_is_not_utf8_is_refused(relay, cast):
    """A header byte that is not UTF-8 cannot be stored as a key: 400 (it was 503 forever)."""
    body = json.dumps(seizure_alert()).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.http_port)
    writer.write(b"POST /v1/alerts HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n"
                 b"Authorization: Bearer " + cast["bko"][1].encode() + b"\r\n"
                 b"Idempotency-Key: cl\xe9\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    answer = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    assert "Idempotency-Key" == json.loads(payload)["details"][0]["field"]


async def test_an_auditors_request_with_a_nul_is_answered_and_logged(relay, cast):
    """The access log records what was asked with the NUL escaped; the request is answered
    (it was 503: an auditor's request that cannot be recorded is not answered)."""
    auditor = Api(relay, cast["audit"][1])
    in_query = await auditor.call("GET", "/v1/audit/access-log", params={"unit": "X\x00"})
    in_path = await auditor.call("GET", "/v1/alerts/%00")
    assert (400, 404) == (in_query[0], in_path[0])
    _, log, _ = await auditor.call("GET", "/v1/audit/access-log", params={"limit": "5"})
    logged = [(e["path"], e["query"], e["status"]) for e in log["entries"]]
    assert ("/v1/alerts/\\x00", {}, 404) in logged
    assert ("/v1/audit/access-log", {"unit": "X\\x00"}, 400) in logged


async def test_http_errors_are_counted_in_the_metrics(relay):
    """A refused request shows in relay_http_errors_total by status."""
    def count(text: str) -> float:
        line = next((line for line in text.splitlines()
                     if line.startswith('relay_http_errors_total{status="401"}')), None)
        return float(line.split()[-1]) if line else 0.0

    anonymous = Api(relay, None)
    _, before, _ = await anonymous.call("GET", "/metrics")
    status, _, _ = await anonymous.call("GET", "/v1/alerts")
    _, after, _ = await anonymous.call("GET", "/metrics")
    assert 401 == status
    assert count(before) + 1 == count(after)


async def test_the_alert_file_shows_a_partner_only_its_own_receipts_and_delivery(relay, cast):
    """protocol.md: a unit sees a receipt when it is the alert's origin or the receipt's
    author. Two partners answer: each reads its own receipt and delivery line only; the
    origin and the auditor read both."""
    origin = Api(relay, cast["bko"][1])
    alert = passenger_alert()
    async with stream_client(relay, cast["cmn"][1]) as cmn, stream_client(relay, cast["cdg"][1]) as cdg:
        await cmn.subscribe()
        await cdg.subscribe()
        _, posted, _ = await origin.publish(alert, "own-receipts-1")
        await cmn.events(1)
        await cdg.events(1)
        await cmn.request({"type": "receipt", "alert_id": posted["alert_id"], "status": "negative"})
        await cdg.request({"type": "receipt", "alert_id": posted["alert_id"], "status": "positive"})
    both = {"MA-CMN-BNPJ", "FR-CDG-OFAST"}
    await file_with_deliveries(origin, posted["alert_id"], both)
    seen = {}
    for name in ("bko", "cmn", "cdg", "audit"):
        status, file, _ = await Api(relay, cast[name][1]).call("GET", f"/v1/alerts/{posted['alert_id']}")
        assert 200 == status, file
        seen[name] = ({r["receipt"]["unit"] for r in file["receipts"]},
                      {d["unit"] for d in file["deliveries"]})
    assert (both, both) == seen["bko"] == seen["audit"]
    assert ({"MA-CMN-BNPJ"}, {"MA-CMN-BNPJ"}) == seen["cmn"]
    assert ({"FR-CDG-OFAST"}, {"FR-CDG-OFAST"}) == seen["cdg"]
