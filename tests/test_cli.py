"""The relay command line: units, tokens, migrations, configuration errors."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import run_relay, stream_client, unique_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_units_add_prints_a_token_alone_on_the_last_line_that_works(relay, dsn):
    """The printed token authenticates on the stream; the database holds only its hash."""
    unit_id = unique_unit("GH")
    result = await asyncio.to_thread(run_relay, "units", "add", unit_id, "--country", "GH",
                                     "--airport", "ACC", "--name", "Accra JAITF",
                                     "--roles", "publish,subscribe", dsn=dsn)
    assert 0 == result.returncode, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("relay_") and len(token) >= 40
    async with stream_client(relay, token) as client:
        assert unit_id == client.welcome["unit"]
    import asyncpg
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT token_hash FROM relay_tokens t WHERE unit_id = $1", unit_id)
        leaked = await conn.fetchval(
            "SELECT count(*) FROM relay_tokens WHERE position($1::bytea in token_hash) > 0",
            token.encode())
    finally:
        await conn.close()
    assert 32 == len(stored)
    assert 0 == leaked


async def test_units_list_tokens_issue_and_revoke(relay, dsn):
    """A second token works beside the first; revoke refuses both afterwards."""
    unit_id = unique_unit("SN")
    add = await asyncio.to_thread(run_relay, "units", "add", unit_id, "--country", "SN",
                                  "--roles", "subscribe", dsn=dsn)
    issued = await asyncio.to_thread(run_relay, "tokens", "issue", unit_id, dsn=dsn)
    listing = await asyncio.to_thread(run_relay, "units", "list", dsn=dsn)
    assert 0 == issued.returncode, issued.stderr
    assert unit_id in listing.stdout
    second = issued.stdout.strip().splitlines()[-1]
    async with stream_client(relay, second) as client:
        assert unit_id == client.welcome["unit"]
    revoked = await asyncio.to_thread(run_relay, "units", "revoke", unit_id, dsn=dsn)
    assert 0 == revoked.returncode
    assert "2 active token(s)" in revoked.stdout
    assert add.stdout.strip().splitlines()[-1] != second


@pytest.mark.parametrize(("args", "message"), [
    (["units", "add", "bad id", "--country", "ML", "--roles", "publish"], "unit id"),
    (["units", "add", "ML-XXX-1", "--country", "XX", "--roles", "publish"], "country"),
    (["units", "add", "ML-XXX-2", "--country", "ML", "--roles", "fly"], "roles"),
    (["units", "add", "ML-XXX-3", "--country", "ML", "--airport", "QQQ", "--roles", "publish"], "airport"),
    (["tokens", "issue", "NO-SUCH-UNIT"], "no unit"),
])
async def test_bad_unit_commands_fail_with_a_message(relay, dsn, args, message):
    """Refused commands exit 1 and say what is wrong."""
    result = await asyncio.to_thread(run_relay, *args, dsn=dsn)
    assert 1 == result.returncode
    assert message in result.stderr


@pytest.mark.parametrize(("toml", "key"), [
    ("[stream]\nprot = 8765\n", "stream.prot"),
    ("[colour]\nx = 1\n", "colour"),
    ("[stream]\nport = \"high\"\n", "stream.port"),
    ("[regions]\nSAHEL = [\"ML\", \"XX\"]\n", "regions.SAHEL"),
    ("[log]\nlevel = \"loud\"\n", "log.level"),
])
async def test_unknown_or_bad_configuration_keys_stop_the_relay_naming_the_key(tmp_path, toml, key):
    """relay serve refuses to start and names the key."""
    config = tmp_path / "relay.toml"
    config.write_text(toml)
    result = await asyncio.to_thread(run_relay, "serve", "--config", str(config),
                                     env={"RELAY_DATA_DIR": str(tmp_path)})
    assert 2 == result.returncode
    assert key in result.stderr


async def test_a_bad_environment_override_names_its_variable(tmp_path):
    """RELAY_STREAM_PORT=abc stops the relay with the key and the variable."""
    result = await asyncio.to_thread(run_relay, "serve", env={"RELAY_STREAM_PORT": "abc",
                                                              "RELAY_DATA_DIR": str(tmp_path)})
    assert 2 == result.returncode
    assert "stream.port" in result.stderr and "RELAY_STREAM_PORT" in result.stderr


async def test_migrate_is_idempotent(dsn):
    """relay migrate applies nothing twice."""
    first = await asyncio.to_thread(run_relay, "migrate", dsn=dsn)
    second = await asyncio.to_thread(run_relay, "migrate", dsn=dsn)
    assert (0, 0) == (first.returncode, second.returncode)
