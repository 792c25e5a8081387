"""Configuration: defaults, TOML, environment overrides, and refusals naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relay.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relay.toml"
    path.write_text(text)
    return path


def test_defaults_match_the_contract(tmp_path):
    """Ports 8765 and 8080 on loopback, 1 MiB frames, no database URL (embedded)."""
    config = load_config(None, data_dir=tmp_path, environ={})
    assert (8765, 8080, 1_048_576, "") == (config.stream.port, config.http.port,
                                           config.stream.max_frame_bytes, config.database.url)
    assert "127.0.0.1" == config.stream.host == config.http.host


def test_the_file_sets_keys_and_the_environment_overrides_them(tmp_path):
    """RELAY_<SECTION>_<KEY> wins over the file."""
    path = write(tmp_path, '[stream]\nport = 9000\n[database]\nurl = "postgresql://x/y"\n'
                           '[regions]\n"G5-SAHEL" = ["BF", "ML"]\n')
    config = load_config(path, data_dir=tmp_path,
                         environ={"RELAY_STREAM_PORT": "9100", "RELAY_DATABASE_URL": "postgresql://z/w"})
    assert (9100, "postgresql://z/w") == (config.stream.port, config.database.url)
    assert {"G5-SAHEL": frozenset({"BF", "ML"})} == dict(config.regions)


@pytest.mark.parametrize(("text", "key"), [
    ("[stream]\nprot = 1\n", "stream.prot"),
    ("[nope]\n", "nope"),
    ("[http]\nport = 70000\n", "http.port"),
    ("[stream]\nmax_frame_bytes = 0\n", "stream.max_frame_bytes"),
    ('[stream]\ntls_cert = "a.pem"\n', "stream.tls_cert"),
    ('[regions]\nX = "ML"\n', "regions.X"),
    ("[limits]\nmax_batch = 1.5\n", "limits.max_batch"),
    ("[protection]\nmax_slowdown = 0.5\n", "protection.max_slowdown"),
    ("[protection]\nmax_slowdown = 101\n", "protection.max_slowdown"),
    ("[protection]\nmax_slowdown = inf\n", "protection.max_slowdown"),
    ("[protection]\nyield_above_ms = nan\n", "protection.yield_above_ms"),
    ("[protection]\nyield_above_ms = 0\n", "protection.yield_above_ms"),
    ("not toml = = =", "not valid TOML"),
])
def test_bad_configuration_is_refused_naming_the_key(tmp_path, text, key):
    """Unknown keys and bad values stop the relay with the key's name."""
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text), data_dir=tmp_path, environ={})
    assert key in str(error.value)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_a_number_that_is_not_finite_is_refused_from_the_environment_too(tmp_path, text):
    with pytest.raises(ConfigError, match=re.escape("'protection.pause_ratio': must be a finite number")):
        load_config(None, data_dir=tmp_path, environ={"RELAY_PROTECTION_PAUSE_RATIO": text})


def test_a_misspelt_environment_override_is_refused_naming_the_variable(tmp_path):
    """RELAY_STREAM_PROT is not silently ignored; variables of no section are left alone."""
    with pytest.raises(ConfigError, match="RELAY_STREAM_PROT"):
        load_config(None, data_dir=tmp_path, environ={"RELAY_STREAM_PROT": "9000"})
    config = load_config(None, data_dir=tmp_path,
                         environ={"RELAY_TOKEN": "x", "RELAY_STATE_DIR": "/tmp", "RELAY_VENV": "v"})
    assert 8765 == config.stream.port


def test_the_example_configuration_shows_every_key_with_its_default():
    """config/relay.example.toml is the operator's reference: every key of every section,
    each with the default the relay uses."""
    import dataclasses
    import tomllib
    from pathlib import Path

    from relay import config as relay_config

    example = tomllib.loads((Path(__file__).resolve().parent.parent / "config" / "relay.example.toml")
                            .read_text())
    for name, section in relay_config._SECTIONS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(section)}
        assert defaults == example[name], name
    scalars = {f.name: f.default for f in dataclasses.fields(relay_config._FederationScalars)}
    assert scalars == example["federation"]
    assert {f.name for f in dataclasses.fields(relay_config.FederationConfig)} == {*scalars, "peers"}


def _federation_config(tmp_path, text: str):
    path = tmp_path / "relay.toml"
    path.write_text(text)
    return load_config(path, environ={})


PEER = '[[federation.peers]]\nid = "ML"\nurl = "wss://relay.example.ml/v1/stream"\ntoken_file = "/etc/relay/ml.token"\n'


def test_a_peer_link_is_read_with_its_relay_id(tmp_path):
    config = _federation_config(tmp_path, '[relay]\nid = "SN"\n' + PEER)
    assert "SN" == config.relay.id
    assert [("ML", "wss://relay.example.ml/v1/stream", "/etc/relay/ml.token", "")] == [
        (p.id, p.url, p.token_file, p.ca_file) for p in config.federation.peers]


@pytest.mark.parametrize(("text", "named"), [
    (PEER, "relay.id"),  # a peer without the relay's own id
    ('[relay]\nid = "sn"\n', "relay.id"),  # not upper-case
    ('[relay]\nid = "ML"\n' + PEER, "federation.peers"),  # a link to itself
    ('[relay]\nid = "SN"\n' + PEER + PEER, "federation.peers[1].id"),  # twice
    ('[relay]\nid = "SN"\n' + PEER.replace("wss://", "https://"), "federation.peers[0].url"),
    ('[relay]\nid = "SN"\n' + PEER.replace('token_file = "/etc/relay/ml.token"\n', ""),
     "federation.peers[0].token_file"),
    ('[relay]\nid = "SN"\n' + PEER + 'secret = "x"\n', "federation.peers[0].secret"),
    ('[relay]\nid = "SN"\n[federation]\nposition_seconds = 0\n', "federation.position_seconds"),
])
def test_a_bad_federation_key_stops_the_relay_naming_it(tmp_path, text, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        _federation_config(tmp_path, text)
