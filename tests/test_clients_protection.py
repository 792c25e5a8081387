"""The CLI clients show a masked or a reduced alert as such (protection.md "Masked": the
personal fields are "removed from every way out ... the CLI clients").

A real relay whose alerts the protection job aged for real (run against its database on
its key file, the clock moved 200 days: masked; then 1,900 days: reduced, one alert held
out), and the commands run as an officer runs them. ``relay-feed`` replays the log: each
line says *Personal data masked on DAY* / *Reduced to its audit record on DAY* in the
reader's language, and a reduced alert's line shows what is left, with no priority made
up. ``--json`` hands over what the relay sent, without a personal field, and the record
of what the feed showed keeps none either. ``relay-post`` then refuses to build a cancel
from a reduced alert, and builds from a masked one an update the relay accepts once its
people are written again. An alert published after the jobs keeps its names everywhere
(so the searches for them can fail).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from relay.contract.personal import AUDIT_FIELDS
from tests import protection_support
from tests.alert_examples import passenger_alert, seizure_alert
from tests.conftest import running_relay
from tests.support import ROOT, RelayProcess, create_unit, stream_client

WAIT = 15.0  # the longest one step may take on a loaded two-core machine
OFFICER, PARTNER = "ML-BKO-JAITF", "FR-CDG-OFAST"

MASKED_PERSON = {
    "role": "courier", "surname": "TRAOREMASQ", "given_names": "Aminatazen", "birth_date": "1990-04-17",
    "nationality": "ML", "document": {"type": "passport", "number": "PX7788990", "issuing_country": "ML"},
    "seat": "31F", "pnr_locator": "QX7RTY", "bag_tags": ["KL123456"],
}
REDUCED_PERSON = {
    "role": "passenger", "surname": "DIALLOREDUIT", "given_names": "Ousmanebab", "birth_date": "1985-11-02",
    "nationality": "SN", "document": {"type": "id_card", "number": "XR5544332", "issuing_country": "SN"},
    "seat": "12K", "pnr_locator": "ZZ9PLQ", "bag_tags": ["AT765432"],
}
WHOLE_PERSON = {"role": "courier", "surname": "KEITAENTIER", "given_names": "Salif",
                "document": {"type": "passport", "number": "WH1234567", "issuing_country": "ML"}}
UNREADABLE_PERSON = {"role": "courier", "surname": "SANGAREILLISIBLE", "given_names": "Fatoumatou",
                     "document": {"type": "passport", "number": "UN9988776", "issuing_country": "ML"}}
REDUCED_SUMMARY = "Reduced story: the courier boarded KQ0511 with pellets"
GONE = [MASKED_PERSON["surname"], MASKED_PERSON["given_names"], "1990-04-17", "PX7788990", "31F", "QX7RTY",
        "KL123456", REDUCED_PERSON["surname"], REDUCED_PERSON["given_names"], "1985-11-02", "XR5544332",
        "12K", "ZZ9PLQ", "AT765432", REDUCED_SUMMARY, "KQ0511", "SANGAREILLISIBLE", "Fatoumatou", "UN9988776"]


def command(script: str, module: str) -> list[str]:
    """The installed console script, else the same entry point through the interpreter."""
    installed = Path(sys.executable).parent / script
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", f"from clients.{module} import main; raise SystemExit(main())"]


RELAY_FEED = command("relay-feed", "feed_cli")
RELAY_POST = command("relay-post", "post_cli")


@dataclass(frozen=True)
class Story:
    tokens: dict[str, str]
    masked: dict[str, Any]  # what each publish was acknowledged with: alert_id, seq
    reduced: dict[str, Any]
    reduced_seizure: dict[str, Any]
    whole: dict[str, Any]
    unreadable: dict[str, Any]
    masked_on: date
    reduced_on: date


@pytest.fixture(scope="module")
async def relay(dsn: str, workdir: Path) -> AsyncIterator[RelayProcess]:
    async with running_relay(dsn, workdir) as process:
        yield process


async def age(relay: RelayProcess, *, days: int, hold: str | None = None) -> datetime:
    """The relay's jobs ``days`` from now (holding ``hold`` first); the moment they ran at."""
    return await protection_support.age(relay, datetime.now(UTC) + timedelta(days=days), hold=hold)


async def publish(relay: RelayProcess, token: str, alert: dict[str, Any]) -> dict[str, Any]:
    async with stream_client(relay, token) as client:
        ack = await client.publish(alert)
        assert "ack" == ack["type"], ack
        return ack


@pytest.fixture(scope="module")
async def story(relay: RelayProcess, dsn: str) -> Story:
    """A masked alert (held, so never reduced), a reduced passenger alert (masked first), a
    reduced seizure (never masked: it has no personal field), all from the officer to the
    partner, and two published after the jobs: one whole, one whose data key is gone
    without a state (its sealed fields cannot be opened)."""
    tokens = {}
    for unit_id, country, roles in [(OFFICER, "ML", "publish,subscribe"), (PARTNER, "FR", "subscribe")]:
        _, tokens[unit_id] = await create_unit(dsn, unit_id, country=country, roles=roles)
    officer, to = tokens[OFFICER], {"units": [PARTNER]}
    masked = await publish(relay, officer, passenger_alert(distribution=to, subjects=[MASKED_PERSON]))
    reduced = await publish(relay, officer, passenger_alert(
        distribution=to, priority="urgent", summary=REDUCED_SUMMARY, subjects=[REDUCED_PERSON],
        flight={"number": "KQ0511", "origin": "NBO", "destination": "CDG"}))
    reduced_seizure = await publish(relay, officer, seizure_alert(distribution=to))
    masked_at = await age(relay, days=200)
    reduced_at = await age(relay, days=1900, hold=masked["alert_id"])
    whole = await publish(relay, officer, passenger_alert(distribution=to, subjects=[WHOLE_PERSON]))
    unreadable = await publish(relay, officer, passenger_alert(distribution=to, subjects=[UNREADABLE_PERSON]))
    conn = await asyncpg.connect(dsn)
    try:
        assert "UPDATE 1" == await conn.execute(
            "UPDATE relay_events SET personal = set_byte(personal, 20, get_byte(personal, 20) # 1)"
                " WHERE alert_id = $1::uuid", unreadable["alert_id"])  # its sealed box altered
    finally:
        await conn.close()
    return Story(tokens, masked, reduced, reduced_seizure, whole, unreadable, masked_at.date(),
                 reduced_at.date())


def cli_env(relay: RelayProcess, token: str, state_dir: Path) -> dict[str, str]:
    """The environment of an officer's shell, in an English locale unless --lang says."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update({"RELAY_URL": relay.url, "RELAY_TOKEN": token, "RELAY_STATE_DIR": str(state_dir),
                "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"})
    return env


async def feed(env: dict[str, str], *args: str, lines: int | None = None) -> list[str]:
    """What ``relay-feed --since 0 ARGS`` prints: up to its caught-up line (or ``lines``
    lines), then Ctrl-C, as an officer stops it; it must end cleanly."""
    process = await asyncio.create_subprocess_exec(
        *RELAY_FEED, "--since", "0", *args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    printed: list[str] = []
    try:
        while lines is None or len(printed) < lines:
            line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
            assert line, "relay-feed ended before its replay did"
            printed.append(line.rstrip("\n"))
            if lines is None and line.startswith("---"):
                break
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), WAIT)
        assert 0 == process.returncode, err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    return printed


async def post(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *RELAY_POST, *args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 2 * WAIT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def line_of(lines: list[str], ack: dict[str, Any]) -> str:
    [line] = [line for line in lines if line.endswith(f" · {ack['alert_id'][-8:]} · #{ack['seq']}")]
    return line


WORDS = {
    "en": {"masked": "Personal data masked on {day} (data-protection rules)",
           "reduced": "Reduced to its audit record on {day}", "passenger": "PASSENGER", "seizure": "SEIZURE",
           "subjects": "1 subject(s)", "unavailable": "Personal data unavailable: the relay could not open it"},
    "fr": {"masked": "Données personnelles masquées le {day} (règles de protection des données)",
           "reduced": "Réduite à sa trace d'audit le {day}", "passenger": "PASSAGER", "seizure": "SAISIE",
           "subjects": "1 personne(s)",
           "unavailable": "Données personnelles indisponibles : le relais n'a pas pu les ouvrir"},
}


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_relay_feed_says_on_each_line_that_an_alert_was_masked_or_reduced_and_when(
        relay, story, tmp_path, language):
    lines = await feed(cli_env(relay, story.tokens[PARTNER], tmp_path), "--lang", language)
    words = WORDS[language]
    masked = words["masked"].format(day=story.masked_on.isoformat())
    reduced = words["reduced"].format(day=story.reduced_on.isoformat())
    tail = f"{OFFICER} · {{short}} · #{{seq}}"

    def end(ack: dict[str, Any]) -> str:
        return tail.format(short=ack["alert_id"][-8:], seq=ack["seq"])

    assert (f"FLASH {words['passenger']} AT571 2026-11-23 BKO→CMN→CDG · {words['subjects']} · {masked}"
            f" · TLP:AMBER · {end(story.masked)}") == line_of(lines, story.masked)
    assert f"{words['passenger']} · {masked} · {reduced} · TLP:AMBER · {end(story.reduced)}" == line_of(
        lines, story.reduced)
    assert f"{words['seizure']} · {reduced} · TLP:GREEN · {end(story.reduced_seizure)}" == line_of(
        lines, story.reduced_seizure)
    assert (f"FLASH {words['passenger']} AT571 2026-11-23 BKO→CMN→CDG · {words['subjects']}"
            f" · TLP:AMBER · {end(story.whole)}") == line_of(lines, story.whole)
    assert (f"FLASH {words['passenger']} AT571 2026-11-23 BKO→CMN→CDG · {words['subjects']}"
            f" · {words['unavailable']} · TLP:AMBER · {end(story.unreadable)}") == line_of(lines, story.unreadable)
    assert 6 == len(lines)  # five alerts, then the caught-up line


async def test_relay_feed_json_and_its_record_of_what_it_showed_hold_no_personal_field(relay, story, tmp_path):
    """The officer's own feed: its frames are the relay's, masked or reduced; its record
    (which keeps the content of the unit's own alerts, for a cancel or an update) holds
    what the relay sent, not the names posted."""
    printed = await feed(cli_env(relay, story.tokens[OFFICER], tmp_path), "--json", lines=5)
    frames = {frame["alert"]["alert_id"]: frame["alert"] for frame in map(orjson.loads, printed)}
    assert [] == [value for value in GONE if value in "\n".join(printed)]
    masked = frames[story.masked["alert_id"]]
    assert [{"role": "courier", "nationality": "ML", "document": {"type": "passport", "issuing_country": "ML"}}] == \
        masked["subjects"]
    assert "masked_at" in masked and "reduced_at" not in masked
    reduced = frames[story.reduced["alert_id"]]
    assert set(reduced) <= {*AUDIT_FIELDS, "masked_at", "reduced_at"}
    assert {"masked_at", "reduced_at", "alert_id", "kind", "tlp", "distribution"} <= set(reduced)
    assert "KEITAENTIER" == frames[story.whole["alert_id"]]["subjects"][0]["surname"]
    unreadable = frames[story.unreadable["alert_id"]]
    assert (True, {"role", "document"}) == (unreadable["personal_unavailable"], set(unreadable["subjects"][0]))

    kept = b"".join(path.read_bytes() for path in tmp_path.glob("feed-shown.sqlite3*"))
    assert b"KEITAENTIER" in kept  # the unit's own whole alert is kept, with its people
    assert [] == [value for value in GONE if value.encode() in kept]


async def test_relay_post_builds_no_change_from_a_reduced_alert_and_an_update_from_a_masked_one(
        relay, story, tmp_path):
    """What the feed showed of the unit's own alerts is what relay-post amends: nothing
    is left of a reduced one to cancel (exit 2, saying why); a masked one gives an update
    without the protection marks, whose people the officer writes again."""
    env = cli_env(relay, story.tokens[OFFICER], tmp_path)
    await feed(env, "--json", lines=5)
    status, out, err = await post(env, "--cancel", story.reduced["alert_id"][-8:])
    assert 2 == status, out
    assert (f"alert {story.reduced['alert_id']} was reduced to its audit record on {story.reduced_on.isoformat()}"
            " (data-protection rules)") in err

    changes = tmp_path / "changes.json"
    again = {**MASKED_PERSON, "surname": "TRAORE", "given_names": "Aminata"}
    changes.write_text(json.dumps({"subjects": [again], "summary": "Courier expected on AT571: now at gate 12"}))
    status, out, err = await post(env, "--update", story.masked["alert_id"][-8:], str(changes))
    assert 0 == status, err
    async with stream_client(relay, story.tokens[PARTNER]) as partner:
        await partner.subscribe(since=story.unreadable["seq"])
        [event] = await partner.events(1)
    update = event["alert"]
    assert ("update", story.masked["alert_id"], "TRAORE") == (
        update["msg_type"], update["references"], update["subjects"][0]["surname"])
    assert {"masked_at", "reduced_at", "personal_unavailable"}.isdisjoint(update)
