"""The clients against a real relay: the RelayClient library, then the relay-post and
relay-feed commands run as the officers run them, as subprocesses over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from clients.backoff import Backoff
from clients.client import Ack, RelayClient
from clients.connection import AuthenticationFailed, Rejected
from clients.outbox import Outbox
from relay.store.admin import suspend_unit
from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import (
    ROOT,
    SETUP,
    RelayProcess,
    create_unit,
    free_port,
    stream_client,
    unique_unit,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

WAIT = 15.0  # the longest any single step may take on a loaded two-core machine
BAD_TOKEN = "relay_" + "x" * 43


@pytest.fixture(scope="module")
async def units(dsn: str) -> dict[str, tuple[str, str]]:
    """The origin of the example alerts and the two units a passenger alert goes to."""
    return {
        "bko": await create_unit(dsn, "ML-BKO-JAITF", country="ML", airport="BKO"),
        "cmn": await create_unit(dsn, "MA-CMN-BNPJ", country="MA", airport="CMN"),
        "cdg": await create_unit(dsn, "FR-CDG-OFAST", country="FR", airport="CDG"),
    }


def library_client(url: str, token: str, **options: Any) -> RelayClient:
    return RelayClient(url, token, backoff=Backoff(initial=0.05, maximum=0.5),
                       open_timeout=WAIT, reply_timeout=WAIT, **options)


def closed_url() -> str:
    """A stream URL where nothing listens: connections are refused at once."""
    return f"ws://127.0.0.1:{free_port()}/v1/stream"


def marked(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert with a summary no other alert has, to count its copies on the relay."""
    return {**alert, "summary": f"{alert['summary']} [{uuid.uuid4()}]"}


async def head_of(relay: RelayProcess, token: str) -> int:
    async with stream_client(relay, token) as client:
        return int(client.welcome["head"])


async def replay(relay: RelayProcess, token: str, since: int) -> list[dict[str, Any]]:
    """Every event the unit sees after ``since``, up to caught_up."""
    async with stream_client(relay, token) as client:
        await client.subscribe(since=since)
        events = []
        while (frame := await client.recv(WAIT))["type"] != "caught_up":
            if frame["type"] in ("alert", "receipt"):
                events.append(frame)
        return events


async def publish_all(relay: RelayProcess, token: str, alerts: list[dict[str, Any]]) -> list[Ack]:
    async with library_client(relay.url, token) as client:
        return [await client.publish(alert, key=str(uuid.uuid4())) for alert in alerts]


async def new_unit(dsn: str, country: str, roles: str = "publish,subscribe") -> tuple[str, str]:
    """A unit alone in its country (in no region), so it sees only what a test sends it."""
    return await create_unit(dsn, unique_unit(country), country=country, roles=roles)


# -- the library ----------------------------------------------------------------------


async def test_publish_returns_the_ack_and_the_same_key_again_is_a_duplicate(relay, units):
    """Same key, same alert_id and seq, duplicate=True: the relay stored it once."""
    async with library_client(relay.url, units["bko"][1]) as client:
        first = await client.publish(passenger_alert(), key="lib-same-key")
        again = await client.publish(passenger_alert(), key="lib-same-key")
    assert (False, 36) == (first.duplicate, len(first.alert_id))
    assert Ack(seq=first.seq, alert_id=first.alert_id, duplicate=True) == again


async def test_a_final_error_raises_rejected_with_the_relays_details(relay, units):
    """invalid_alert is not retried: the caller gets the code and each field's problem."""
    async with library_client(relay.url, units["bko"][1]) as client:
        with pytest.raises(Rejected) as refused:
            await client.publish(passenger_alert(priority="soon"), key="lib-invalid")
    expected = ("invalid_alert", False,
                [{"field": "priority", "problem": "must be one of routine, urgent, flash",
                  "code": "not_one_of", "params": {"allowed": ["routine", "urgent", "flash"]}}])
    assert expected == (refused.value.code, refused.value.retriable, refused.value.details)


async def test_a_feed_from_zero_yields_the_stored_events_in_seq_order_then_caught_up(relay, dsn, units):
    """feed(since=0) replays what the unit may see, then says it is up to date."""
    _, token = await new_unit(dsn, "GH")
    alerts = [seizure_alert(distribution={"countries": ["GH"]}, summary=f"GH seizure {n}")
              for n in range(3)]
    acks = await publish_all(relay, units["bko"][1], alerts)
    frames = []
    async with library_client(relay.url, token) as client:
        events = client.feed(since=0, include_caught_up=True)
        async with contextlib.aclosing(events), asyncio.timeout(WAIT):
            async for frame in events:
                frames.append(frame)
                if frame["type"] == "caught_up":
                    break
    expected = [("alert", ack.seq, ack.alert_id, alert["summary"]) for ack, alert in zip(acks, alerts, strict=True)]
    expected.append(("caught_up", acks[-1].seq, None, None))
    assert expected == [(f["type"], f["seq"], f.get("alert", {}).get("alert_id"),
                         f.get("alert", {}).get("summary")) for f in frames]


async def test_a_dropped_feed_resumes_with_no_gap_and_no_duplicate(relay, dsn, units):
    """The link drops three times while another unit keeps publishing: every alert once, in order."""
    _, token = await new_unit(dsn, "CI")
    count, drops_at = 30, (5, 14, 23)
    acks: list[Ack] = []

    async def publisher() -> None:
        async with library_client(relay.url, units["bko"][1]) as client:
            for number in range(count):
                alert = seizure_alert(distribution={"countries": ["CI"]}, summary=f"CI {number}")
                acks.append(await client.publish(alert, key=f"ci-{number}"))
                await asyncio.sleep(0.01)

    states: list[str] = []
    received: list[dict[str, Any]] = []
    async with library_client(relay.url, token,
                              on_state=lambda notice: states.append(notice.state)) as client:
        await client.connect()
        events = client.feed(since=int(client.welcome["head"]))
        publishing = asyncio.create_task(publisher())
        try:
            async with contextlib.aclosing(events), asyncio.timeout(WAIT):
                async for frame in events:
                    received.append(frame)
                    if len(received) in drops_at:
                        await client.drop_connection()
                    if len(received) == count:
                        break
            await asyncio.wait_for(publishing, WAIT)
        finally:
            publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publishing
    assert [ack.alert_id for ack in acks] == [frame["alert"]["alert_id"] for frame in received]
    assert [ack.seq for ack in acks] == [frame["seq"] for frame in received]
    assert states.count("connected") >= 2, "the connection was really dropped and reopened"


async def test_a_bad_token_raises_authentication_failed_at_connect_and_is_not_retried(relay):
    """A 401 is final: connect and publish raise at once instead of retrying."""
    async with library_client(relay.url, BAD_TOKEN) as client, asyncio.timeout(WAIT):
        with pytest.raises(AuthenticationFailed):
            await client.connect()
        with pytest.raises(AuthenticationFailed):
            await client.publish(seizure_alert(), key="never-stored")


async def test_revoking_the_unit_ends_its_feed_with_authentication_failed(relay, dsn):
    """An open feed is closed within seconds of the revocation (protocol.md: within 5 s)."""
    unit_id, token = await new_unit(dsn, "SL", roles="subscribe")
    async with library_client(relay.url, token) as client:
        await client.connect()
        events = client.feed(since=int(client.welcome["head"]), include_caught_up=True)
        async with contextlib.aclosing(events):
            first = await asyncio.wait_for(anext(events), WAIT)
            conn = await asyncpg.connect(dsn)
            try:
                await suspend_unit(conn, SETUP, unit_id)
            finally:
                await conn.close()
            with pytest.raises(AuthenticationFailed):
                await asyncio.wait_for(anext(events), 10.0)
        with pytest.raises(AuthenticationFailed):
            await client.connect()
    assert "caught_up" == first["type"]


# -- running the commands ---------------------------------------------------------------


def command(script: str, module: str) -> list[str]:
    """The installed console script, else the same entry point through the interpreter."""
    installed = Path(sys.executable).parent / script
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", f"from clients.{module} import main; raise SystemExit(main())"]


RELAY_POST = command("relay-post", "post_cli")
RELAY_FEED = command("relay-feed", "feed_cli")


def cli_env(url: str, token: str, state_dir: Path) -> dict[str, str]:
    """The environment of an officer's shell, in an English locale unless --lang says."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update({"RELAY_URL": url, "RELAY_TOKEN": token, "RELAY_STATE_DIR": str(state_dir),
                "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"})
    return env


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str


async def run(program: list[str], *args: str, env: dict[str, str]) -> Run:
    process = await asyncio.create_subprocess_exec(
        *program, *args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 2 * WAIT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


class FeedProcess:
    """A running ``relay-feed --json``: its NDJSON lines one by one, then SIGINT."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def event(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WAIT)
        assert line, "relay-feed ended before printing the event"
        event: dict[str, Any] = orjson.loads(line)
        return event

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]

    async def interrupt(self) -> Run:
        """Ctrl-C, as an officer stops it; the rest of its output."""
        self.process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(self.process.communicate(), WAIT)
        assert self.process.returncode is not None
        return Run(self.process.returncode, out.decode(), err.decode())


@contextlib.asynccontextmanager
async def relay_feed(*args: str, env: dict[str, str]) -> AsyncIterator[FeedProcess]:
    process = await asyncio.create_subprocess_exec(
        *RELAY_FEED, "--json", *args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield FeedProcess(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


def alert_file(directory: Path, alert: dict[str, Any], name: str = "alert.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(alert, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


ACKNOWLEDGED = re.compile(r"#(\d+) acknowledged by the relay: seq (\d+), alert_id ([0-9a-f-]{36})")


def acknowledged(stdout: str) -> tuple[int, str]:
    """(seq, alert_id) from relay-post's ack line."""
    found = ACKNOWLEDGED.search(stdout)
    assert found is not None, stdout
    return int(found.group(2)), found.group(3)


def outbox_states(state_dir: Path) -> list[str]:
    with Outbox(state_dir / "outbox.sqlite3") as outbox:
        return [entry.state for entry in outbox.entries()]


# -- relay-post -----------------------------------------------------------------------


async def test_relay_post_of_a_valid_file_prints_the_ack_of_the_stored_alert(relay, units, tmp_path):
    """Exit 0; the printed seq and alert_id are those of the alert the recipients receive."""
    alert = marked(passenger_alert())
    head = await head_of(relay, units["cmn"][1])
    result = await run(RELAY_POST, str(alert_file(tmp_path, alert)),
                       env=cli_env(relay.url, units["bko"][1], tmp_path / "state"))
    assert 0 == result.status, result.stderr
    seq, alert_id = acknowledged(result.stdout)
    delivered = await replay(relay, units["cmn"][1], head)
    assert [(seq, alert_id, alert["summary"])] == [
        (event["seq"], event["alert"]["alert_id"], event["alert"]["summary"]) for event in delivered]
    assert ["acknowledged"] == outbox_states(tmp_path / "state")


async def test_relay_post_of_a_file_with_a_bad_field_names_the_field_and_its_line(relay, units, tmp_path):
    """Exit 2, `file.json:LINE: field: problem` on stderr, and nothing queued or sent."""
    path = alert_file(tmp_path, passenger_alert(priority="soon"))
    line = 1 + path.read_text().splitlines().index('  "priority": "soon",')
    head = await head_of(relay, units["cmn"][1])
    result = await run(RELAY_POST, str(path),
                       env=cli_env(relay.url, units["bko"][1], tmp_path / "state"))
    assert 2 == result.status
    assert f"{path}:{line}: priority: must be one of routine, urgent, flash" in result.stderr.splitlines()
    assert ([], []) == (outbox_states(tmp_path / "state"), await replay(relay, units["cmn"][1], head))


async def test_relay_post_offline_queues_and_a_later_flush_sends_it_once(relay, units, tmp_path):
    """Relay unreachable: exit 4, still queued; --flush against the relay: exit 0, one delivery."""
    state = tmp_path / "state"
    path = alert_file(tmp_path, marked(passenger_alert()))
    offline = await run(RELAY_POST, str(path), "--wait", "1",
                        env=cli_env(closed_url(), units["bko"][1], state))
    status = await run(RELAY_POST, "--status", env=cli_env(closed_url(), units["bko"][1], state))
    assert 4 == offline.status, offline.stderr
    assert "1 alert(s) stay queued and will be sent by relay-post --flush" in offline.stderr
    assert re.search(r"^1 +queued +", status.stdout, re.MULTILINE), status.stdout

    async with stream_client(relay, units["cdg"][1]) as subscriber:
        await subscriber.subscribe()
        flushed = await run(RELAY_POST, "--flush", env=cli_env(relay.url, units["bko"][1], state))
        again = await run(RELAY_POST, "--flush", env=cli_env(relay.url, units["bko"][1], state))
        seen = await subscriber.events(1)
        await subscriber.no_event(0.5)
    assert (0, 0, "nothing to send\n") == (flushed.status, again.status, again.stdout), flushed.stderr
    assert [acknowledged(flushed.stdout)[1]] == [event["alert"]["alert_id"] for event in seen]
    assert ["acknowledged"] == outbox_states(state)


async def test_relay_post_with_a_bad_token_exits_3_and_does_not_keep_the_alert_to_send(
        relay, units, tmp_path):
    """The officer is told to get a new token; the alert, queued under a token no unit is
    known for, is rejected rather than left for a later flush under another identity."""
    state = tmp_path / "state"
    result = await run(RELAY_POST, str(alert_file(tmp_path, seizure_alert())),
                       env=cli_env(relay.url, BAD_TOKEN, state))
    flushed = await run(RELAY_POST, "--flush", env=cli_env(relay.url, units["bko"][1], state))
    assert 3 == result.status
    assert "HTTP 401" in result.stderr
    assert "ask the relay operator for a new one" in result.stderr
    assert "#1 will not be sent: the relay refused the token it was queued with" in result.stderr
    assert (0, "nothing to send\n") == (flushed.status, flushed.stdout), flushed.stderr
    assert ["rejected"] == outbox_states(state)


async def test_relay_post_speaks_french_with_lang_fr(relay, units, tmp_path):
    """--lang fr: the queued notice and the ack in French."""
    result = await run(RELAY_POST, "--lang", "fr", str(alert_file(tmp_path, seizure_alert())),
                       env=cli_env(relay.url, units["bko"][1], tmp_path / "state"))
    assert 0 == result.status, result.stderr
    assert re.fullmatch(r"n° 1 accusé par le relais : seq \d+, alert_id [0-9a-f-]{36}\n",
                        result.stdout), result.stdout
    assert re.search(r"^alerte mise en file sous le n° 1 \(clé [0-9a-f-]{36}\)\n", result.stderr,
                     re.MULTILINE)


async def test_an_alert_posted_while_the_relay_is_stopped_is_delivered_once_after_it_starts(
        relay, dsn, workdir, units, tmp_path):
    """Queued with the relay process down; once it runs, --flush, and a feed receives it once."""
    later = RelayProcess(dsn, workdir)  # its ports are free until it starts
    state = tmp_path / "state"
    alert = marked(passenger_alert())
    head = await head_of(relay, units["cdg"][1])
    offline = await run(RELAY_POST, str(alert_file(tmp_path, alert)), "--wait", "1",
                        env=cli_env(later.url, units["bko"][1], state))
    assert 4 == offline.status, offline.stderr
    await later.start()
    try:
        flushed = await run(RELAY_POST, "--flush", env=cli_env(later.url, units["bko"][1], state))
        assert 0 == flushed.status, flushed.stderr
        frames = []
        async with library_client(later.url, units["cdg"][1]) as client:
            events = client.feed(since=head, include_caught_up=True)
            async with contextlib.aclosing(events), asyncio.timeout(WAIT):
                async for frame in events:
                    if frame["type"] == "caught_up":
                        break
                    frames.append(frame)
    finally:
        await later.stop()
    copies = [frame["alert"]["alert_id"] for frame in frames
              if frame["alert"]["summary"] == alert["summary"]]
    assert [acknowledged(flushed.stdout)[1]] == copies


# -- relay-feed -----------------------------------------------------------------------


async def test_relay_feed_json_resumes_after_ctrl_c_with_nothing_repeated_or_missed(relay, dsn, units, tmp_path):
    """NDJSON events; the cursor holds the last seq printed; a restart prints only newer ones."""
    _, token = await new_unit(dsn, "GN", roles="subscribe")
    env = cli_env(relay.url, token, tmp_path / "state")
    head = await head_of(relay, token)

    def to_guinea(number: int) -> dict[str, Any]:
        return seizure_alert(distribution={"countries": ["GN"]}, summary=f"GN {number}")

    before = await publish_all(relay, units["bko"][1], [to_guinea(n) for n in range(3)])
    async with relay_feed("--since", str(head), env=env) as feed:
        printed = await feed.events(3)
        stopped = await feed.interrupt()
    cursor = (tmp_path / "state" / "feed.cursor").read_text()
    after = await publish_all(relay, units["bko"][1], [to_guinea(n) for n in range(3, 5)])
    async with relay_feed("--since", str(head), env=env) as feed:
        printed_again = await feed.events(2)
        stopped_again = await feed.interrupt()

    assert [("alert", ack.seq, ack.alert_id) for ack in before] == [
        (event["type"], event["seq"], event["alert"]["alert_id"]) for event in printed]
    assert (0, "", f"{before[-1].seq}\n") == (stopped.status, stopped.stdout, cursor)
    assert [("alert", ack.seq, ack.alert_id) for ack in after] == [
        (event["type"], event["seq"], event["alert"]["alert_id"]) for event in printed_again]
    assert (0, "") == (stopped_again.status, stopped_again.stdout)


async def test_relay_feed_ack_received_stores_one_receipt_per_alert_even_after_a_restart(
        relay, dsn, units, tmp_path):
    """One receipt per alert of another unit: a restart that lost its cursor resends the same key."""
    unit_id, token = await new_unit(dsn, "LR")
    head = await head_of(relay, token)
    theirs = await publish_all(relay, units["bko"][1], [
        seizure_alert(distribution={"countries": ["LR"]}, summary=f"LR {n}") for n in range(2)])
    own = await publish_all(relay, token, [seizure_alert(distribution={"countries": ["TG"]})])

    async with relay_feed("--ack", "received", "--since", str(head),
                          env=cli_env(relay.url, token, tmp_path / "first")) as feed:
        first = await feed.events(5)  # three alerts, then the two receipts it sent
        await feed.interrupt()
    async with relay_feed("--ack", "received", "--since", str(head),
                          env=cli_env(relay.url, token, tmp_path / "second")) as feed:
        second = await feed.events(5)  # the same, replayed: the receipts are resent
        restarted = await feed.interrupt()

    def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
        return [(event["type"], (event.get("alert") or event["receipt"])["alert_id"],
                 event.get("receipt", {}).get("status")) for event in events]

    alerts = [("alert", ack.alert_id, None) for ack in [*theirs, *own]]
    receipts = sorted(("receipt", ack.alert_id, "received") for ack in theirs)
    # Replayed in seq order: the alerts, then the receipts in the order they were committed.
    assert (alerts, receipts) == (summary(first)[:3], sorted(summary(first)[3:]))
    assert (alerts, receipts) == (summary(second)[:3], sorted(summary(second)[3:]))
    assert (0, "") == (restarted.status, restarted.stdout)
    stored = [(event["receipt"]["alert_id"], event["receipt"]["unit"], event["receipt"]["status"])
              for event in await replay(relay, units["bko"][1], head) if event["type"] == "receipt"]
    assert sorted((ack.alert_id, unit_id, "received") for ack in theirs) == sorted(stored)
    assert receipts == sorted(event for event in summary(await replay(relay, token, head))
                              if event[0] == "receipt")


async def test_relay_feed_receipt_sends_one_receipt_with_its_note(relay, units, tmp_path):
    """`relay-feed receipt ALERT_ID positive --note ...` prints the ack; the origin sees the note."""
    [published] = await publish_all(relay, units["bko"][1], [passenger_alert()])
    result = await run(RELAY_FEED, "receipt", published.alert_id, "positive",
                       "--note", "courier stopped at gate 4",
                       env=cli_env(relay.url, units["cdg"][1], tmp_path / "state"))
    assert 0 == result.status, result.stderr
    found = re.fullmatch(r"receipt positive stored: seq (\d+) for alert ([0-9a-f-]{36})\n",
                         result.stdout)
    assert found is not None, result.stdout
    [event] = await replay(relay, units["bko"][1], published.seq)
    assert {"type": "receipt", "seq": int(found.group(1)),
            "receipt": {"alert_id": published.alert_id, "unit": "FR-CDG-OFAST",
                        "status": "positive", "note": "courier stopped at gate 4",
                        "at": event["receipt"]["at"]}} == event
    assert published.alert_id == found.group(2)


@pytest.mark.parametrize("args", [(), ("receipt", "0192a3b4-c5d6-7e8f-9012-345678901234", "received")])
async def test_relay_feed_with_a_bad_token_exits_3(relay, tmp_path, args):
    """The feed and a receipt alike: refused token, exit 3, told to ask for a new one."""
    result = await run(RELAY_FEED, *args, env=cli_env(relay.url, BAD_TOKEN, tmp_path))
    assert 3 == result.status, result.stderr
    assert "ask the relay operator for a new one" in result.stderr


async def test_relay_feed_exits_4_when_the_relay_cannot_be_reached(units, tmp_path):
    """Nothing listens at the URL: exit 4 at once, saying so."""
    started = time.monotonic()
    result = await run(RELAY_FEED, env=cli_env(closed_url(), units["cdg"][1], tmp_path))
    assert 4 == result.status, result.stderr
    assert "the relay cannot be reached: cannot connect to" in result.stderr
    assert time.monotonic() - started < WAIT


async def test_relay_feed_with_a_filter_the_relay_refuses_exits_2_naming_the_key(relay, units, tmp_path):
    """A bad --filter is a bad option (docs/clients.md: exit 2), with the relay's detail."""
    result = await run(RELAY_FEED, "--filter", '{"colour": ["red"]}',
                       env=cli_env(relay.url, units["cdg"][1], tmp_path))
    assert 2 == result.status, result.stderr
    assert "filter.colour" in result.stderr


async def test_the_same_receipt_run_again_is_stored_once_and_another_note_is_new(relay, units, tmp_path):
    """An officer who reruns `relay-feed receipt` after a lost ack does not store it twice."""
    [published] = await publish_all(relay, units["bko"][1], [passenger_alert()])
    env = cli_env(relay.url, units["cdg"][1], tmp_path / "state")
    args = ("receipt", published.alert_id, "negative", "--note", "nothing found")
    first, again = await run(RELAY_FEED, *args, env=env), await run(RELAY_FEED, *args, env=env)
    other = await run(RELAY_FEED, "receipt", published.alert_id, "negative", "--note", "bags searched",
                      env=env)
    assert (0, 0, 0) == (first.status, again.status, other.status), first.stderr + other.stderr
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    receipts = [event for event in await replay(relay, units["bko"][1], published.seq)
                if event["type"] == "receipt"]
    assert ["nothing found", "bags searched"] == [event["receipt"]["note"] for event in receipts]


async def test_relay_feed_json_into_a_pipe_that_closes_ends_quietly_at_the_last_line_read(
        relay, units, tmp_path):
    """`relay-feed --json | head -1`: exit 0, no traceback, and the cursor at the event the
    reader got, so a restart goes on from there."""
    head = await head_of(relay, units["cdg"][1])
    [before] = await publish_all(relay, units["bko"][1], [passenger_alert()])
    state = tmp_path / "state"
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        *RELAY_FEED, "--json", "--since", str(head), env=cli_env(relay.url, units["cdg"][1], state),
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = orjson.loads(await asyncio.to_thread(reader.readline))
    [after] = await publish_all(relay, units["bko"][1], [passenger_alert()])  # written to a closed pipe
    _, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert (0, "") == (process.returncode, err.decode().replace(
        "connected to the relay as FR-CDG-OFAST\n", ""))
    assert before.seq == first["seq"] == int((state / "feed.cursor").read_text())
    assert after.seq > before.seq


async def test_a_url_that_is_not_a_stream_url_exits_2_naming_it(units, tmp_path):
    """`--url http://...` or a typo: exit 2 with the URL named, before anything is sent."""
    result = await run(RELAY_FEED, env=cli_env("relay.example.org:8765", units["cdg"][1], tmp_path))
    assert 2 == result.status
    assert "relay.example.org:8765 is not a stream URL" in result.stderr
