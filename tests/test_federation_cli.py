"""``relay peers add/list/revoke`` as an operator runs them, and the relay's id, which never
changes once a database has one (federation.md "Identity", "Peers and links")."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support import RelayProcess, run_relay

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _one(dsn: str, query: str, *args: object) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def test_peers_add_prints_the_token_alone_on_the_last_line_and_records_the_grant(dsn):
    added = run_relay("peers", "add", "SN", "--countries", "SN,GM", dsn=dsn)
    assert 0 == added.returncode, added.stderr
    token = added.stdout.splitlines()[-1]
    assert token.startswith("relay_") and " " not in token
    assert "peer SN granted for GM,SN" in added.stdout
    assert added.stderr.startswith("token_id: tok_")
    assert ["GM", "SN"] == await _one(dsn, "SELECT countries FROM relay_peers WHERE peer_id = 'SN'")
    assert "peer.add" == await _one(dsn, "SELECT action FROM relay_access_log WHERE target = 'SN'")
    assert await _one(dsn, "SELECT token_hash FROM relay_tokens WHERE peer_id = 'SN'") != token.encode()


async def test_peers_add_refuses_a_grant_twice_a_bad_id_and_a_bad_country_naming_them(dsn):
    again = run_relay("peers", "add", "SN", "--countries", "SN", dsn=dsn)
    assert 0 != again.returncode and "already" in again.stderr
    bad = run_relay("peers", "add", "sn!", "--countries", "XX,SN", dsn=dsn)
    assert 0 != bad.returncode
    assert "peer_id" in bad.stderr and "'XX'" in bad.stderr
    french = run_relay("--lang", "fr", "peers", "add", "SN", "--countries", "SN", dsn=dsn)
    assert "existe déjà" in french.stderr


async def test_peers_revoke_cuts_the_grant_once_and_a_new_grant_gives_a_new_token(dsn):
    revoked = run_relay("peers", "revoke", "SN", dsn=dsn)
    assert 0 == revoked.returncode and "peer SN revoked" in revoked.stdout
    assert 0 == await _one(dsn, "SELECT count(*) FROM relay_tokens WHERE peer_id = 'SN' AND revoked_at IS NULL")
    twice = run_relay("peers", "revoke", "SN", dsn=dsn)
    assert 0 != twice.returncode and "already revoked" in twice.stderr
    unknown = run_relay("peers", "revoke", "ZZ", dsn=dsn)
    assert 0 != unknown.returncode and "ZZ" in unknown.stderr
    listed = run_relay("peers", "list", dsn=dsn)
    assert "revoked" in listed.stdout.splitlines()[1]
    regranted = run_relay("peers", "add", "SN", "--countries", "SN", dsn=dsn)
    assert 0 == regranted.returncode, regranted.stderr
    assert 1 == await _one(dsn, "SELECT count(*) FROM relay_tokens WHERE peer_id = 'SN' AND revoked_at IS NULL")
    assert ["SN"] == await _one(dsn, "SELECT countries FROM relay_peers WHERE peer_id = 'SN'")


async def test_peers_add_works_on_a_fresh_data_directory_before_the_first_serve(tmp_path):
    """No database yet: the command starts the embedded one, migrates it, grants."""
    added = run_relay("peers", "add", "FR", "--countries", "FR", "--data-dir", str(tmp_path / "data"),
                      env={"RELAY_DATABASE_URL": ""})
    assert 0 == added.returncode, added.stderr
    assert added.stdout.splitlines()[-1].startswith("relay_")


async def test_a_relay_id_is_kept_by_its_database_and_a_different_one_refuses_to_start(dsn, workdir):
    first = RelayProcess(dsn, workdir / "first", config_text='[relay]\nid = "ML"\n')
    await first.start()
    assert 0 == await first.stop()
    assert "ML" == await _one(dsn, "SELECT relay_id FROM relay_identity")
    other = RelayProcess(dsn, workdir / "other", config_text='[relay]\nid = "MLI"\n')
    with pytest.raises(RuntimeError, match="belongs to relay 'ML'"):
        await other.start()


async def test_a_changed_relay_id_is_a_configuration_error_not_a_crash(dsn, workdir):
    """Exit status 2 and one line naming relay.id, as for any bad configuration."""
    config = workdir / "changed.toml"
    config.write_text('[relay]\nid = "XX"\n')
    served = run_relay("serve", "--config", str(config), dsn=dsn,
                       env={"RELAY_STREAM_PORT": "0", "RELAY_HTTP_PORT": "0"})
    assert 2 == served.returncode
    assert "relay.id is 'XX' but this database belongs to relay 'ML'" in served.stderr
    assert "Traceback" not in served.stderr
