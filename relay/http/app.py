"""The HTTP server (aiohttp): health, metrics, the alerts API, the audit API, OpenAPI.

Routes are declared here; handlers live in :mod:`relay.http_alerts` and
:mod:`relay.http_audit`; authentication, errors and the access log in
:mod:`relay.http_common`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from relay.config import HttpConfig
from relay.console import add_console_routes
from relay.core.admission import Admission
from relay.http import alerts as http_alerts
from relay.http import audit as http_audit
from relay.http import federation as http_federation
from relay.http import protection as http_protection
from relay.http.admin import add_admin_routes
from relay.http.guard import guarded
from relay.http.middleware import api_middleware, json_response
from relay.http.openapi import openapi_document
from relay.http.services import SERVICES, HttpServices
from relay.tls import server_tls

__all__ = ["MAX_BODY_BYTES", "HttpServer", "build_http_app", "start_http_server"]

MAX_BODY_BYTES = 131_072  # an alert is at most 64 KiB encoded; its JSON may be larger


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers (within two seconds)."""
    services = request.app[SERVICES]
    try:
        head = await services.storage.ready_head()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return web.json_response(
            {"status": "unavailable", "reason": f"database unreachable ({type(exc).__name__})"},
            status=503,
        )
    return web.json_response({"status": "ready", "head": head, "hub_head": services.hub.head})


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.Response(body=services.metrics.render(),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document(max_body_bytes=MAX_BODY_BYTES))


class HttpServer:
    """The HTTP port: aiohttp's runner behind the admission of :mod:`relay.http.guard`."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self._runner = runner
        self._server = server

    def stop_accepting(self) -> None:
        self._server.close()

    async def stop(self) -> None:
        """Stop accepting, then end the connections (aiohttp's graceful shutdown)."""
        self._server.close()
        await self._runner.cleanup()


async def start_http_server(config: HttpConfig, services: HttpServices) -> HttpServer:
    """Serve the API on ``config.host:config.port``. A connection that has not sent a
    request's headers within ``header_timeout`` (or stays idle that long between
    requests) is closed; one over ``max_connections`` in all or
    ``max_connections_per_address`` is closed at once. With ``tls_cert`` it is HTTPS."""
    runner = web.AppRunner(build_http_app(services), access_log=None,
                           keepalive_timeout=config.header_timeout)
    await runner.setup()
    admission = Admission(max_total=config.max_connections,
                          max_per_address=config.max_connections_per_address)
    refused = services.metrics.refused_connections.labels(server="http", limit="connections")
    assert runner.server is not None
    server = await asyncio.get_running_loop().create_server(
        guarded(runner.server, admission, refused.inc), config.host, config.port,
        reuse_address=True, ssl=server_tls(config.tls_cert, config.tls_key),
        ssl_handshake_timeout=config.header_timeout if config.tls_cert else None)
    return HttpServer(runner, server)


def build_http_app(services: HttpServices) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[api_middleware])
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/openapi.json", openapi)
    app.router.add_post("/v1/alerts", http_alerts.publish_alert)
    app.router.add_get("/v1/alerts", http_alerts.list_alerts)
    app.router.add_get("/v1/alerts/{alert_id}", http_alerts.get_alert)
    app.router.add_post("/v1/alerts/{alert_id}/reidentify", http_protection.reidentify)
    app.router.add_get("/v1/audit/export", http_audit.export)
    app.router.add_get("/v1/audit/verify", http_audit.verify)
    app.router.add_get("/v1/audit/access-log", http_audit.access_log)
    app.router.add_get("/v1/federation/peers", http_federation.peers)
    app.router.add_post("/v1/protection/holds", http_protection.place_hold)
    app.router.add_get("/v1/protection/holds", http_protection.list_holds)
    add_admin_routes(app)
    add_console_routes(app, services)
    return app
