"""Passengers' personal fields never reach the relay's logs, its metrics or its delivery
records (protection.md "At rest": "Personal fields never appear in logs, metrics or the
delivery records"), whatever path they come by: published over the stream and over HTTP,
refused for a bad value, searched for in the history, exported, or read back in an
alert's file (what a peer relay sends is checked the same way in
tests/test_federation_hostile.py). Run against a real relay at debug level, the most
talkative it gets."""

from __future__ import annotations

import aiohttp
import asyncpg
import pytest

from relay.contract.fields import personal_fields
from tests.alert_examples import passenger_alert
from tests.conftest import running_relay
from tests.support import create_unit, stream_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

# One distinctive value per personal field (protection.md "Personal fields").
SUBJECT = {"role": "courier", "surname": "ZQXSURNAMEW", "given_names": "ZQXGIVENW", "nationality": "ML",
           "birth_date": "1977-07-17",
           "document": {"type": "passport", "number": "ZQ7734591", "issuing_country": "ML"},
           "seat": "61Q", "pnr_locator": "ZQPNRW", "bag_tags": ["ZQBAG99817"]}
PERSONAL = ["ZQXSURNAMEW", "ZQXGIVENW", "1977-07-17", "ZQ7734591", "61Q", "ZQPNRW", "ZQBAG99817"]


async def test_the_values_cover_every_personal_field():
    """A personal field added to the table without a value here fails this test."""
    covered = {f"subjects[].{key}" for key in SUBJECT} | {"subjects[].document.number"}
    assert set(personal_fields()) <= covered


@pytest.fixture(scope="module")
async def talkative_relay(dsn, workdir):
    async with running_relay(dsn, workdir / "debug", "[log]\nlevel = \"debug\"\n") as process:
        yield process


async def test_no_personal_field_in_logs_metrics_or_delivery_records(talkative_relay, dsn):
    relay = talkative_relay
    _, officer = await create_unit(dsn, "ML-BKO-PAX", country="ML")
    _, partner = await create_unit(dsn, "FR-CDG-PAX", country="FR", roles="subscribe")
    _, auditor = await create_unit(dsn, "ML-BKO-AUDITPAX", country="ML", roles="audit")
    alert = passenger_alert(subjects=[SUBJECT], distribution={"units": ["FR-CDG-PAX"]})
    bad = passenger_alert(subjects=[{**SUBJECT, "birth_date": "1977-02-30", "seat": "61Q" * 20}],
                          distribution={"units": ["FR-CDG-PAX"]})
    async with stream_client(relay, partner) as receiver, stream_client(relay, officer) as publisher:
        await receiver.subscribe()
        ack = await publisher.publish(alert)
        refused = await publisher.publish(bad)
        await receiver.events(1)
    assert "ack" == ack["type"] and "invalid_alert" == refused["code"]
    headers = {"Authorization": f"Bearer {officer}"}
    audit = {"Authorization": f"Bearer {auditor}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{relay.http}/v1/alerts", json=alert,
                             headers={**headers, "Idempotency-Key": "pax-http"}) as response:
            assert 201 == response.status
        async with http.post(f"{relay.http}/v1/alerts", json=bad,
                             headers={**headers, "Idempotency-Key": "pax-bad"}) as response:
            assert 400 == response.status
        for path in ("/v1/alerts?q=ZQXSURNAMEW", f"/v1/alerts/{ack['alert_id']}",
                     "/v1/audit/export?format=ndjson", "/v1/audit/export?format=csv"):
            async with http.get(f"{relay.http}{path}", headers=audit) as response:
                assert 200 == response.status
                await response.read()
        async with http.get(f"{relay.http}/metrics") as response:
            metrics = await response.text()
    await relay.stop()  # every line written, delivery records flushed
    log = relay.log_path.read_text()
    conn = await asyncpg.connect(dsn)
    try:
        deliveries = " ".join(str(tuple(row)) for row in await conn.fetch("SELECT * FROM relay_delivery_groups"))
    finally:
        await conn.close()
    assert "published" in log and "FR-CDG-PAX" in deliveries  # what was searched is there
    for value in PERSONAL:
        assert value not in log, value
        assert value not in metrics, value
        assert value not in deliveries, value
