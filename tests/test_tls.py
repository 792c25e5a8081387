"""wss:// when the relay is given a certificate (protocol.md "Stream transport")."""

from __future__ import annotations

import ssl

import aiohttp
import pytest
import trustme
from websockets.asyncio.client import connect

from tests.alert_examples import seizure_alert
from tests.support import TIMEOUT, RelayProcess, create_unit, decode, encode, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_stream_speaks_tls_with_a_configured_certificate(dsn, workdir):
    """With [stream] tls_cert/tls_key the stream is wss:// and works end to end."""
    authority = trustme.CA()
    server_cert = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert))
    for extra in server_cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    server_cert.private_key_pem.write_to_path(str(key))
    relay = RelayProcess(dsn, workdir / "tls", config_text=f'[stream]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    await relay.start()
    _, token = await create_unit(dsn, unique_unit("TG"), country="TG")
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    try:
        url = relay.url.replace("ws://", "wss://")
        async with connect(url, ssl=client_context, subprotocols=["relay.v1.json"],
                           additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=TIMEOUT) as ws:
            welcome = decode("relay.v1.json", await ws.recv())
            await ws.send(encode("relay.v1.json", {"type": "publish", "id": "tls-1",
                                                   "alert": seizure_alert(distribution={"countries": ["TG"]})}))
            ack = decode("relay.v1.json", await ws.recv())
        with pytest.raises(ssl.SSLError):
            async with connect(url, ssl=ssl.create_default_context(), open_timeout=TIMEOUT):
                pass
    finally:
        await relay.stop()
    assert "welcome" == welcome["type"]
    assert "ack" == ack["type"]


async def test_the_http_port_speaks_tls_with_the_same_options(dsn, workdir):
    """[http] tls_cert/tls_key: the API and the probes are HTTPS, checked against the CA;
    plain HTTP on that port gets no answer."""
    authority = trustme.CA()
    server_cert = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = workdir / "http-cert.pem", workdir / "http-key.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert))
    server_cert.private_key_pem.write_to_path(str(key))
    relay = RelayProcess(dsn, workdir / "https", http_tls=True,
                         config_text=f'[http]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    await relay.start()
    _, token = await create_unit(dsn, unique_unit("TG"), country="TG")
    trusted = ssl.create_default_context()
    authority.configure_trust(trusted)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(f"{relay.http}/v1/alerts", ssl=trusted,
                                timeout=aiohttp.ClientTimeout(TIMEOUT)) as response:
                assert 200 == response.status
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                async with http.get(f"{relay.http}/readyz", timeout=aiohttp.ClientTimeout(TIMEOUT)):
                    pass
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{relay.http_port}/readyz",
                                    timeout=aiohttp.ClientTimeout(TIMEOUT)):
                    pass
    finally:
        await relay.stop()


async def test_a_certificate_without_its_key_stops_the_relay_naming_the_key(tmp_path):
    from relay.config import ConfigError, load_config

    config = tmp_path / "relay.toml"
    config.write_text('[http]\ntls_cert = "/etc/relay/cert.pem"\n')
    with pytest.raises(ConfigError, match=r"http\.tls_cert"):
        load_config(config, environ={})
