"""The deployment files of deploy/ (docs/deployment.md): what can be checked without a
systemd machine, a container registry or a public certificate.

- ``deploy/relay.service``: ``systemd-analyze verify`` and its offline security score
  when systemd-analyze is installed (.ci/run installs it); in every case its command is
  parsed by the relay's own parser and run, the way systemd would start and stop it,
  against a real database.
- ``deploy/Containerfile``: not built (no registry here); its environment is read by the
  relay's own configuration loader, its health check run against a real relay, and every
  file it copies must exist.
- ``deploy/nginx.conf``: ``nginx -t`` and, with a certificate made for the test, run in
  front of a real relay when nginx is installed (.ci/run fetches it); in every case
  its structure (what is proxied where, with which headers and time-outs) is read.
- Every ``RELAY_*`` variable the files name is a real setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

import aiohttp
import pytest
import trustme
from websockets.asyncio.client import connect

from relay.cli import messages  # noqa: F401 - the command's sentences, as relay.cli.main loads them
from relay.cli.parser import build_parser
from relay.config import Config, HttpConfig, StreamConfig, load_config
from relay.contract.i18n import Translator
from tests.alert_examples import seizure_alert
from tests.support import ROOT, TIMEOUT, create_unit, free_port, unique_unit

DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "relay.service"
CONTAINERFILE = DEPLOY / "Containerfile"
PROXY = DEPLOY / "nginx.conf"
ENV_FILE = DEPLOY / "relay.env"
EXAMPLE_CONFIG = ROOT / "config" / "relay.example.toml"

# Where the unit expects the relay (docs/deployment.md): a checkout in /opt/relay with its
# virtual environment in .venv, as scripts/venv.sh makes it.
CHECKOUT = "/opt/relay"
# The relay's own waits when it stops (relay/app.py): HTTP server 15 s, stream
# connections 10 s, delivery records 10 s, pools 15 s; and its pings (stream/server.py):
# every 20 s, a peer silent 20 s more is dropped.
STOP_STEP_LIMITS = (15, 10, 10, 15)
PING_INTERVAL, PING_TIMEOUT = 20, 20


def tool(name: str) -> str | None:
    """The program ``name`` when it is installed and runs, else None."""
    path = shutil.which(name)
    if path is None:
        return None
    probe = [path, "--version"] if name != "nginx" else [path, "-v"]
    try:
        subprocess.run(probe, capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def config_variables() -> set[str]:
    """Every RELAY_<SECTION>_<KEY> the configuration loader reads, and the two others."""
    names = {"RELAY_CONFIG", "RELAY_DATA_DIR"}
    for section in fields(Config):
        if section.name in ("data_dir", "regions"):
            continue
        cls = section.default_factory
        names |= {f"RELAY_{section.name}_{key.name}".upper() for key in fields(cls)}
    return names


# ---------------------------------------------------------------- the systemd unit


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file, each a list of (key, value) in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}:{number}: a setting outside any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: not KEY=VALUE: {raw!r}"
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    values = [v for k, v in unit.get(section, []) if k == key]
    assert len(values) == 1, f"[{section}] {key} set {len(values)} times"
    return values[0]


def seconds(text: str) -> float:
    """A systemd time span such as 90s, 2min, 1min 30s or 90."""
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(min|ms|s|h)?", text):
        total += float(number) * {"": 1, "s": 1, "ms": 0.001, "min": 60, "h": 3600}[unit]
    return total


def installed_unit(tmp: Path) -> Path:
    """The unit with the relay where this test run has it: the checkout's virtual
    environment is this Python's."""
    text = UNIT.read_text()
    assert f"{CHECKOUT}/.venv/bin/relay" in text
    copy = tmp / "relay.service"
    copy.write_text(text.replace(f"{CHECKOUT}/.venv", sys.prefix))
    return copy


# The [Service] and [Unit] directives systemd documents that a unit like ours may use:
# without systemd-analyze, a misspelt one (ProtectSytem) is still caught.
KNOWN_DIRECTIVES = {
    "Unit": {"Description", "Documentation", "After", "Wants", "Requires", "Before",
             "StartLimitIntervalSec", "StartLimitBurst", "ConditionPathExists"},
    "Service": {"Type", "User", "Group", "ExecStart", "ExecStartPre", "ExecStop", "EnvironmentFile",
                "Environment", "WorkingDirectory", "KillSignal", "KillMode", "TimeoutStopSec",
                "TimeoutStartSec", "Restart", "RestartSec", "LimitNOFILE", "StateDirectory",
                "StateDirectoryMode", "UMask", "NoNewPrivileges", "ProtectSystem",
                "ReadWritePaths", "PrivateTmp", "ProtectHome", "CapabilityBoundingSet",
                "AmbientCapabilities", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                "RestrictSUIDSGID", "RestrictRealtime", "RestrictNamespaces", "LockPersonality",
                "SystemCallArchitectures", "PrivateDevices", "SystemCallFilter"},
    "Install": {"WantedBy", "RequiredBy", "Alias"},
}


def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    """systemd finds nothing to say about the unit (verify warns on stderr but exits 0
    for an unknown key or a bad value, so any output fails)."""
    unit = read_unit(UNIT)
    for section, settings in unit.items():
        assert section in KNOWN_DIRECTIVES, section
        unknown = [key for key, _ in settings if key not in KNOWN_DIRECTIVES[section]]
        assert [] == unknown, f"[{section}]"
    analyze = tool("systemd-analyze")
    if analyze is None:  # .ci/run installs it; here the known directives above are the check
        return
    result = subprocess.run([analyze, "verify", str(installed_unit(tmp_path))],
                            capture_output=True, text=True, timeout=60, check=False)
    assert (0, "", "") == (result.returncode, result.stdout, result.stderr)


def test_the_unit_is_hardened(tmp_path):
    """No privilege, a read-only system but for the data directory, a private /tmp, no
    home directories; with systemd-analyze, an exposure score of at most 4.5 ("OK")."""
    unit = read_unit(UNIT)
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                "ProtectHome": "yes", "CapabilityBoundingSet": "",
                "ReadWritePaths": "/var/lib/relay", "StateDirectory": "relay"}
    assert expected == {key: unit_value(unit, "Service", key) for key in expected}
    assert unit_value(unit, "Service", "User") not in ("root", "0", "")
    analyze = tool("systemd-analyze")
    if analyze is None:
        return
    result = subprocess.run([analyze, "security", "--offline=true", "--threshold=45", "--no-pager",
                             str(installed_unit(tmp_path))],
                            capture_output=True, text=True, timeout=60, check=False)
    assert 0 == result.returncode, result.stdout[-1500:] + result.stderr


def test_the_unit_runs_relay_serve_from_the_checkout_s_virtual_environment():
    """ExecStart is the `relay` console script of the checkout's .venv (the name
    scripts/venv.sh gives it), and the relay's own parser reads its arguments as
    `serve` with the configuration and data directory the unit prepares."""
    unit = read_unit(UNIT)
    program, *arguments = shlex.split(unit_value(unit, "Service", "ExecStart"))
    venv_default = re.search(r'VENV="\$\{RELAY_VENV:-([^}]+)\}"', (ROOT / "scripts/venv.sh").read_text())
    assert venv_default is not None
    assert f"{CHECKOUT}/{venv_default[1]}/bin/relay" == program
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "relay.cli:main" == scripts["relay"]
    assert os.access(Path(sys.prefix) / "bin" / "relay", os.X_OK)
    args = build_parser(Translator("en"), "test").parse_args(arguments)
    assert ("serve", Path("/etc/relay/relay.toml"), Path("/var/lib/relay")) == (
        args.command, args.config, args.data_dir)
    assert "/var/lib/" + unit_value(unit, "Service", "StateDirectory") == str(args.data_dir)
    assert unit_value(unit, "Service", "EnvironmentFile").lstrip("-") == "/etc/relay/relay.env"


def test_the_unit_s_file_limit_fits_the_default_connection_limits():
    """LimitNOFILE holds the default connection limits (stream 10,000 + HTTP 2,000), the
    pools and a margin: the sum the relay itself checks at start (relay/app.py)."""
    config = load_config(None, data_dir=Path("/var/lib/relay"), environ={})
    needed = (config.stream.max_connections + config.http.max_connections
              + config.database.pool_max + config.database.write_pool_max
              + config.database.export_pool_max + 64)
    assert 12_000 < needed <= int(unit_value(read_unit(UNIT), "Service", "LimitNOFILE"))


def test_the_unit_stops_the_relay_with_sigterm_and_gives_it_time():
    """SIGTERM to the relay alone (not to the embedded PostgreSQL beside it), a stop
    time-out above the relay's own waits, and a restart only after a failure."""
    unit = read_unit(UNIT)
    assert "SIGTERM" == unit_value(unit, "Service", "KillSignal")
    assert "mixed" == unit_value(unit, "Service", "KillMode")
    assert "on-failure" == unit_value(unit, "Service", "Restart")
    assert seconds(unit_value(unit, "Service", "TimeoutStopSec")) > sum(STOP_STEP_LIMITS)


async def test_the_relay_started_as_the_unit_starts_it_stops_in_time_on_its_kill_signal(dsn, tmp_path):
    """The unit's ExecStart, Environment= and (as its environment file would give it) a
    database URL start a relay that gets ready, logs JSON, and exits 0 well within
    TimeoutStopSec of the unit's KillSignal."""
    unit = read_unit(UNIT)
    program, *arguments = shlex.split(unit_value(unit, "Service", "ExecStart"))
    here = {f"{CHECKOUT}/.venv/bin/relay": str(Path(sys.prefix) / "bin" / "relay"),
            "/etc/relay/relay.toml": str(EXAMPLE_CONFIG), "/var/lib/relay": str(tmp_path / "data")}
    command = [here.get(word, word) for word in (program, *arguments)]
    assert "/etc/relay/relay.toml" not in command and "/var/lib/relay" not in command
    http_port = free_port()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "RELAY_DATABASE_URL": dsn,
           "RELAY_STREAM_PORT": str(free_port()), "RELAY_HTTP_PORT": str(http_port)}
    for key, value in unit["Service"]:
        if key == "Environment":
            name, _, text = value.partition("=")
            env[name] = text
    log = tmp_path / "relay.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output, cwd=tmp_path)
    try:
        await wait_ready(process, http_port, log)
        process.send_signal(signal.Signals[unit_value(unit, "Service", "KillSignal")])
        limit = seconds(unit_value(unit, "Service", "TimeoutStopSec"))
        started = time.monotonic()
        code = await asyncio.to_thread(process.wait, limit)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert 0 == code, tail(log)
    assert took < limit
    assert "relay_stopped" in {line.get("event") for line in lines}


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_ready(process: subprocess.Popen[bytes], http_port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"relay exited with {process.returncode}:\n{tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"http://127.0.0.1:{http_port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"relay not ready:\n{tail(log)}")


# ---------------------------------------------------------------- the container file


@dataclass
class Containerfile:
    instructions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Containerfile:
        """Instructions with their arguments, continuation lines joined, comments left out."""
        parsed = cls()
        pending = ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            pending = f"{pending} {line[:-1]}" if line.endswith("\\") else f"{pending} {line}"
            if not line.endswith("\\"):
                word, _, rest = pending.strip().partition(" ")
                parsed.instructions.append((word.upper(), rest.strip()))
                pending = ""
        assert not pending, "the file ends in a continuation line"
        return parsed

    def all(self, word: str) -> list[str]:
        return [rest for name, rest in self.instructions if name == word]

    def one(self, word: str) -> str:
        found = self.all(word)
        assert len(found) == 1, f"{word} given {len(found)} times"
        return found[0]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for rest in self.all("ENV"):
            for item in shlex.split(rest):
                name, sep, value = item.partition("=")
                assert sep, f"ENV {item}: use NAME=value"
                values[name] = value
        return values

    def exec_form(self, word: str) -> list[str]:
        value = json.loads(self.one(word))
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), word
        return value


def test_the_container_runs_the_relay_as_a_user_it_creates_not_root():
    """USER names a system user created in the image (PostgreSQL refuses root)."""
    image = Containerfile.read(CONTAINERFILE)
    user = image.one("USER")
    assert user not in ("root", "0")
    assert any(re.search(rf"useradd\b.*\s{re.escape(user)}(\s|$)", run) for run in image.all("RUN"))
    last_user_index = max(i for i, (word, _) in enumerate(image.instructions) if word == "USER")
    assert all(word != "RUN" for word, _ in image.instructions[last_user_index:]), \
        "nothing runs as the relay's user at build time"


def test_the_container_base_is_a_debian_python_slim_image_the_relay_supports():
    base = Containerfile.read(CONTAINERFILE).one("FROM")
    match = re.fullmatch(r"(?:docker\.io/library/)?python:(\d+)\.(\d+)-slim-(bookworm|trixie)", base)
    assert match is not None, base
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert ">=3.11" == requires and (int(match[1]), int(match[2])) >= (3, 11)


def test_the_container_listens_on_every_address_on_the_default_ports_with_its_data_in_a_volume():
    """Its environment, read by the relay's own loader with the configuration file it
    installs, gives listeners on 0.0.0.0 and the data directory that is the volume; the
    exposed ports are the default ones."""
    image = Containerfile.read(CONTAINERFILE)
    env = image.env()
    unknown = {name for name in env if name.startswith("RELAY_")} - config_variables()
    assert set() == unknown
    config = load_config(EXAMPLE_CONFIG, environ=env)
    volumes = json.loads(image.one("VOLUME"))
    assert ("0.0.0.0", "0.0.0.0") == (config.stream.host, config.http.host)
    assert [str(config.data_dir)] == volumes == [env["RELAY_DATA_DIR"]]
    assert {StreamConfig().port, HttpConfig().port} == {int(p) for p in image.one("EXPOSE").split()}
    assert (config.stream.port, config.http.port) == (StreamConfig().port, HttpConfig().port)
    assert any(f"config/relay.example.toml {env['RELAY_CONFIG']}" in run for run in image.all("RUN"))


def test_the_container_copies_everything_the_relay_reads():
    """Every COPY source exists, and among them: the packages, the SQL the migrations
    read at start, the files pyproject.toml names (README, LICENSE), the example config."""
    image = Containerfile.read(CONTAINERFILE)
    sources: set[str] = set()
    for rest in image.all("COPY"):
        *sources_here, _ = rest.split()
        sources |= {s.rstrip("/") for s in sources_here}
    assert [] == sorted(s for s in sources if not (ROOT / s).exists())
    assert {"relay", "clients", "sql", "config", "pyproject.toml", "README.md", "LICENSE"} <= sources
    assert (ROOT / "sql" / "migrations").is_dir()


def test_the_container_entrypoint_is_relay_serve_under_an_init():
    """tini hands SIGTERM to the relay and reaps PostgreSQL; the command is `relay serve`
    as the relay's parser reads it, and STOPSIGNAL is SIGTERM."""
    image = Containerfile.read(CONTAINERFILE)
    entrypoint, command = image.exec_form("ENTRYPOINT"), image.exec_form("CMD")
    assert ["tini", "--", "relay"] == entrypoint
    assert "serve" == build_parser(Translator("en"), "test").parse_args(command).command
    assert "SIGTERM" == image.one("STOPSIGNAL")
    assert any("tini" in run.split() for run in image.all("RUN"))


async def test_the_container_health_check_passes_on_a_ready_relay_and_fails_without_one(relay):
    """The HEALTHCHECK command, run as written (against this test's relay port instead
    of 8080), exits 0 while the relay is ready and non-zero when nothing answers."""
    check = Containerfile.read(CONTAINERFILE).one("HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert "python" == command[0]
    script = command[-1]
    assert f"127.0.0.1:{HttpConfig().port}/readyz" in script

    async def run_with(port: int) -> int:
        argv = [sys.executable, *command[1:-1], script.replace(f":{HttpConfig().port}/", f":{port}/")]
        done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=30, check=False)
        return done.returncode

    assert 0 == await run_with(relay.http_port)
    assert 0 != await run_with(free_port())


# ---------------------------------------------------------------- every RELAY_ variable


def test_every_relay_variable_the_deployment_files_name_is_a_real_setting():
    """A misspelt variable in a unit or an image would be ignored, or stop the relay."""
    named = {name for path in DEPLOY.iterdir()
             for name in re.findall(r"\bRELAY_[A-Z0-9_]+\b", path.read_text())}
    assert {"RELAY_DATABASE_URL", "RELAY_STREAM_HOST", "RELAY_HTTP_HOST", "RELAY_DATA_DIR"} <= named
    assert set() == named - config_variables()


def test_the_environment_file_s_examples_are_read_as_the_settings_they_name():
    """Uncommented, the example lines of relay.env are the database URL and the stream's
    public address, with their quotes taken off as systemd takes them off."""
    lines = [line.lstrip("#") for line in ENV_FILE.read_text().splitlines()
             if line.startswith("#RELAY_")]
    environ = {name: value.strip('"') for name, _, value in (line.partition("=") for line in lines)}
    assert {"RELAY_DATABASE_URL", "RELAY_STREAM_PUBLIC_URL"} == set(environ)
    config = load_config(None, data_dir=Path("/var/lib/relay"), environ=environ)
    assert config.database.url.startswith("postgresql://relay:")
    assert "wss://relay.example.org/v1/stream" == config.stream.public_url


# ---------------------------------------------------------------- the reverse proxy


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def value(self, name: str) -> list[str]:
        found = self.find(name)
        assert len(found) == 1, f"{name} in {self.name} {' '.join(self.args)}: {len(found)}"
        return found[0].args


def nginx_tokens(text: str) -> Iterator[str]:
    for match in re.finditer(r"#[^\n]*|'[^']*'|\"[^\"]*\"|[{};]|[^\s{};'\"#]+", text):
        token = match[0]
        if token.startswith("#"):
            continue
        yield token[1:-1] if token[0] in "'\"" else token


def read_nginx(text: str) -> Directive:
    """The configuration as a tree of directives; unbalanced braces or a directive
    without its ';' fail here."""
    root = Directive("", [], [])
    stack = [root]
    words: list[str] = []
    for token in nginx_tokens(text):
        if token == ";":
            assert words, "an empty statement"
            assert stack[-1].block is not None
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            assert words, "a block without a name"
            block = Directive(words[0], words[1:], [])
            assert stack[-1].block is not None
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"missing ';' after {' '.join(words)}"
            assert len(stack) > 1, "a '}' too many"
            stack.pop()
        else:
            words.append(token)
    assert not words and len(stack) == 1, "unterminated configuration"
    return root


def proxy_headers(server: Directive, location: Directive) -> dict[str, str]:
    """The headers nginx sends upstream from a location: a location that sets any
    proxy_set_header inherits none from the server (nginx's inheritance rule)."""
    own = location.find("proxy_set_header")
    chosen = own or server.find("proxy_set_header")
    return {d.args[0].lower(): d.args[1] for d in chosen}


def tls_server(root: Directive) -> Directive:
    [server] = [s for s in root.find("server")
                if any("ssl" in listen.args for listen in s.find("listen"))]
    return server


def locations(server: Directive) -> dict[str, Directive]:
    return {" ".join(loc.args): loc for loc in server.find("location")}


def check_proxy_structure(text: str) -> None:
    """What the file alone shows: TLS on 443 for both the stream and the API, the
    WebSocket upgrade with time-outs above the relay's pings, /metrics not proxied, the
    client's address passed on, the relay's default ports upstream."""
    root = read_nginx(text)
    upstreams = {u.args[0]: u.value("server")[0] for u in root.find("upstream")}
    assert {"relay_stream": f"127.0.0.1:{StreamConfig().port}",
            "relay_http": f"127.0.0.1:{HttpConfig().port}"} == upstreams
    server = tls_server(root)
    assert ["443", "ssl"] in [listen.args for listen in server.find("listen")]
    assert server.value("ssl_certificate") and server.value("ssl_certificate_key")
    found = locations(server)
    assert {"= /v1/stream", "= /metrics", "/"} == set(found)
    stream, metrics, api = found["= /v1/stream"], found["= /metrics"], found["/"]
    assert ["http://relay_stream"] == stream.value("proxy_pass")
    assert ["1.1"] == stream.value("proxy_http_version")
    headers = proxy_headers(server, stream)
    assert "$http_upgrade" == headers["upgrade"]
    [connection_map] = [m for m in root.find("map") if m.args[0] == "$http_upgrade"]
    assert f"${connection_map.args[1].lstrip('$')}" == headers["connection"]
    assert {"upgrade"} == {d.args[0] for d in connection_map.block or [] if d.name == "default"}
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        assert seconds(stream.value(name)[0]) > PING_INTERVAL + PING_TIMEOUT
    assert ["http://relay_http"] == api.value("proxy_pass")
    assert [] == metrics.find("proxy_pass") and metrics.value("return")[0] in ("403", "404")
    for location in (stream, api):
        headers = proxy_headers(server, location)
        assert "$remote_addr" == headers["x-forwarded-for"]
        assert "$host" == headers["host"]
        assert "$scheme" == headers["x-forwarded-proto"]


def test_the_proxy_example_has_tls_the_upgrade_the_client_address_and_hides_metrics():
    check_proxy_structure(PROXY.read_text())


def test_the_structure_check_catches_a_lost_header_and_exposed_metrics():
    """The check above fails on the two easiest mistakes: a header set in the server block
    (lost in every location that sets one of its own), and /metrics proxied."""
    text = PROXY.read_text()
    moved = text.replace("        proxy_set_header X-Forwarded-For   $remote_addr;\n", "", 1).replace(
        "    access_log", "    proxy_set_header X-Forwarded-For $remote_addr;\n    access_log", 1)
    exposed = text.replace("location = /metrics {\n        return 404;",
                           "location = /metrics {\n        proxy_pass http://relay_http;", 1)
    assert moved != text and exposed != text
    for broken in (moved, exposed):
        with pytest.raises((AssertionError, KeyError)):
            check_proxy_structure(broken)


@dataclass
class Proxy:
    """deploy/nginx.conf run by nginx on this machine, in front of a relay."""

    directory: Path
    https_port: int = field(default_factory=free_port)
    plain_port: int = field(default_factory=free_port)
    authority: trustme.CA = field(default_factory=trustme.CA)

    def site(self, stream_port: int, http_port: int) -> str:
        """The example with this machine's ports and files; each change must apply."""
        cert = self.authority.issue_cert("127.0.0.1", "relay.example.org")
        cert.cert_chain_pems[0].write_to_path(str(self.directory / "cert.pem"))
        cert.private_key_pem.write_to_path(str(self.directory / "key.pem"))
        text = PROXY.read_text()
        for old, new in [
            (f"server 127.0.0.1:{StreamConfig().port};", f"server 127.0.0.1:{stream_port};"),
            (f"server 127.0.0.1:{HttpConfig().port};", f"server 127.0.0.1:{http_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{self.https_port} ssl;"),
            ("listen [::]:443 ssl;", ""),
            ("listen 80;", f"listen 127.0.0.1:{self.plain_port};"),
            ("listen [::]:80;", ""),
            ("/etc/ssl/relay/fullchain.pem", str(self.directory / "cert.pem")),
            ("/etc/ssl/relay/privkey.pem", str(self.directory / "key.pem")),
            ("/var/log/nginx/relay.access.log", str(self.directory / "access.log")),
        ]:
            assert 1 == text.count(old), old
            text = text.replace(old, new)
        return text

    def main_config(self, site: str) -> Path:
        self.directory.chmod(0o755)  # nginx's workers may run as another user
        (self.directory / "site.conf").write_text(site)
        temp = " ".join(f"{kind}_temp_path {self.directory / kind};"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        main = self.directory / "nginx.conf"
        main.write_text(f"daemon off;\nworker_processes 1;\npid {self.directory / 'nginx.pid'};\n"
                        f"error_log {self.directory / 'error.log'} warn;\n"
                        f"events {{ worker_connections 256; }}\n"
                        f"http {{ {temp} include {self.directory / 'site.conf'}; }}\n")
        return main

    def command(self, nginx: str, main: Path) -> list[str]:
        return [nginx, "-c", str(main), "-p", str(self.directory), "-e", str(self.directory / "error.log")]

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.authority.configure_trust(context)
        return context

    async def status(self, path: str, *, plain: bool = False) -> tuple[int, str]:
        """The status of GET path, sent byte for byte (no client library normalises it)."""
        port = self.plain_port if plain else self.https_port
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=None if plain else self.client_context(),
            server_hostname=None if plain else "127.0.0.1")
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: relay.example.org\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            head = (await asyncio.wait_for(reader.read(), TIMEOUT)).decode(errors="replace")
        finally:
            writer.close()
        return int(head.split()[1]), head


@contextlib.asynccontextmanager
async def running_proxy(nginx: str, directory: Path, stream_port: int, http_port: int):
    proxy = Proxy(directory)
    main = proxy.main_config(proxy.site(stream_port, http_port))
    with open(directory / "nginx.out", "wb") as output:
        process = subprocess.Popen(proxy.command(nginx, main), stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", proxy.https_port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("nginx did not start: "
                                     + (directory / "nginx.out").read_text(errors="replace")
                                     + (directory / "error.log").read_text(errors="replace"))
            await asyncio.sleep(0.05)
        yield proxy
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            await asyncio.to_thread(process.wait, TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_proxy_example_passes_nginx_t(tmp_path):
    """nginx itself accepts the file as written (only its ports and files changed for
    this machine), without a warning."""
    nginx = tool("nginx")
    if nginx is None:  # .ci/run fetches nginx; here the file's syntax and structure are the check
        check_proxy_structure(PROXY.read_text())
        return
    proxy = Proxy(tmp_path)
    main = proxy.main_config(proxy.site(StreamConfig().port, HttpConfig().port))
    result = subprocess.run([*proxy.command(nginx, main), "-t"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert 0 == result.returncode, result.stderr
    assert [] == [line for line in result.stderr.splitlines() if "[warn]" in line or "[emerg]" in line]


async def test_the_proxy_example_in_front_of_a_relay(dsn, relay, tmp_path):
    """Through nginx with TLS: the stream upgrades, authenticates and acknowledges a
    publish; the API and the probes answer; /metrics is not found however it is spelt,
    although the relay itself serves it; a body over the relay's limit gets the relay's
    own JSON error; plain HTTP is redirected to HTTPS."""
    nginx = tool("nginx")
    if nginx is None:  # .ci/run fetches nginx; here the file's structure is the check
        check_proxy_structure(PROXY.read_text())
        return
    _, token = await create_unit(dsn, unique_unit("TG"), country="TG")
    async with running_proxy(nginx, tmp_path, relay.stream_port, relay.http_port) as proxy:
        async with connect(f"wss://127.0.0.1:{proxy.https_port}/v1/stream", ssl=proxy.client_context(),
                           subprotocols=["relay.v1.json"], open_timeout=TIMEOUT,
                           additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            await ws.send(json.dumps({"type": "publish", "id": "via-proxy-1",
                                      "alert": seizure_alert(distribution={"countries": ["TG"]})}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        hidden = [(await proxy.status(path))[0] for path in ("/metrics", "//metrics", "/%6Detrics",
                                                              "/metrics?x=1")]
        probes = [(await proxy.status(path))[0] for path in ("/healthz", "/readyz")]
        redirect, head = await proxy.status("/v1/alerts", plain=True)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            base = f"https://127.0.0.1:{proxy.https_port}"
            async with http.get(f"{base}/v1/alerts", ssl=proxy.client_context()) as response:
                history = response.status, await response.json()
            async with http.post(f"{base}/v1/alerts", ssl=proxy.client_context(),
                                 data=b"{" + b" " * 200_000 + b"}",
                                 headers={"Idempotency-Key": "too-big", "Content-Type": "application/json"}) as response:
                too_big = response.status, await response.json()
            async with http.get(f"{relay.http}/metrics") as response:
                direct_metrics = response.status
    assert ("welcome", "ack") == (welcome["type"], ack["type"])
    assert [404, 404, 404, 404] == hidden
    assert 200 == direct_metrics
    assert [200, 200] == probes
    assert (301, "location: https://relay.example.org/v1/alerts") == (
        redirect, next(line for line in head.lower().splitlines() if line.startswith("location:")).strip())
    assert 200 == history[0] and "alerts" in history[1]
    assert (413, "error") == (too_big[0], too_big[1]["type"])
