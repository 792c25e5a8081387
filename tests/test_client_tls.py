"""The clients against a relay serving wss:// with a self-signed certificate (issue 10,
item 6): an untrusted certificate is reported as such, with its own exit status, and not
retried; --ca-file / RELAY_CA_FILE make the same relay trusted."""

from __future__ import annotations

import datetime
import ipaddress
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clients.outbox import Outbox
from tests.alert_examples import seizure_alert
from tests.conftest import running_relay
from tests.support import RelayProcess, create_unit, unique_unit
from tests.test_clients_e2e import (
    RELAY_FEED,
    RELAY_POST,
    WAIT,
    acknowledged,
    alert_file,
    cli_env,
    marked,
    run,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, as an operator makes one with
    openssl req -x509: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert, private = directory / "relay-cert.pem", directory / "relay-key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, private


@pytest.fixture(scope="module")
async def tls_relay(dsn: str, workdir: Path) -> AsyncIterator[tuple[RelayProcess, Path]]:
    cert, key = self_signed(workdir)
    async with running_relay(dsn, workdir / "tls",
                             f'[stream]\ntls_cert = "{cert}"\ntls_key = "{key}"\n') as relay:
        yield relay, cert


def wss(relay: RelayProcess) -> str:
    return relay.url.replace("ws://", "wss://")


async def test_an_untrusted_certificate_exits_5_keeps_the_alert_and_is_not_retried(tls_relay, dsn,
                                                                                   tmp_path):
    """Not "relay unreachable": its own message and exit status 5, the alert kept queued
    with the reason, and `--flush --wait 0` stopping at once instead of for ever; then
    --ca-file sends it, once."""
    relay, cert = tls_relay
    _, token = await create_unit(dsn, unique_unit("TG"), country="TG")
    state = tmp_path / "state"
    env = cli_env(wss(relay), token, state)
    posted = await run(RELAY_POST, str(alert_file(tmp_path, marked(seizure_alert()))), env=env)
    started = time.monotonic()
    flushed_for_ever = await run(RELAY_POST, "--flush", "--wait", "0", env=env)
    waited = time.monotonic() - started
    with Outbox(state / "outbox.sqlite3") as outbox:
        [entry] = outbox.entries()
    trusted = await run(RELAY_POST, "--flush", "--ca-file", str(cert), env=env)
    assert (5, 5, 0) == (posted.status, flushed_for_ever.status, trusted.status), trusted.stderr
    assert posted.stderr.splitlines()[-2:] == [
        f"TLS certificate not trusted: the certificate of {wss(relay)} is self-signed and not "
        "trusted here; give its certificate or its authority's with --ca-file",
        "1 alert(s) stay queued, and will not be sent until this terminal trusts the relay's "
        "certificate (--ca-file or RELAY_CA_FILE)"]
    assert waited < WAIT, "--wait 0 did not keep retrying a certificate that cannot change"
    assert ("queued", 2, "cert_self_signed") == (entry.state, entry.attempts,
                                                 entry.last_error["reason"])
    acknowledged(trusted.stdout)  # "#1 acknowledged by the relay: seq ..."


async def test_relay_feed_trusts_the_relay_given_in_relay_ca_file_and_says_why_not_in_french(
        tls_relay, dsn, tmp_path):
    """The feed without the certificate: exit 5, in French; with RELAY_CA_FILE: a receipt
    of an alert published over wss:// is stored."""
    relay, cert = tls_relay
    _, token = await create_unit(dsn, unique_unit("BJ"), country="BJ")
    env = cli_env(wss(relay), token, tmp_path / "state")
    refused = await run(RELAY_FEED, "--lang", "fr", env=env)
    posted = await run(RELAY_POST, str(alert_file(tmp_path, marked(seizure_alert(
        distribution={"countries": ["BJ"]})))), env={**env, "RELAY_CA_FILE": str(cert)})
    _, alert_id = acknowledged(posted.stdout)
    receipt = await run(RELAY_FEED, "receipt", alert_id, "received",
                        env={**env, "RELAY_CA_FILE": str(cert)})
    assert (5, f"certificat TLS non reconnu : le certificat de {wss(relay)} est auto-signé et "
               "n'est pas reconnu ici ; donnez-le, ou celui de son autorité, avec --ca-file\n") == (
        refused.status, refused.stderr)
    assert (0, 0) == (posted.status, receipt.status), posted.stderr + receipt.stderr


@pytest.mark.parametrize(("content", "reason"), [
    (None, "it does not exist"), ("not a certificate\n", "it holds no PEM certificate")])
async def test_a_ca_file_that_cannot_be_used_is_a_bad_option_naming_it(tls_relay, tmp_path, content,
                                                                       reason):
    """Exit 2 before anything is queued or sent."""
    relay, _ = tls_relay
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content)
    result = await run(RELAY_FEED, "--ca-file", str(path),
                       env=cli_env(wss(relay), "relay_" + "x" * 43, tmp_path / "state"))
    assert (2, f"cannot use {path} as --ca-file: {reason}\n") == (result.status, result.stderr)
