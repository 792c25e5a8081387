"""The console's routes on the HTTP port (console.md "Serving").

| path | token | what |
| --- | --- | --- |
| ``GET /`` | no | the console's page |
| ``GET /console/static/{file}`` | no | its scripts, styles, catalogues and icon |
| ``GET /console/sw.js`` | no | the service worker that keeps those files for offline use |
| ``GET /console/config.json`` | no | the stream's URL for this browser, the files' version |
| ``GET /console/reference.json`` | no | airports, countries, currencies, the model's choices |
| ``POST /console/problems`` | no | problem codes and params → sentences in French or English |
| ``GET /console/directory.json`` | yes (``publish``) | the units and regions a distribution may name |

The files are read from the package once, when the routes are added, and served from
memory with an ``ETag``; the service worker's script names their version, so a browser
picks up a new release at its next load. Every response on these paths carries the
headers of :func:`relay.console.policy.security_headers`.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final, Protocol

import orjson
from aiohttp import web

from relay import __version__
from relay.config import HttpConfig, StreamConfig
from relay.console.catalog import ProblemRequestError, reference_json, render_problems
from relay.console.policy import (
    DIRECTORY_PATH,
    is_console_path,
    security_headers,
    stream_url,
)
from relay.contract.roles import Action, require
from relay.core.principals import Principal
from relay.store import admin
from relay.store.storage import Storage

__all__ = ["STATIC_DIR", "ConsoleFiles", "ConsoleSources", "add_console_routes"]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}
_SERVICE_WORKER: Final = "sw.js"  # served at /console/sw.js, not under static/


class ConsoleSources(Protocol):
    """What the console's routes read of the relay's HTTP services."""

    @property
    def config(self) -> HttpConfig: ...
    @property
    def stream(self) -> StreamConfig: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def regions(self) -> Mapping[str, frozenset[str]]: ...


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    content_type: str
    etag: str


@dataclass(frozen=True, slots=True)
class ConsoleFiles:
    """The console's files, by their path under ``static/``, and their joint version."""

    files: Mapping[str, _File]
    version: str

    @classmethod
    def load(cls, root: Path = STATIC_DIR) -> ConsoleFiles:
        files: dict[str, _File] = {}
        # the reference lists the service worker keeps come from these packages
        sources = " ".join(f"{name}={metadata.version(name)}" for name in ("airportsdata", "pycountry"))
        digest = hashlib.sha256(f"{__version__} {sources}".encode())
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in _TYPES:
                continue
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            digest.update(name.encode() + b"\0" + body + b"\0")
            files[name] = _File(body, _TYPES[path.suffix],
                                f'"{hashlib.sha256(body).hexdigest()[:20]}"')
        return cls(files, digest.hexdigest()[:16])

    def precached(self) -> list[str]:
        """The URLs the service worker keeps: the page, every file, the reference lists."""
        names = [name for name in self.files if name not in ("index.html", _SERVICE_WORKER)]
        return ["/", "/console/reference.json", *(f"/console/static/{n}" for n in names)]


class _Reference:
    """The reference document and its gzip, built once, off the event loop, when first
    asked for (it takes a few hundred milliseconds)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._bodies: tuple[bytes, bytes] | None = None

    async def bodies(self) -> tuple[bytes, bytes]:
        async with self._lock:
            if self._bodies is None:
                self._bodies = await asyncio.get_running_loop().run_in_executor(None, _build_reference)
            return self._bodies


def _build_reference() -> tuple[bytes, bytes]:
    body = reference_json()
    return body, gzip.compress(body, 6, mtime=0)


@dataclass(frozen=True, slots=True)
class _Console:
    sources: ConsoleSources
    files: ConsoleFiles
    service_worker: bytes
    reference: _Reference
    version: str  # the files' and the stream settings': a cached page names its stream


_CONSOLE = web.AppKey("console", _Console)


def _error(status: int, code: str, message: str) -> web.Response:
    """The contract's error object (protocol.md "Errors")."""
    return web.Response(body=orjson.dumps({"type": "error", "code": code, "message": message,
                                           "details": []}),
                        status=status, content_type="application/json")


def _send(request: web.Request, file: _File, *, cache: str = "no-cache") -> web.Response:
    if request.headers.get("If-None-Match") == file.etag:
        return web.Response(status=304, headers={"ETag": file.etag, "Cache-Control": cache})
    return web.Response(body=file.body, headers={"Content-Type": file.content_type,
                                                 "ETag": file.etag, "Cache-Control": cache})


async def index(request: web.Request) -> web.Response:
    return _send(request, request.app[_CONSOLE].files.files["index.html"])


async def static_file(request: web.Request) -> web.Response:
    file = request.app[_CONSOLE].files.files.get(request.match_info["name"])
    if file is None or request.match_info["name"] == _SERVICE_WORKER:
        return _error(404, "not_found", f"no console file at {request.path[:200]}")
    return _send(request, file)


async def service_worker(request: web.Request) -> web.Response:
    console = request.app[_CONSOLE]
    response = web.Response(body=console.service_worker, headers={
        "Content-Type": _TYPES[".js"], "Cache-Control": "no-cache",
        # registered from /console/sw.js, it keeps the page at / too
        "Service-Worker-Allowed": "/"})
    return response


async def config_json(request: web.Request) -> web.Response:
    console = request.app[_CONSOLE]
    body = {"stream_url": stream_url(console.sources.stream, request.host),
            "version": console.version, "relay_version": __version__}
    return web.Response(body=orjson.dumps(body), content_type="application/json",
                        headers={"Cache-Control": "no-store"})


async def reference(request: web.Request) -> web.Response:
    body, packed = await request.app[_CONSOLE].reference.bodies()
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(body=packed, headers={
            "Content-Type": "application/json", "Content-Encoding": "gzip",
            "Vary": "Accept-Encoding", "Cache-Control": "no-cache"})
    return web.Response(body=body, headers={"Content-Type": "application/json",
                                            "Vary": "Accept-Encoding", "Cache-Control": "no-cache"})


async def problems(request: web.Request) -> web.Response:
    """POST /console/problems: ``{"language": "fr", "problems": [{"code", "params"}]}`` →
    ``{"sentences": [...]}``, one sentence (or null) per problem, in order."""
    console = request.app[_CONSOLE]
    try:
        async with asyncio.timeout(console.sources.config.body_timeout):
            data = await request.read()
    except TimeoutError:
        return _error(400, "bad_frame", "the body did not arrive in time")
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large", "the body is over the maximum")
    try:
        sentences = render_problems(orjson.loads(data))
    except orjson.JSONDecodeError:
        return _error(400, "bad_frame", "the body is not JSON")
    except ProblemRequestError as exc:
        return _error(400, "bad_frame", str(exc))
    return web.Response(body=orjson.dumps({"sentences": sentences}),
                        content_type="application/json")


async def directory(request: web.Request) -> web.Response:
    """GET /console/directory.json (role ``publish``): the active units (id, country,
    airport, name; not their roles) and the configured regions, for the alert form's
    distribution. The API's middleware has authenticated the request."""
    console = request.app[_CONSOLE]
    principal: Principal = request["principal"]
    require(principal.unit.unit_id, principal.unit.roles, Action.PUBLISH)
    units = await console.sources.storage.administer("listing units", admin.list_units)
    request["rows"] = len(units)
    body = {
        "units": [{"unit_id": info.unit.unit_id, "country": info.unit.country,
                   "airport": info.unit.airport, "name": info.unit.name}
                  for info in units if info.unit.revoked_at is None],
        "regions": {name: sorted(countries) for name, countries in sorted(console.sources.regions.items())},
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json",
                        headers={"Cache-Control": "no-store"})


async def _add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if is_console_path(request.path):
        console = request.app[_CONSOLE]
        response.headers.update(security_headers(stream_url(console.sources.stream, request.host)))


def _version(files: ConsoleFiles, stream: StreamConfig) -> str:
    """The files' version, changed too when the stream's address may have: the page a
    service worker keeps carries a CSP naming the stream, so a new address must make
    browsers fetch the page again."""
    settings = f"{stream.public_url} {stream.host} {stream.port} {bool(stream.tls_cert)}"
    return hashlib.sha256(f"{files.version} {settings}".encode()).hexdigest()[:16]


def _service_worker_script(files: ConsoleFiles, version: str) -> bytes:
    """``static/sw.js`` with the console's version and the list of what it keeps."""
    template = files.files[_SERVICE_WORKER].body
    return (template.replace(b'"__VERSION__"', orjson.dumps(version))
            .replace(b'["__PRECACHED__"]', orjson.dumps(files.precached())))


def add_console_routes(app: web.Application, sources: ConsoleSources) -> None:
    """Serve the console from ``app`` (the API's application)."""
    files = ConsoleFiles.load()
    version = _version(files, sources.stream)
    app[_CONSOLE] = _Console(sources, files, _service_worker_script(files, version), _Reference(),
                             version)
    router = app.router
    router.add_get("/", index)
    router.add_get("/console/static/{name:.+}", static_file)
    router.add_get("/console/sw.js", service_worker)
    router.add_get("/console/config.json", config_json)
    router.add_get("/console/reference.json", reference)
    router.add_post("/console/problems", problems)
    router.add_get(DIRECTORY_PATH, directory)
    app.on_response_prepare.append(_add_security_headers)
