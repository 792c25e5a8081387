"""The writer never waits behind readers, and everything that needs the database answers
within its deadline (issue 9, items 2, 5 and 6).

Slow exports cannot take the connections that publishing needs; a frozen database (every
PostgreSQL process stopped with SIGSTOP) gets ``unavailable`` within the deadline instead
of a hang; a revoked token cuts its export within 5 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator

import aiohttp
import asyncpg
import psutil
import pytest
import websockets

from relay.store.admin import issue_token, revoke_token, suspend_unit
from tests.alert_examples import seizure_alert
from tests.conftest import running_relay
from tests.hostile import HOSTILE_CONFIG, SCALE, Attacker, bystander
from tests.support import SETUP, TIMEOUT, create_unit, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALERTS = 300 * SCALE


def big_alert(n: int) -> dict:
    alert = seizure_alert(distribution={"countries": ["BR"]}, summary=f"{n} " + "s" * 1990,
                          ext={"padding": "p" * 4000})
    alert["seizures"] = [{"commodity": "cocaine", "quantity": 1, "unit": "kg",
                          "description": "d" * 500} for _ in range(50)]
    return alert


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    """A relay holding enough alerts that an export outlasts the sockets' buffers."""
    async with running_relay(dsn, workdir, HOSTILE_CONFIG) as process:
        _, origin = await create_unit(dsn, unique_unit("ML"), country="ML")
        async with stream_client(process, origin) as client:
            for n in range(ALERTS):
                await client.send({"type": "publish", "id": f"big-{n}", "alert": big_alert(n)})
            for _ in range(ALERTS):
                reply = await client.recv_until(lambda f: f["type"] in ("ack", "error"), timeout=60)
                assert "ack" == reply["type"], reply
        yield process


async def slow_export(attacker: Attacker, relay, token: str) -> tuple[int, asyncio.StreamReader]:
    """An export whose reader takes the first bytes and then stops reading; its status."""
    reader, writer = await attacker.connect(relay.http_port)
    writer.write(f"GET /v1/audit/export?format=ndjson HTTP/1.1\r\nHost: relay\r\n"
                 f"Authorization: Bearer {token}\r\n\r\n".encode())
    head = await reader.read(1024)
    writer.transport.pause_reading()
    return int(head.split(b" ", 2)[1]), reader


async def timed_get(url: str, token: str) -> tuple[int, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http, \
            http.get(url, timeout=aiohttp.ClientTimeout(30)) as response:
        await response.read()
        return response.status, time.monotonic() - started


async def test_slow_exports_take_neither_the_writers_nor_the_readers_capacity(relay, dsn):
    """Ten exports read very slowly: the two of the export pool are held, the others are
    refused within the deadline; publishing, the history and new stream connections go
    on as usual."""
    _, auditor = await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit")
    _, reader = await create_unit(dsn, unique_unit("TG"), country="TG", roles="subscribe")
    async with Attacker() as attacker, bystander(relay, dsn) as watcher:
        started = time.monotonic()
        exports = await asyncio.gather(*(slow_export(attacker, relay, auditor) for _ in range(10)))
        refused_within = time.monotonic() - started
        await asyncio.sleep(2)
        history = await timed_get(f"{relay.http}/v1/alerts?limit=10", reader)
        started = time.monotonic()
        async with stream_client(relay, reader):
            handshake = time.monotonic() - started
        await asyncio.sleep(1)
    assert [200, 200] + [503] * 8 == sorted(status for status, _ in exports)
    assert refused_within < 5  # the deadline (3 s), not a hang
    assert 200 == history[0] and history[1] < 3, history
    assert handshake < 3
    watcher.check(min_acks=20, max_p99=2.0)


@contextlib.contextmanager
def frozen(pg_server) -> Iterator[None]:
    """Every process of the test PostgreSQL stopped (SIGSTOP), then continued."""
    postmaster = int((pg_server.pgdata / "postmaster.pid").read_text().split()[0])
    processes = [psutil.Process(postmaster), *psutil.Process(postmaster).children(recursive=True)]
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)


async def test_a_frozen_database_gets_unavailable_within_the_deadline(relay, dsn, pg_server):
    """With PostgreSQL frozen: a publish is refused as unavailable within the 3 s deadline,
    /readyz answers 503 within 2 s, a handshake 503 and GET /v1/alerts 503 within the
    deadline. When it thaws, publishing works again and nothing acknowledged is lost."""
    _, publisher = await create_unit(dsn, unique_unit("ML"), country="ML")
    _, reader = await create_unit(dsn, unique_unit("TG"), country="TG")
    async with stream_client(relay, publisher) as client:
        before = await client.publish(seizure_alert(distribution={"countries": ["TG"]}))
        with frozen(pg_server):
            started = time.monotonic()
            during = await client.publish(seizure_alert(distribution={"countries": ["TG"]}),
                                          ident="while-frozen")
            publish_took = time.monotonic() - started
            ready = await timed_get(f"{relay.http}/readyz", reader)
            history = await timed_get(f"{relay.http}/v1/alerts", reader)
            started = time.monotonic()
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with stream_client(relay, reader):
                    pass
            handshake_took = time.monotonic() - started
        after = None
        for _ in range(100):
            after = await client.publish(seizure_alert(distribution={"countries": ["TG"]}),
                                         ident="while-frozen")
            if after["type"] == "ack":
                break
            await asyncio.sleep(0.2)
    assert ("unavailable", True) == (during["code"], publish_took < 4), (during, publish_took)
    assert 503 == ready[0] and ready[1] < 2.5, ready
    assert 503 == history[0] and history[1] < 4, history
    assert 503 == refused.value.response.status_code and handshake_took < 4
    assert after is not None and "ack" == after["type"] and after["seq"] > before["seq"]
    async with stream_client(relay, reader) as check:
        await check.subscribe(since=before["seq"] - 1)
        seqs = [e["seq"] for e in await check.events(2, timeout=TIMEOUT)]
    assert [before["seq"], after["seq"]] == seqs


async def test_revoking_a_token_cuts_its_export_within_5_seconds(relay, dsn):
    """A slow export holds the auditor's token; revoking the unit closes the response
    (and frees the export connection) within 5 seconds."""
    unit_id, auditor = await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit")
    async with Attacker() as attacker:
        status, reader = await slow_export(attacker, relay, auditor)
        assert 200 == status
        conn = await asyncpg.connect(dsn)
        try:
            await suspend_unit(conn, SETUP, unit_id)
        finally:
            await conn.close()
        reader._transport.resume_reading()  # type: ignore[attr-defined]
        received = b""
        async with asyncio.timeout(5):
            while chunk := await reader.read(65536):
                received += chunk
    # Cut short: far from the whole export, and without the last chunk of a complete one.
    assert len(received) < ALERTS * 40_000 and not received.endswith(b"0\r\n\r\n")


async def test_revoking_one_token_cuts_its_export_and_leaves_the_units_other_token(relay, dsn):
    """admin.md: one token revoked stops its streaming export within 5 s; the unit's
    other token still exports."""
    unit_id, kept = await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit")
    conn = await asyncpg.connect(dsn)
    try:
        issued = await issue_token(conn, SETUP, unit_id, label="second auditor")
        async with Attacker() as attacker:
            status, reader = await slow_export(attacker, relay, issued.token)
            assert 200 == status
            await revoke_token(conn, SETUP, issued.info.token_id)
            reader._transport.resume_reading()  # type: ignore[attr-defined]
            received = b""
            async with asyncio.timeout(5):
                while chunk := await reader.read(65536):
                    received += chunk
    finally:
        await conn.close()
    assert len(received) < ALERTS * 40_000 and not received.endswith(b"0\r\n\r\n")
    status, _ = await timed_get(f"{relay.http}/v1/audit/access-log?limit=1", kept)
    assert 200 == status
