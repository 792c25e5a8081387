"""Configuration: loaded once from TOML and the environment, validated, frozen.

Every key is optional (docs/operations.md "Configuration"). A scalar key
``[section] key`` is overridden by the environment variable ``RELAY_SECTION_KEY``
(``RELAY_DATABASE_URL``, ``RELAY_STREAM_PORT``...). An unknown key or a bad value raises
:class:`ConfigError` naming the key, and the relay does not start.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from relay.contract import reference

__all__ = [
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "FederationConfig",
    "HttpConfig",
    "LimitsConfig",
    "LogConfig",
    "PeerLink",
    "RelayConfig",
    "StreamConfig",
    "default_data_dir",
    "is_stream_url",
    "load_config",
]


class ConfigError(Exception):
    """A configuration key is unknown or has a bad value; the message names the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseConfig:
    url: str = ""
    role: str = "relay_app"
    pool_min: int = 2
    pool_max: int = 10            # reads: history, alert files, replays, authentication
    write_pool_max: int = 3       # commits and what publishing reads: no reader can take them
    export_pool_max: int = 2      # exports and verifications, each holding one for long
    write_send_buffer_bytes: int = 4_194_304  # a group commit leaves in one write (pool.py)
    command_timeout: float = 10.0
    deadline: float = 3.0         # a request that the store does not answer in time: unavailable
    statement_timeout: float = 10.0
    export_statement_timeout: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    max_frame_bytes: int = 1_048_576
    auth_timeout: float = 10.0
    handshake_timeout: float = 10.0
    send_buffer_bytes: int = 4_194_304
    max_in_flight: int = 256
    max_connections: int = 10_000
    max_connections_per_address: int = 1_000
    max_unauthenticated: int = 1_000
    unauthenticated_frame_bytes: int = 4_096
    max_replays: int = 4
    replay_page_bytes: int = 1_048_576
    replay_scan_events: int = 50_000
    replay_drain_timeout: float = 30.0
    tls_cert: str = ""
    tls_key: str = ""
    # The stream's address as browsers reach it (the console's CSP allows exactly it);
    # empty: ws:// or wss:// + host and port above (console.md "Serving").
    public_url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    header_timeout: float = 10.0  # to send a request's headers (and idle between requests)
    body_timeout: float = 10.0
    max_connections: int = 2_000
    max_connections_per_address: int = 200
    max_page_bytes: int = 4_194_304
    export_seconds: float = 3_600.0
    tls_cert: str = ""
    tls_key: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsConfig:
    publish_per_second: float = 200.0
    publish_burst: int = 1000
    max_batch: int = 500
    revocation_check_seconds: float = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    level: str = "info"
    format: str = "auto"


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayConfig:
    id: str = ""  # [A-Z0-9-]{2,20}; required once a peer is configured (federation.md)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionConfig:
    """``[protection]``: passengers' personal data (docs/protection.md)."""

    key_file: str = ""            # empty: <data dir>/protection.key, created if missing
    mask_after_days: int = 183    # personal fields of passenger alerts masked after this
    delete_after_days: int = 1826  # every alert reduced to its audit fields after this
    shred_on_mask: bool = False   # destroy the data keys at masking already
    run_every_seconds: float = 3600.0  # how often the relay runs the jobs
    batch: int = 500              # alerts changed in one transaction at most
    pause_ratio: float = 1.0      # between full batches, a pause this many times as long
    yield_above_ms: float = 20.0  # a publish commit slower than this doubles the pause
    max_slowdown: float = 8.0     # the pause at most this many times the base one, 1 to 100 (1: never slowed)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerLink:
    """One ``[[federation.peers]]``: the peer relay this one pulls from."""

    id: str
    url: str
    token_file: str
    ca_file: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FederationConfig:
    position_seconds: float = 1.0      # how often a feed tells its peer how far it has read
    directory_seconds: float = 5.0     # how often a feed checks the units it publishes
    reconnect_max_seconds: float = 30.0
    apply_batch: int = 500             # events a link applies in one transaction at most
    peers: tuple[PeerLink, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole configuration of one relay process."""

    data_dir: Path
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    regions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    relay: RelayConfig = field(default_factory=RelayConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    protection: ProtectionConfig = field(default_factory=ProtectionConfig)

    @property
    def key_path(self) -> Path:
        """The protection key file: configured, or in the data directory."""
        configured = self.protection.key_file
        return Path(configured).expanduser() if configured else self.data_dir / "protection.key"


_SECTIONS: dict[str, type[Any]] = {
    "database": DatabaseConfig,
    "stream": StreamConfig,
    "http": HttpConfig,
    "limits": LimitsConfig,
    "log": LogConfig,
    "relay": RelayConfig,
    "protection": ProtectionConfig,
}
_RELAY_ID = re.compile(r"[A-Z0-9-]{2,20}")
_PEER_KEYS = ("id", "url", "token_file", "ca_file")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_LOG_LEVELS = ("debug", "info", "warning", "error")
_LOG_FORMATS = ("auto", "json", "console")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/relay``, or ``~/.local/share/relay``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "relay"


def load_config(
    path: Path | None = None,
    *,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read ``path`` (if given), apply ``RELAY_*`` overrides, validate every key."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - set(_SECTIONS) - {"regions", "federation"})
    if unknown:
        raise ConfigError(f"unknown configuration key {unknown[0]!r}")
    sections = {
        name: _build_section(name, cls, raw.get(name, {}), env)
        for name, cls in _SECTIONS.items()
    }
    _check_across(sections)
    federation = _build_federation(raw.get("federation", {}), env, sections["relay"])
    chosen_dir = data_dir or _env_path(env, "RELAY_DATA_DIR") or default_data_dir()
    return Config(
        data_dir=chosen_dir.expanduser().resolve(),
        regions=_build_regions(raw.get("regions", {})),
        federation=federation,
        **sections,
    )


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def _build_section(name: str, cls: type[Any], table: object, env: Mapping[str, str]) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"configuration key {name!r} must be a table")
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown configuration key '{name}.{key}'")
    # A misspelt override (RELAY_STREAM_PROT) would otherwise be ignored without a word.
    prefix = f"RELAY_{name}_".upper()
    for env_name in sorted(env):
        if env_name.startswith(prefix) and env_name[len(prefix):].lower() not in known:
            raise ConfigError(f"unknown configuration variable {env_name} "
                              f"(the keys of [{name}] are: {', '.join(known)})")
    values: dict[str, Any] = {}
    for key, spec in known.items():
        dotted = f"{name}.{key}"
        env_name = f"RELAY_{name}_{key}".upper()
        if env_name in env:
            values[key] = _parse_env(dotted, env_name, env[env_name], spec.default)
        elif key in table:
            values[key] = _check_type(dotted, table[key], spec.default)
    section = cls(**values)
    _check_section(name, section)
    return section


def _parse_env(dotted: str, env_name: str, text: str, default: object) -> object:
    try:
        if isinstance(default, bool):
            return text.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError as exc:
        raise ConfigError(f"bad value for '{dotted}' (from {env_name}): {text!r}") from exc
    return text


def _check_type(dotted: str, value: object, default: object) -> object:
    expected: type[Any] = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not expected:
        raise ConfigError(
            f"bad value for '{dotted}': expected {expected.__name__}, got {value!r}"
        )
    return value


def _check_section(name: str, section: object) -> None:
    for spec in fields(section):  # type: ignore[arg-type]
        value = getattr(section, spec.name)
        dotted = f"{name}.{spec.name}"
        if spec.name == "port" and not 0 <= value <= 65535:
            raise ConfigError(f"bad value for '{dotted}': {value} is not a TCP port")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"bad value for '{dotted}': must be a finite number, got {value}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if spec.name != "port" and value <= 0:
                raise ConfigError(f"bad value for '{dotted}': must be positive, got {value}")
    if isinstance(section, LogConfig):
        if section.level not in _LOG_LEVELS:
            raise ConfigError(f"bad value for 'log.level': must be one of {', '.join(_LOG_LEVELS)}")
        if section.format not in _LOG_FORMATS:
            raise ConfigError(f"bad value for 'log.format': must be one of {', '.join(_LOG_FORMATS)}")
    if isinstance(section, RelayConfig) and section.id and not _RELAY_ID.fullmatch(section.id):
        raise ConfigError("bad value for 'relay.id': a relay id is upper-case [A-Z0-9-]{2,20},"
                          " e.g. ML, SN, G5-PCMS")
    if isinstance(section, ProtectionConfig) and not 1 <= section.max_slowdown <= 100:
        raise ConfigError("bad value for 'protection.max_slowdown': must be from 1 to 100"
                          f" (1: the jobs never slow down for publishing), got {section.max_slowdown}")
    if isinstance(section, ProtectionConfig) and section.delete_after_days <= section.mask_after_days:
        raise ConfigError("bad value for 'protection.delete_after_days': must be greater than"
                          " protection.mask_after_days")
    if isinstance(section, DatabaseConfig) and section.role and not _ROLE.match(section.role):
        raise ConfigError("bad value for 'database.role': must be a plain role name")
    if isinstance(section, DatabaseConfig) and section.pool_min > section.pool_max:
        raise ConfigError("bad value for 'database.pool_min': larger than database.pool_max")
    for name, kind in (("stream", StreamConfig), ("http", HttpConfig)):
        if isinstance(section, kind) and bool(section.tls_cert) != bool(section.tls_key):
            raise ConfigError(f"bad value for '{name}.tls_cert': tls_cert and tls_key go together")
    if isinstance(section, StreamConfig) and section.public_url \
            and not is_stream_url(section.public_url):
        raise ConfigError("bad value for 'stream.public_url': must be a ws:// or wss:// URL "
                          "without query, e.g. wss://relay.example.org/v1/stream")


# What a browser's Content-Security-Policy can hold as one source: no spaces, quotes,
# commas or semicolons, which would end it or start another directive.
_STREAM_URL = re.compile(r"wss?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])"
                         r"(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%!$&()*+=:@/-]*)?")


def is_stream_url(text: str) -> bool:
    """True for a ``ws://`` or ``wss://`` URL with a host, an optional port and path, and
    no user, query or fragment: what ``[stream] public_url`` may be."""
    if _STREAM_URL.fullmatch(text) is None:
        return False
    try:
        port = urlsplit(text).port
    except ValueError:  # beyond 65535
        return False
    return port != 0


def _check_across(sections: Mapping[str, Any]) -> None:
    """Limits that depend on each other."""
    database, stream = sections["database"], sections["stream"]
    if stream.max_replays >= database.pool_max:
        raise ConfigError("bad value for 'stream.max_replays': must be below database.pool_max,"
                          " so that replays leave connections for the history and logins")
    if stream.unauthenticated_frame_bytes > stream.max_frame_bytes:
        raise ConfigError("bad value for 'stream.unauthenticated_frame_bytes': larger than"
                          " stream.max_frame_bytes")


def _build_federation(table: object, env: Mapping[str, str], relay: RelayConfig) -> FederationConfig:
    """``[federation]`` scalars (with their RELAY_FEDERATION_* overrides) and the
    ``[[federation.peers]]`` links; a link needs ``[relay] id``."""
    if not isinstance(table, dict):
        raise ConfigError("configuration key 'federation' must be a table")
    scalars = {key: value for key, value in table.items() if key != "peers"}
    section = _build_section("federation", _FederationScalars, scalars, env)
    peers_raw = table.get("peers", [])
    if not isinstance(peers_raw, list):
        raise ConfigError("bad value for 'federation.peers': expected [[federation.peers]] tables")
    peers: list[PeerLink] = []
    for index, entry in enumerate(peers_raw):
        where = f"federation.peers[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"bad value for '{where}': expected a table")
        for key in entry:
            if key not in _PEER_KEYS:
                raise ConfigError(f"unknown configuration key '{where}.{key}'")
        for key in _PEER_KEYS:
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"bad value for '{where}.{key}': expected a string")
        for key in ("id", "url", "token_file"):
            if not entry.get(key):
                raise ConfigError(f"missing configuration key '{where}.{key}'")
        if not _RELAY_ID.fullmatch(entry["id"]):
            raise ConfigError(f"bad value for '{where}.id': a relay id is [A-Z0-9-]{{2,20}}")
        if not is_stream_url(entry["url"]):
            raise ConfigError(f"bad value for '{where}.url': must be a ws:// or wss:// URL,"
                              " e.g. wss://relay.example.ml/v1/stream")
        if entry["id"] in {peer.id for peer in peers}:
            raise ConfigError(f"bad value for '{where}.id': peer {entry['id']} is configured twice")
        peers.append(PeerLink(**entry))
    if peers and not relay.id:
        raise ConfigError("missing configuration key 'relay.id': required as soon as a peer is"
                          " configured")
    if relay.id and relay.id in {peer.id for peer in peers}:
        raise ConfigError(f"bad value for 'federation.peers': {relay.id} is this relay's own id")
    return FederationConfig(peers=tuple(peers), **{
        f.name: getattr(section, f.name) for f in fields(_FederationScalars)})


@dataclass(frozen=True, slots=True, kw_only=True)
class _FederationScalars:
    position_seconds: float = 1.0
    directory_seconds: float = 5.0
    reconnect_max_seconds: float = 30.0
    apply_batch: int = 500


def _build_regions(table: object) -> dict[str, frozenset[str]]:
    if not isinstance(table, dict):
        raise ConfigError("configuration key 'regions' must be a table")
    regions: dict[str, frozenset[str]] = {}
    for name, members in table.items():
        dotted = f"regions.{name}"
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(f"bad value for '{dotted}': expected a list of country codes")
        bad = [m for m in members if not reference.is_country(m)]
        if bad:
            raise ConfigError(f"bad value for '{dotted}': {bad[0]!r} is not an ISO 3166-1 alpha-2 code")
        regions[name] = frozenset(members)
    return regions
