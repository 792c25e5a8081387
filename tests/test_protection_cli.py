"""``relay keys`` and ``relay protection`` (protection.md "At rest", "Depersonalisation and
deletion"), end to end: a real relay publishing passenger alerts, the command run as an
operator runs it beside it on the same database and key file, and what the relay shows
over HTTP afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import re
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from relay.protection.keyring import Keyring
from tests.alert_examples import passenger_alert, seizure_alert
from tests.conftest import REGIONS_CONFIG, fresh_database
from tests.support import TIMEOUT, RelayProcess, create_unit, run_relay, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY_ID = re.compile(r"\bk-[0-9a-f]{12}\b")
# No key file configured (the run's shared one, tests/support.py, is not touched here):
# the relay and the commands use the data directory's, created on first use.
OWN_KEYS = {"RELAY_PROTECTION_KEY_FILE": ""}


class OwnKeysRelay(RelayProcess):
    def env(self) -> dict[str, str]:
        return {**super().env(), **OWN_KEYS}


@pytest.fixture(scope="module")
async def relay(dsn, workdir):
    process = OwnKeysRelay(dsn, workdir, config_text=REGIONS_CONFIG)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture(scope="module")
async def cast(dsn):
    """A publisher, the two units the example alert is for, and an auditor."""
    return {
        "bko": await create_unit(dsn, "ML-BKO-JAITF", country="ML", roles="publish,subscribe"),
        "cmn": await create_unit(dsn, "MA-CMN-BNPJ", country="MA"),
        "cdg": await create_unit(dsn, "FR-CDG-OFAST", country="FR"),
        "audit": await create_unit(dsn, unique_unit("EU"), country="BE", roles="audit"),
    }


def operator(relay, *args: str, data_dir: Path | None = None):
    """``relay ARGS`` beside ``relay``: its database and its key file (its data directory)."""
    return asyncio.to_thread(run_relay, *args, dsn=relay.dsn,
                             env={"RELAY_DATA_DIR": str(data_dir or relay.workdir / "data"), **OWN_KEYS})


def key_rows(stdout: str) -> dict[str, list[str]]:
    """``keys list``: each key's row, by key id (the columns are separated by two spaces)."""
    return {match[0]: re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines()
            if (match := KEY_ID.match(line))}


class Passengers:
    """Passenger alerts published by the test, each with its own personal values."""

    def __init__(self, relay, token: str) -> None:
        self.relay, self.token = relay, token
        self.values: dict[str, tuple[str, str]] = {}  # alert_id: (surname, document number)

    async def publish(self, client, **overrides) -> str:
        n = len(self.values) + 1
        surname, number = f"TESTNAME{uuid.uuid4().hex[:8].upper()}", f"XK{n:07d}"
        alert = passenger_alert(**overrides)
        alert["subjects"][0]["surname"] = surname
        alert["subjects"][0]["document"]["number"] = number
        ack = await client.publish(alert)
        assert "ack" == ack["type"], ack
        self.values[ack["alert_id"]] = (surname, number)
        return ack["alert_id"]

    async def some(self, count: int) -> list[str]:
        async with stream_client(self.relay, self.token) as client:
            return [await self.publish(client) for _ in range(count)]


async def shown(relay, token: str, alert_id: str) -> dict:
    """The alert as ``GET /v1/alerts/{alert_id}`` shows it."""
    async with aiohttp.ClientSession() as http, http.get(
            f"{relay.http}/v1/alerts/{alert_id}", headers={"Authorization": f"Bearer {token}"}) as r:
        assert 200 == r.status, await r.text()
        return (await r.json())["alert"]


async def all_read_back(relay, audit_token: str, passengers: Passengers) -> None:
    """Every alert published shows its personal fields as they were posted."""
    for alert_id, (surname, number) in passengers.values.items():
        alert = await shown(relay, audit_token, alert_id)
        subject = alert["subjects"][0]
        assert (surname, number, None) == (subject.get("surname"), subject["document"].get("number"),
                                           alert.get("personal_unavailable")), alert_id


async def verified(relay) -> str:
    result = await operator(relay, "audit", "verify")
    assert 0 == result.returncode, result.stdout + result.stderr
    assert result.stdout.startswith("intact"), result.stdout
    return result.stdout


async def test_keys_rotate_while_the_relay_publishes_then_retire_only_an_unused_key(relay, cast):
    """keys list shows one current key wrapping the alerts' data keys; keys rotate, while
    the relay keeps publishing, makes a new key current and re-wraps every data key under
    it, so that every alert, before, during and after, reads back with its personal
    fields and the earlier key is unused; keys retire refuses the current key and a key
    still in use, retires the unused one, and everything still reads back and verifies."""
    passengers = Passengers(relay, cast["bko"][1])
    audit = cast["audit"][1]
    await passengers.some(3)

    before = await operator(relay, "keys", "list")
    assert 0 == before.returncode, before.stderr
    [(first_key, row)] = key_rows(before.stdout).items()
    assert ["3", "current (wraps new data keys)"] == row[2:]
    assert str(relay.workdir / "data" / "protection.key") in before.stdout

    stop = asyncio.Event()

    async def keep_publishing() -> None:
        async with stream_client(relay, cast["bko"][1]) as client:
            while not stop.is_set():
                await passengers.publish(client)
                await asyncio.sleep(0.05)

    publisher = asyncio.create_task(keep_publishing())
    try:
        rotated = await operator(relay, "keys", "rotate")
        await asyncio.sleep(0.3)  # a few more, sealed under the new key
    finally:
        stop.set()
        await asyncio.wait_for(publisher, TIMEOUT)
    assert 0 == rotated.returncode, rotated.stdout + rotated.stderr
    [second_key] = {key for key in KEY_ID.findall(rotated.stdout)} - {first_key}
    count = int(re.search(r"(\d+) data key\(s\) re-wrapped", rotated.stdout)[1])
    assert count >= 3 and len(passengers.values) > 3 + 10

    await all_read_back(relay, audit, passengers)
    after = key_rows((await operator(relay, "keys", "list")).stdout)
    assert [first_key, second_key] == list(after)
    assert (["0", "unused: can be retired"], [str(len(passengers.values)), "current (wraps new data keys)"]) \
        == (after[first_key][2:], after[second_key][2:])

    # A rotation cut short after adding its key: the second key is no longer current but
    # still wraps every data key.
    await asyncio.to_thread(Keyring.open(relay.workdir / "data" / "protection.key").add_key)
    await asyncio.sleep(1.5)  # the relay looks at its key file once a second
    await passengers.some(2)
    listing = key_rows((await operator(relay, "keys", "list")).stdout)
    [third_key] = set(listing) - {first_key, second_key}
    assert ["in use: run relay keys rotate before retiring it", "current (wraps new data keys)"] == \
        [listing[second_key][3], listing[third_key][3]]
    assert "2" == listing[third_key][2]

    current = await operator(relay, "keys", "retire", third_key)
    in_use = await operator(relay, "keys", "retire", second_key)
    unknown = await operator(relay, "keys", "retire", "k-000000000000")
    assert (1, 1, 1) == (current.returncode, in_use.returncode, unknown.returncode)
    assert f"key {third_key} is the current key" in current.stderr
    assert f"key {second_key} still wraps {len(passengers.values) - 2} data key(s)" in in_use.stderr
    assert "holds no key k-000000000000" in unknown.stderr
    french = await operator(relay, "keys", "retire", third_key, "--lang", "fr")
    assert 1 == french.returncode and f"la clé {third_key} est la clé courante" in french.stderr

    retired = await operator(relay, "keys", "retire", first_key)
    assert 0 == retired.returncode, retired.stderr
    assert f"key {first_key} retired" in retired.stdout
    assert [second_key, third_key] == list(key_rows((await operator(relay, "keys", "list")).stdout))
    await all_read_back(relay, audit, passengers)
    await verified(relay)

    # The cut-short rotation finished: the second key is unused in turn and goes.
    again = await operator(relay, "keys", "rotate")
    assert 0 == again.returncode, again.stderr
    assert 0 == (await operator(relay, "keys", "retire", second_key)).returncode
    await all_read_back(relay, audit, passengers)
    await verified(relay)
    for result in (before, rotated, retired, again):  # never a personal field
        assert not any(surname in result.stdout + result.stderr
                       for surname, _ in passengers.values.values())


def day(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%d")


async def test_protection_run_masks_passenger_alerts_but_the_held_one(relay, cast, dsn):
    """protection hold keeps one alert readable (and is listed and recorded in the access
    log with its reason); protection run --now 200 days ahead masks the other passenger
    alerts (masked_at, no personal field) and leaves seizure alerts alone; a second run
    changes nothing; the chain stays intact; bad dates and reasons are refused with 2."""
    passengers = Passengers(relay, cast["bko"][1])
    audit = cast["audit"][1]
    held, masked = await passengers.some(2)
    async with stream_client(relay, cast["bko"][1]) as client:
        seizure = (await client.publish(seizure_alert()))["alert_id"]

    reason = "investigation 2026/117, Bamako prosecutor"
    until = day(timedelta(days=400))
    placed = await operator(relay, "protection", "hold", held, "--reason", reason, "--until", until)
    assert 0 == placed.returncode, placed.stderr
    assert re.fullmatch(rf"hold \d+ placed on alert {held} until {until}T00:00:00.000Z\n", placed.stdout)

    refusals = {
        "no reason": (2, "--reason must say why",
                      ["hold", held, "--reason", "  ", "--until", until]),
        "past": (2, f"--until {day(-timedelta(days=1))} is not in the future",
                 ["hold", held, "--reason", reason, "--until", day(-timedelta(days=1))]),
        "not a date": (2, "--until 2027-02-30 is not a date",
                       ["hold", held, "--reason", reason, "--until", "2027-02-30"]),
        "control": (2, "control character (U+001B)",
                    ["hold", held, "--reason", "case \x1b[31m", "--until", until]),
        "unknown alert": (1, "no alert 00000000-0000-7000-8000-000000000000",
                          ["hold", "00000000-0000-7000-8000-000000000000", "--reason", reason,
                           "--until", until]),
        "bad --now": (2, "--now 2026-12-xx is not a date", ["run", "--now", "2026-12-xx"]),
        "bad --now time": (2, "--now 2026-12-01T25:00:00Z is not a date",
                           ["run", "--now", "2026-12-01T25:00:00Z"]),
    }
    for name, (code, message, args) in refusals.items():
        result = await operator(relay, "protection", *args)
        assert (code, True) == (result.returncode, message in result.stderr), (name, result.stderr)
    french = await operator(relay, "protection", "run", "--now", "demain", "--lang", "fr")
    assert 2 == french.returncode and "--now demain n'est pas une date" in french.stderr

    async with contextlib.AsyncExitStack() as stack:
        conn = await asyncpg.connect(dsn)
        stack.push_async_callback(conn.close)
        logged = await conn.fetch("SELECT unit_id, path, action, target, reason FROM relay_access_log"
                                  " WHERE action = 'protection.hold'")
        due = await conn.fetchval("SELECT count(*) FROM relay_events WHERE kind = 'alert'"
                                  " AND alert_kind = 'passenger' AND seq NOT IN (SELECT seq FROM relay_masks)")
    assert 1 == len(logged)
    assert ("relay protection hold", "protection.hold", held, reason) == tuple(logged[0])[1:]
    assert logged[0]["unit_id"].startswith("cli:")

    now = day(timedelta(days=200))
    ran = await operator(relay, "protection", "run", "--now", now)
    assert 0 == ran.returncode, ran.stderr
    assert f"as of {now}T00:00:00.000Z: {due - 1} alert(s) masked, 0 reduced, 0 data key(s) destroyed\n" \
        == ran.stdout
    twice = await operator(relay, "protection", "run", "--now", f"{now}T12:00:00+02:00")
    assert f"as of {now}T10:00:00.000Z: 0 alert(s) masked, 0 reduced" in twice.stdout

    kept, gone, other = [await shown(relay, audit, alert_id) for alert_id in (held, masked, seizure)]
    assert passengers.values[held] == (kept["subjects"][0]["surname"],
                                       kept["subjects"][0]["document"]["number"])
    assert "masked_at" not in kept
    assert gone["masked_at"].startswith(now)
    assert {"role", "nationality", "document"} == set(gone["subjects"][0])
    assert {"type", "issuing_country"} == set(gone["subjects"][0]["document"])
    assert "seat" not in gone["subjects"][0] and "masked_at" not in other
    await verified(relay)

    listed = await operator(relay, "protection", "holds")
    only = await operator(relay, "protection", "holds", "--alert", held)
    none = await operator(relay, "protection", "holds", "--alert", masked)
    assert (0, 0, 0) == (listed.returncode, only.returncode, none.returncode)
    [header, row] = only.stdout.splitlines()
    assert ["HOLD", "ALERT", "UNTIL", "STATE", "BY", "AT", "REASON"] == header.split()
    cells = re.split(r"\s{2,}", row)
    assert [held, f"{until} 00:00", "active", reason] == [cells[1], cells[2], cells[3], cells[6]]
    assert cells[4].startswith("operator:")
    assert row in listed.stdout and 1 == len(none.stdout.splitlines())
    bad_filter = await operator(relay, "protection", "holds", "--alert", "nope")
    assert 2 == bad_filter.returncode and "--alert nope is not an alert id" in bad_filter.stderr


async def test_the_first_command_says_it_created_the_key_file(pg_server, template_db, tmp_path):
    """With no key file configured, the first command that opens the database creates
    one in the data directory, mode 0600, and says so on stderr, naming it, with the
    advice to keep it secret and back it up apart from the database; the next does not."""
    dsn = await fresh_database(pg_server, template_db)
    data_dir = tmp_path / "data"
    env = {"RELAY_DATA_DIR": str(data_dir), **OWN_KEYS}
    first = await asyncio.to_thread(run_relay, "keys", "list", "--lang", "fr", dsn=dsn, env=env)
    key_file = data_dir / "protection.key"
    assert 0 == first.returncode, first.stderr
    assert f"fichier de clés de protection {key_file} créé" in first.stderr
    assert "gardez-le secret et sauvegardez-le à part de la base de données" in first.stderr
    assert 0o600 == stat.S_IMODE(key_file.stat().st_mode)
    [(_, row)] = key_rows(first.stdout).items()
    assert ["0", "courante (chiffre les nouvelles clés de données)"] == row[2:]

    second = await asyncio.to_thread(run_relay, "migrate", dsn=dsn, env=env)
    assert (0, "") == (second.returncode, second.stderr)

    english = tmp_path / "other"
    other = await asyncio.to_thread(run_relay, "migrate", "--lang", "en", dsn=dsn,
                                    env={"RELAY_DATA_DIR": str(english), **OWN_KEYS})
    assert 0 == other.returncode
    assert f"created the protection key file {english / 'protection.key'}" in other.stderr
    assert "keep it secret and back it up apart from the database" in other.stderr


async def test_keys_list_names_the_keys_the_database_uses_that_the_key_file_lacks(relay, cast, tmp_path):
    """Against a key file that does not hold the relay's keys, keys list shows them as
    missing, says loudly on stderr that their data cannot be read, and exits 1; keys
    rotate refuses to rotate and leaves that key file as it was."""
    await Passengers(relay, cast["bko"][1]).some(1)
    stranger = tmp_path / "stranger"
    listing = await operator(relay, "keys", "list", data_dir=stranger)
    assert 1 == listing.returncode
    relay_keys = {key.key_id for key in Keyring.open(relay.workdir / "data" / "protection.key").keys}
    missing = {key for key, row in key_rows(listing.stdout).items() if row[3].startswith("MISSING")}
    assert missing and missing <= relay_keys
    for key in missing:
        assert re.search(rf"data key\(s\) are wrapped under key {key}, which the key file \S+ does not"
                         " hold", listing.stderr)
    before = (stranger / "protection.key").read_text()
    rotate = await operator(relay, "keys", "rotate", data_dir=stranger)
    assert 1 == rotate.returncode and "nothing was rotated" in rotate.stderr
    assert before == (stranger / "protection.key").read_text()


@pytest.mark.parametrize("content", [None, "k-000000000000 2026-01-01T00:00:00Z AAAA\n"])
async def test_a_missing_or_damaged_key_file_stops_every_command_naming_it(dsn, tmp_path, content):
    """Exit 2 with the configuration error, in French and in English, never a traceback."""
    path = tmp_path / "protection.key"
    if content is not None:
        path.write_text(content)
    for lang, words in (("en", "configuration error"), ("fr", "erreur de configuration")):
        result = run_relay("--lang", lang, "units", "list", dsn=dsn,
                           env={"RELAY_PROTECTION_KEY_FILE": str(path)})
        assert 2 == result.returncode, result.stderr
        assert words in result.stderr and "protection.key_file" in result.stderr
        assert str(path) in result.stderr and "Traceback" not in result.stderr


async def test_check_config_reads_the_key_file_a_relay_would_open(tmp_path):
    """A configured key file that is missing or damaged fails check-config (exit 2), as it
    would fail relay serve; a data directory without one passes (the relay creates it)."""
    missing = run_relay("check-config", "--data-dir", str(tmp_path / "data"),
                        env={"RELAY_PROTECTION_KEY_FILE": str(tmp_path / "missing.key")})
    assert 2 == missing.returncode and "missing.key" in missing.stderr
    fresh = run_relay("check-config", "--data-dir", str(tmp_path / "data"),
                      env={"RELAY_PROTECTION_KEY_FILE": ""})
    assert 0 == fresh.returncode, fresh.stderr
    assert not (tmp_path / "data" / "protection.key").exists()  # checking creates nothing
