"""The HTTP server (aiohttp): ``/healthz``, ``/readyz`` and ``/metrics``.

The audit and alert endpoints of the contract come in a later change.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from relay.eventlog import read_head
from relay.runtime import Runtime

__all__ = ["RUNTIME_KEY", "build_http_app"]

RUNTIME_KEY = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers (within two seconds)."""
    runtime = request.app[RUNTIME_KEY]
    try:
        head = await asyncio.wait_for(read_head(runtime.pool), 2.0)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return web.json_response(
            {"status": "unavailable", "reason": f"database unreachable ({type(exc).__name__})"},
            status=503,
        )
    return web.json_response({"status": "ready", "head": head, "hub_head": runtime.hub.head})


async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    return web.Response(body=runtime.metrics.render(),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


def build_http_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=1_048_576)
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
