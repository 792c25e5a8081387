"""Relays federated in tests: each relay its own process and database, links between them.

:func:`build_federation` grants every pair both ways (each relay's operator runs ``relay
peers add`` through the relay's own module), writes each link's token file and
configuration, and starts the relays. Links can be routed through a :class:`CuttingProxy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from relay.store.federation import grant_peer
from tests.proxy import CuttingProxy
from tests.support import SETUP, TIMEOUT, RelayProcess, create_unit, replay_since

__all__ = ["FederatedRelay", "Federation", "build_federation", "grant_to_file", "read_replay",
           "wait_for"]

FAST = """
[limits]
revocation_check_seconds = 1.0
[federation]
position_seconds = 0.2
directory_seconds = 0.5
reconnect_max_seconds = 2.0
"""


@dataclass
class FederatedRelay:
    relay_id: str
    country: str
    dsn: str
    process: RelayProcess
    units: dict[str, str] = field(default_factory=dict)  # unit id -> token
    proxies: dict[str, CuttingProxy] = field(default_factory=dict)  # by the peer pulled from

    async def add_unit(self, unit_id: str, roles: str = "publish,subscribe",
                       country: str | None = None) -> str:
        _, token = await create_unit(self.dsn, unit_id, country=country or self.country, roles=roles)
        self.units[unit_id] = token
        return token


@dataclass
class Federation:
    relays: dict[str, FederatedRelay]

    def __getitem__(self, relay_id: str) -> FederatedRelay:
        return self.relays[relay_id]


async def _grant(dsn: str, peer_id: str, countries: Sequence[str]) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return (await grant_peer(conn, SETUP, peer_id, countries)).token
    finally:
        await conn.close()


async def grant_to_file(dsn: str, peer_id: str, countries: Sequence[str], token_file: Path) -> Path:
    """The relay of ``dsn`` grants ``peer_id``; its token written where the peer's link reads it."""
    token = await _grant(dsn, peer_id, countries)
    token_file.write_text(token + "\n")  # noqa: ASYNC240 - a few bytes, in a test
    return token_file


@contextlib.asynccontextmanager
async def build_federation(
    dsns: Mapping[str, str], workdir: Path, *, countries: Mapping[str, str],
    grants: Mapping[tuple[str, str], Sequence[str]] | None = None,
    regions: str = "", proxied: bool = False, proxy_bytes: tuple[int, int] = (2_000, 30_000),
    extra_config: str = "",
) -> AsyncIterator[Federation]:
    """Relays named by ``dsns`` (relay id -> database), each linked to every other.

    ``grants[(granter, peer)]`` is the scope ``granter`` gives ``peer`` (default: the
    peer's own country). With ``proxied``, each link goes through a cutting proxy.
    """
    ids = list(dsns)
    relays = {rid: FederatedRelay(rid, countries[rid], dsns[rid],
                                  RelayProcess(dsns[rid], workdir / rid.lower())) for rid in ids}
    proxies: list[CuttingProxy] = []
    for rid, relay in relays.items():
        links = []
        for peer in ids:
            if peer == rid:
                continue
            scope = (grants or {}).get((peer, rid), [countries[rid]])
            token = await _grant(dsns[peer], rid, scope)
            token_file = workdir / f"{rid.lower()}-pulls-{peer.lower()}.token"
            token_file.write_text(token + "\n")
            port = relays[peer].process.stream_port
            if proxied:
                proxy = CuttingProxy(port, min_bytes=proxy_bytes[0], max_bytes=proxy_bytes[1],
                                     seed=zlib.crc32(f"{rid}<-{peer}".encode()))
                await proxy.start()
                proxies.append(proxy)
                relay.proxies[peer] = proxy
                port = proxy.port
            links.append(f'[[federation.peers]]\nid = "{peer}"\n'
                         f'url = "ws://127.0.0.1:{port}/v1/stream"\ntoken_file = "{token_file}"\n')
        relay.process.config_text = (f'[relay]\nid = "{rid}"\n{FAST}{extra_config}\n'
                                     f'{regions}\n' + "".join(links))
    try:
        await asyncio.gather(*(relay.process.start() for relay in relays.values()))
        yield Federation(relays)
    except BaseException:
        for rid, relay in relays.items():  # what each relay said, for the failure's report
            print(f"--- relay {rid} log ---\n{relay.process.log()}")
        raise
    finally:
        await asyncio.gather(*(relay.process.stop() for relay in relays.values()),
                             return_exceptions=True)
        for proxy in proxies:
            await proxy.stop()


async def read_replay(relay: FederatedRelay, unit_id: str, since: int = 0) -> list[dict[str, Any]]:
    """Every event the unit may see after ``since``, by replay, up to caught_up."""
    return await replay_since(relay.process, relay.units[unit_id], since)


async def wait_for(check: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``check`` (sync or async) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.1)
