"""A link over TLS (federation.md "Peers and links": TLS where the URL says wss): SN pulls
from ML's wss:// stream trusting ML's certificate authority through ``ca_file``; with a
certificate it cannot verify, the link stays down, says why, and nothing is received."""

from __future__ import annotations

import aiohttp
import asyncpg
import pytest
import trustme

from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.federation import FAST, grant_to_file, wait_for
from tests.support import RelayProcess, create_unit

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _count(dsn: str, query: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def test_a_link_over_wss_verifies_the_peers_certificate(pg_server, template_db, workdir):
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    cert, key, ca = workdir / "ml-cert.pem", workdir / "ml-key.pem", workdir / "ml-ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))

    ml_dsn, sn_dsn = await fresh_database(pg_server, template_db), await fresh_database(pg_server, template_db)
    token_file = await grant_to_file(ml_dsn, "SN", ["SN"], workdir / "sn-pulls-ml.token")
    _, officer = await create_unit(ml_dsn, "ML-BKO-JAITF", country="ML")
    ml = RelayProcess(ml_dsn, workdir / "ml", config_text=(
        f'[relay]\nid = "ML"\n{FAST}\n[stream]\ntls_cert = "{cert}"\ntls_key = "{key}"\n'))
    await ml.start()
    url = ml.url.replace("ws://", "wss://")

    def sn_config(ca_line: str) -> str:
        return (f'[relay]\nid = "SN"\n{FAST}\n[[federation.peers]]\nid = "ML"\nurl = "{url}"\n'
                f'token_file = "{token_file}"\n{ca_line}')

    untrusting = RelayProcess(sn_dsn, workdir / "sn-untrusting", config_text=sn_config(""))
    try:
        async with aiohttp.ClientSession() as http, http.post(
                f"{ml.http}/v1/alerts", json=seizure_alert(distribution={"countries": ["SN"]}),
                headers={"Authorization": f"Bearer {officer}", "Idempotency-Key": "tls-1"}) as response:
            assert 201 == response.status, await response.text()
        await untrusting.start()
        lines = await untrusting.log_lines(lambda line: line.get("event") == "link_down", timeout=15)
        errors = [line.get("error") or "" for line in lines if line.get("event") == "link_down"]
        assert any("CERTIFICATE_VERIFY_FAILED" in error or "certificate" in error.lower()
                   for error in errors), errors
        assert 0 == await _count(sn_dsn, "SELECT count(*) FROM relay_events")
        await untrusting.stop()

        trusting = RelayProcess(sn_dsn, workdir / "sn-trusting", config_text=sn_config(f'ca_file = "{ca}"\n'))
        await trusting.start()
        try:
            await wait_for(lambda: _count(sn_dsn, "SELECT count(*) FROM relay_events WHERE origin_relay = 'ML'"),
                           what="the alert received over wss")
        finally:
            await trusting.stop()
    finally:
        await untrusting.stop()
        await ml.stop()

