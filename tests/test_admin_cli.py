"""Units and tokens with the relay command (admin.md "Tokens", "Command line"), against a
running relay: one token revoked while others work, suspension and reinstatement, role
changes, CSV import, expiry, and the access-log record of each action."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import asyncpg
import pytest
import websockets

from relay.contract.problems_fr import problem_text
from tests.support import TIMEOUT, create_unit, run_relay, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def relay_cmd(*args: str, dsn: str, stdin: str | None = None):
    return await asyncio.to_thread(run_relay, *args, dsn=dsn, stdin=stdin)


async def issue(dsn: str, unit_id: str, *extra: str) -> tuple[str, str]:
    """(token, token_id) of a new token, as an operator reads them."""
    result = await relay_cmd("tokens", "issue", unit_id, *extra, dsn=dsn)
    assert 0 == result.returncode, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    token_id = re.search(r"^token_id: (tok_[a-z0-9]{12})$", result.stderr, re.M)
    assert token.startswith("relay_") and token_id, (result.stdout, result.stderr)
    return token, token_id[1]


async def closed_with(client, code: int, within: float) -> float:
    """Seconds until the relay closed ``client`` with ``code``."""
    started = time.monotonic()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(_read_forever(client.ws), within)
    assert code == closed.value.rcvd.code, closed.value
    return time.monotonic() - started


async def _read_forever(ws) -> None:
    while True:
        await ws.recv()


async def test_one_token_revoked_closes_its_connections_and_leaves_the_others(relay, dsn):
    """tokens issue (label, token_id on stderr), tokens list, tokens revoke: the revoked
    token's open connection is closed with 4401 within 5 s, new connections with it are
    refused, and the unit's other token keeps working, connected and new."""
    unit_id, first = await create_unit(dsn, unique_unit("GH"), country="GH")
    second, second_id = await issue(dsn, unit_id, "--label", "terminal 2, gate B", "--expires-in", "30")
    listing = await relay_cmd("tokens", "list", unit_id, dsn=dsn)
    assert 0 == listing.returncode, listing.stderr
    line = next(line for line in listing.stdout.splitlines() if second_id in line)
    assert "terminal 2, gate B" in line and "valid" in line
    assert "relay_" not in listing.stdout  # never a secret
    async with stream_client(relay, first) as kept, stream_client(relay, second) as doomed:
        revoked = await relay_cmd("tokens", "revoke", second_id, dsn=dsn)
        assert 0 == revoked.returncode, revoked.stderr
        assert second_id in revoked.stdout
        assert await closed_with(doomed, 4401, 5.0) < 5.0
        assert "subscribed" == (await kept.subscribe())["type"]
    with pytest.raises(websockets.InvalidStatus):
        async with stream_client(relay, second):
            pass
    async with stream_client(relay, first) as again:
        assert unit_id == again.welcome["unit"]
    listing = await relay_cmd("tokens", "list", unit_id, dsn=dsn)
    assert "revoked" in next(line for line in listing.stdout.splitlines() if second_id in line)
    twice = await relay_cmd("tokens", "revoke", second_id, dsn=dsn)
    assert 1 == twice.returncode and "already revoked" in twice.stderr


async def test_a_suspended_unit_is_reinstated_with_new_tokens_only(relay, dsn):
    """units revoke suspends: every token stops, tokens issue is refused; units reinstate
    lifts it: the earlier tokens stay dead, a token issued afterwards works."""
    unit_id, before = await create_unit(dsn, unique_unit("SN"), country="SN")
    async with stream_client(relay, before) as open_client:
        suspended = await relay_cmd("units", "revoke", unit_id, dsn=dsn)
        assert 0 == suspended.returncode, suspended.stderr
        assert "1 active token" in suspended.stdout
        await closed_with(open_client, 4401, 5.0)
    refused = await relay_cmd("tokens", "issue", unit_id, dsn=dsn)
    assert 1 == refused.returncode and "suspended" in refused.stderr
    listing = await relay_cmd("units", "list", dsn=dsn)
    assert "suspended" in next(line for line in listing.stdout.splitlines() if unit_id in line)
    reinstated = await relay_cmd("units", "reinstate", unit_id, dsn=dsn)
    assert 0 == reinstated.returncode, reinstated.stderr
    with pytest.raises(websockets.InvalidStatus):
        async with stream_client(relay, before):
            pass
    after, _ = await issue(dsn, unit_id)
    async with stream_client(relay, after) as client:
        assert unit_id == client.welcome["unit"]
    again = await relay_cmd("units", "reinstate", unit_id, dsn=dsn)
    assert 1 == again.returncode and "not suspended" in again.stderr
    exists = await relay_cmd("units", "add", unit_id, "--country", "SN", "--roles", "publish", dsn=dsn)
    assert 1 == exists.returncode and "already exists" in exists.stderr


async def test_units_set_changes_roles_and_open_connections_come_back_with_them(relay, dsn):
    """Taking the role subscribe away closes the unit's open connection with 1012
    (reconnect); the new connection is refused a subscription."""
    unit_id, token = await create_unit(dsn, unique_unit("CI"), country="CI", roles="publish,subscribe")
    async with stream_client(relay, token) as client:
        changed = await relay_cmd("units", "set", unit_id, "--roles", "publish", "--name", "Abidjan JAITF",
                                  "--airport", "ABJ", dsn=dsn)
        assert 0 == changed.returncode, changed.stderr
        await closed_with(client, 1012, 5.0)
    async with stream_client(relay, token) as client:
        reply = await client.subscribe()
        assert ("error", "forbidden") == (reply["type"], reply["code"])
    listing = await relay_cmd("units", "list", dsn=dsn)
    line = next(line for line in listing.stdout.splitlines() if unit_id in line)
    assert "ABJ" in line and "Abidjan JAITF" in line and "subscribe" not in line
    bad = await relay_cmd("units", "set", unit_id, "--roles", "publish,fly", dsn=dsn)
    assert 1 == bad.returncode and "roles[1]" in bad.stderr


async def test_the_last_admin_unit_keeps_its_role_and_cannot_be_suspended(pg_server, template_db, workdir):
    """On a database with one admin unit: removing its admin role or suspending it is
    refused; with a second admin, both are allowed."""
    from tests.conftest import fresh_database

    dsn = await fresh_database(pg_server, template_db)
    first, _ = await create_unit(dsn, unique_unit("FR"), country="FR", roles="admin")
    lose = await relay_cmd("units", "set", first, "--roles", "audit", dsn=dsn)
    assert 1 == lose.returncode and "last active admin" in lose.stderr
    suspend = await relay_cmd("units", "revoke", first, dsn=dsn)
    assert 1 == suspend.returncode and "last active admin" in suspend.stderr
    await create_unit(dsn, unique_unit("FR"), country="FR", roles="admin,audit")
    assert 0 == (await relay_cmd("units", "set", first, "--roles", "audit", dsn=dsn)).returncode
    lone = await relay_cmd("units", "list", dsn=dsn)
    assert 0 == lone.returncode


async def test_units_import_adds_all_or_none_naming_each_bad_line(relay, dsn, tmp_path):
    """A good file adds every unit and prints unit_id,token as CSV (each token works); a
    file with bad lines adds nothing and names each line."""
    ids = [unique_unit("BF") for _ in range(3)]
    good = tmp_path / "units.csv"
    good.write_text("\ufeffunit_id,country,airport,name,roles\n"
                    f"{ids[0]},BF,OUA,Ouagadougou JAITF,publish;subscribe\n"
                    f"{ids[1]},BF,,\"Bobo, douane\",subscribe\n\n"
                    f"{ids[2]},BF,BOY,,publish|subscribe|audit\n", encoding="utf-8")
    result = await relay_cmd("units", "import", str(good), dsn=dsn)
    assert 0 == result.returncode, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "unit_id,token" == lines[0]
    tokens = dict(line.split(",", 1) for line in lines[1:])
    assert ids == list(tokens)
    async with stream_client(relay, tokens[ids[2]]) as client:
        assert ids[2] == client.welcome["unit"]
    bad_ids = [unique_unit("NE") for _ in range(3)]
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,country,airport,name,roles\n"
                   f"{bad_ids[0]},NE,NIM,Niamey,publish\n"
                   f"{bad_ids[1]},XX,NIM,Niamey,publish\n"
                   f"{bad_ids[0]},NE,,,subscribe\n"
                   f"{bad_ids[2]},NE,,too,many,columns\n", encoding="utf-8")
    refused = await relay_cmd("units", "import", str(bad), dsn=dsn)
    assert 1 == refused.returncode
    assert "line 3.country" in refused.stderr and "line 4.unit_id" in refused.stderr
    assert "line 5" in refused.stderr and "relay_" not in refused.stdout
    existing = tmp_path / "existing.csv"
    existing.write_text("unit_id,country,airport,name,roles\n"
                        f"{bad_ids[2]},NE,,,publish\n{ids[0]},BF,,,publish\n", encoding="utf-8")
    clash = await relay_cmd("units", "import", str(existing), dsn=dsn)
    assert 1 == clash.returncode and "line 3.unit_id" in clash.stderr and "already exists" in clash.stderr
    listing = await relay_cmd("units", "list", dsn=dsn)
    assert not [unit for unit in bad_ids if unit in listing.stdout]  # all or nothing


async def test_an_expired_token_stops_working_within_seconds(relay, dsn):
    """A token past its expires_at is refused, and its open connection is closed (4401)
    by the revocation check."""
    unit_id, _ = await create_unit(dsn, unique_unit("TD"), country="TD")
    token, token_id = await issue(dsn, unit_id, "--expires-in", "1")
    async with stream_client(relay, token) as client:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("UPDATE relay_tokens SET expires_at = now() WHERE public_id = $1", token_id)
        finally:
            await conn.close()
        assert await closed_with(client, 4401, 5.0) < 5.0
    with pytest.raises(websockets.InvalidStatus):
        async with stream_client(relay, token):
            pass
    listing = await relay_cmd("tokens", "list", unit_id, dsn=dsn)
    assert "expired" in next(line for line in listing.stdout.splitlines() if token_id in line)
    bad = await relay_cmd("tokens", "issue", unit_id, "--expires-in", "0", dsn=dsn)
    assert 1 == bad.returncode and "expires_in_days" in bad.stderr


async def test_last_use_is_kept_to_the_minute(relay, dsn):
    """A token used once shows when, to the minute; one never used says never."""
    unit_id, used = await create_unit(dsn, unique_unit("GN"), country="GN")
    _, unused_id = await issue(dsn, unit_id)
    async with stream_client(relay, used):
        pass
    listing = await relay_cmd("tokens", "list", unit_id, dsn=dsn)
    rows = [line for line in listing.stdout.splitlines() if unit_id in line]
    assert 2 == len(rows)
    assert "never" in next(row for row in rows if unused_id in row)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d$",
                     next(row for row in rows if unused_id not in row))


async def test_every_admin_action_of_the_command_is_in_the_access_log(relay, dsn):
    """Who (the system user), what, on which unit or token, and never a token."""
    unit_id, _ = await create_unit(dsn, unique_unit("BJ"), country="BJ")
    token, token_id = await issue(dsn, unit_id, "--label", "gate 4")
    assert 0 == (await relay_cmd("tokens", "revoke", token_id, dsn=dsn)).returncode
    assert 0 == (await relay_cmd("units", "set", unit_id, "--name", "Cotonou", dsn=dsn)).returncode
    _, auditor = await create_unit(dsn, unique_unit("BJ"), country="BJ", roles="audit")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {auditor}"}) as http, \
            http.get(f"{relay.http}/v1/audit/access-log", params={"limit": "50"},
                     timeout=aiohttp.ClientTimeout(TIMEOUT)) as response:
        assert 200 == response.status
        text = await response.text()
        entries = (await response.json())["entries"]
    mine = [(e["action"], e["target"]) for e in entries if e.get("action") and
            unit_id in (e["target"], e["query"].get("unit_id"))]
    assert [("unit.set", unit_id), ("token.revoke", token_id), ("token.issue", token_id)] == mine[:3]
    who = next(e for e in entries if e.get("action") == "token.revoke" and e["target"] == token_id)
    assert who["unit"].startswith("cli:") and "CLI" == who["method"] and "relay tokens revoke" == who["path"]
    assert token not in text


async def test_the_command_speaks_french_and_tells_its_version(dsn, tmp_path):
    """--lang fr before or after the command: refusals and help in French; --version."""
    before = await relay_cmd("--lang", "fr", "units", "add", "ML-FR-1", "--country", "XX",
                             "--roles", "publish", dsn=dsn)
    after = await relay_cmd("units", "add", "ML-FR-2", "--country", "XX", "--roles", "publish",
                            "--lang", "fr", dsn=dsn)
    french = problem_text("bad_country", {"value": "XX"}, "fr")
    assert french != problem_text("bad_country", {"value": "XX"}, "en")
    for result in (before, after):
        assert 1 == result.returncode
        assert "refusé" in result.stderr and f"country: {french}" in result.stderr, result.stderr
    helped = await relay_cmd("--lang", "fr", "tokens", "issue", "--help", dsn=dsn)
    assert "jours avant que le jeton n'expire" in helped.stdout
    assert "usage:" not in helped.stdout and "options:" not in helped.stdout, helped.stdout
    wrong = await relay_cmd("units", "nope", "--lang", "fr", dsn=dsn)
    assert 2 == wrong.returncode and "invalid choice" not in wrong.stderr, wrong.stderr
    version = await relay_cmd("--version", dsn=dsn)
    assert 0 == version.returncode and re.fullmatch(r"relay \d+\.\d+\.\d+\S*\n", version.stdout)


async def test_check_config_reports_without_starting_anything(tmp_path):
    """A good file: exit 0 and a summary (the password of a URL masked); a bad key: exit 2
    naming it. Nothing listens, no database is started."""
    config = tmp_path / "relay.toml"
    config.write_text('[database]\nurl = "postgresql://relay:s3cret@db.example/relay"\n'
                      '[stream]\nport = 9443\n[regions]\nSAHEL = ["ML", "NE"]\n')
    ok = await asyncio.to_thread(run_relay, "check-config", "--config", str(config),
                                 env={"RELAY_DATA_DIR": str(tmp_path / "data")})
    assert 0 == ok.returncode, ok.stderr
    assert "9443" in ok.stdout and "SAHEL" in ok.stdout and "db.example" in ok.stdout
    assert "s3cret" not in ok.stdout + ok.stderr
    assert not (tmp_path / "data").exists()
    config.write_text("[stream]\nprot = 1\n")
    bad = await asyncio.to_thread(run_relay, "check-config", "--config", str(config))
    assert 2 == bad.returncode and "stream.prot" in bad.stderr


async def test_one_shot_commands_print_their_answer_and_no_log_line(dsn):
    """A command that works writes nothing on stderr (no JSON log line, no warning)."""
    listing = await relay_cmd("units", "list", dsn=dsn)
    migrated = await relay_cmd("migrate", dsn=dsn)
    assert (0, "", 0, "") == (listing.returncode, listing.stderr, migrated.returncode, migrated.stderr)
    assert "migrations applied" == migrated.stdout.strip()
