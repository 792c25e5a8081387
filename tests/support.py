"""Test helpers: a real relay process, a real stream client, unit creation.

Nothing here mocks the relay or the database: relays run as ``python -m relay serve``
subprocesses against the embedded PostgreSQL, and clients speak the wire protocol over
real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgpack
import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

from relay import protection
from relay.protection.keyring import Keyring
from relay.store.admin import Actor, add_unit

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = float(os.environ.get("RELAY_TEST_TIMEOUT", "10"))
_unit_numbers = itertools.count(1)

# One protection key file for the whole run (docs/protection.md "At rest"): every relay and
# command the tests start inherits it through RELAY_PROTECTION_KEY_FILE, so several relay
# processes on one database read each other's alerts, as an operator's would with a shared
# key file; the test process installs it too, for the store functions the tests call.
# A test about keys sets its own RELAY_PROTECTION_KEY_FILE in the environment it passes.
TEST_KEY_FILE = Path(tempfile.gettempdir()) / f"relay-test-keys-{os.getpid()}" / "protection.key"
os.environ.setdefault("RELAY_PROTECTION_KEY_FILE", str(TEST_KEY_FILE))
protection.install(Keyring.open_or_create(Path(os.environ["RELAY_PROTECTION_KEY_FILE"]))[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_unit(prefix: str = "T") -> str:
    """A unit id unique in this test run (the database outlives a single test)."""
    return f"{prefix}-{os.getpid() % 10000}-{next(_unit_numbers)}"


def run_relay(*args: str, dsn: str | None = None, env: dict[str, str] | None = None,
              stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The ``relay`` command, run as an operator would, against ``dsn``."""
    environment = dict(os.environ)
    if dsn:
        environment["RELAY_DATABASE_URL"] = dsn
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "relay", *args], env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, input=stdin, check=False)


SETUP = Actor("cli:tests", "CLI", "tests/support.py")  # who the tests' own unit changes are by


async def create_unit(dsn: str, unit_id: str | None = None, *, country: str = "ML",
                      airport: str | None = None, roles: str = "publish,subscribe") -> tuple[str, str]:
    """Add a unit through the relay's own unit module; return (unit_id, token)."""
    unit_id = unit_id or unique_unit()
    conn = await asyncpg.connect(dsn)
    try:
        _, issued = await add_unit(conn, SETUP, unit_id, country=country, airport=airport,
                                   name="test", roles=roles.split(","))
    finally:
        await conn.close()
    return unit_id, issued.token


@dataclass
class RelayProcess:
    """``relay serve`` in a subprocess on free ports, against ``dsn``."""

    dsn: str
    workdir: Path
    config_text: str = ""
    stream_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    file_limit: int | None = None  # RLIMIT_NOFILE of the relay process, soft and hard
    http_tls: bool = False  # the configuration gives the HTTP port a certificate

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.stream_port}/v1/stream"

    @property
    def http(self) -> str:
        return f"{'https' if self.http_tls else 'http'}://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"relay-{self.stream_port}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "RELAY_DATABASE_URL": self.dsn,
            "RELAY_STREAM_PORT": str(self.stream_port),
            "RELAY_HTTP_PORT": str(self.http_port),
            "RELAY_DATA_DIR": str(self.workdir / "data"),
            "RELAY_LOG_FORMAT": "json",
            "RELAY_LIMITS_REVOCATION_CHECK_SECONDS": "1",
        })
        return env

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "relay", "serve"]
        if self.config_text:
            config = self.workdir / f"relay-{self.stream_port}.toml"
            config.write_text(self.config_text)
            args += ["--config", str(config)]
        log = open(self.log_path, "ab")
        limit = self.file_limit

        def limit_files() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        self.process = subprocess.Popen(args, env=self.env(), stdout=log, stderr=log, cwd=ROOT,
                                        preexec_fn=limit_files if limit is not None else None)
        log.close()
        self.starts += 1
        await self.wait_ready()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"relay exited with {self.process.returncode}:\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.http}/readyz", ssl=not self.http_tls) as response:  # readiness only
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise TimeoutError(f"relay not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    async def log_lines(self, until: Any, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """The relay's JSON log lines, once one of them satisfies ``until``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            lines = [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]
            if any(until(line) for line in lines):
                return lines
            if time.monotonic() > deadline:
                raise TimeoutError(f"no such log line after {timeout} s:\n{text[-2000:]}")
            await asyncio.sleep(0.05)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError("relay did not exit")
            await asyncio.sleep(0.02)
        return self.process.returncode

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait_exit()

    async def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.signal(signal.SIGTERM)
        return await self.wait_exit()


def encode(encoding: str, frame: dict[str, Any]) -> str | bytes:
    if encoding == "relay.v1.json":
        return orjson.dumps(frame).decode()
    return msgpack.packb(frame, use_bin_type=True)


def decode(encoding: str, data: str | bytes) -> dict[str, Any]:
    if encoding == "relay.v1.json":
        assert isinstance(data, str), "relay.v1.json frames must be text"
        return orjson.loads(data)
    assert isinstance(data, bytes), "relay.v1.msgpack frames must be binary"
    return msgpack.unpackb(data, raw=False)


class StreamClient:
    """A test client of the stream: raw frames in, decoded maps out."""

    def __init__(self, ws: ClientConnection, encoding: str) -> None:
        self.ws = ws
        self.encoding = encoding
        self.welcome: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self.pending: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(encode(self.encoding, frame))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        return decode(self.encoding, await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_until(self, predicate: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first frame matching ``predicate``; others are kept for later ``recv``."""
        skipped: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                frame = await self.recv(max(0.01, deadline - time.monotonic()))
                if predicate(frame):
                    return frame
                skipped.append(frame)
        finally:
            self.pending[:0] = skipped

    def next_id(self, prefix: str = "f") -> str:
        return f"{prefix}-{next(self._ids)}-{time.monotonic_ns()}"

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame with an id; return the ack/subscribed/error echoing it."""
        frame.setdefault("id", self.next_id())
        await self.send(frame)
        return await self.recv_until(lambda f: f.get("id") == frame["id"])

    async def publish(self, alert: dict[str, Any], ident: str | None = None) -> dict[str, Any]:
        return await self.request({"type": "publish", "id": ident or self.next_id("p"),
                                   "alert": alert})

    async def subscribe(self, since: int | None = None,
                        filter: dict[str, Any] | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "subscribe"}
        if since is not None:
            frame["since"] = since
        if filter is not None:
            frame["filter"] = filter
        return await self.request(frame)

    async def events(self, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """The next ``count`` alert/receipt frames (other frames are skipped)."""
        found = []
        while len(found) < count:
            found.append(await self.recv_until(lambda f: f["type"] in ("alert", "receipt"),
                                               timeout))
        return found

    async def no_event(self, wait: float = 0.3) -> None:
        """Assert that no event frame arrives within ``wait`` seconds."""
        with contextlib.suppress(TimeoutError):
            frame = await self.recv_until(lambda f: f["type"] in ("alert", "receipt"), wait)
            raise AssertionError(f"unexpected event: {frame}")

    async def close(self) -> None:
        await self.ws.close()


async def replay_since(relay: RelayProcess, token: str, since: int) -> list[dict[str, Any]]:
    """Every event the token's unit may see after ``since``, in one replay, up to caught_up."""
    async with stream_client(relay, token) as client:
        await client.subscribe(since=since)
        events = []
        while True:
            frame = await client.recv()
            if frame["type"] == "caught_up":
                return events
            if frame["type"] in ("alert", "receipt"):
                events.append(frame)


@contextlib.asynccontextmanager
async def stream_client(relay: RelayProcess, token: str, *, encoding: str = "relay.v1.json",
                        header_auth: bool = True) -> AsyncIterator[StreamClient]:
    """A connected, authenticated client that has read its welcome frame."""
    headers = {"Authorization": f"Bearer {token}"} if header_auth else None
    async with connect(relay.url, subprotocols=[encoding], additional_headers=headers,
                       max_size=2**22, open_timeout=TIMEOUT) as ws:
        client = StreamClient(ws, encoding)
        if not header_auth:
            await client.send({"type": "auth", "token": token})
        client.welcome = await client.recv()
        assert client.welcome["type"] == "welcome", client.welcome
        yield client


__all__ = [
    "ROOT",
    "SETUP",
    "TIMEOUT",
    "RelayProcess",
    "StreamClient",
    "create_unit",
    "decode",
    "encode",
    "free_port",
    "replay_since",
    "run_relay",
    "stream_client",
    "unique_unit",
    "websockets",
]
