"""What every HTTP request goes through: bearer authentication, the error object, and
the access log of auditors.

Errors are the contract's error object (``{"type":"error","code","message","details"}``)
with the status of their code. Query parameters are single-valued text without NUL
(PostgreSQL text cannot hold U+0000); anything else is ``invalid_query``. Requests of a
unit with role ``audit``, and every export, are recorded in ``relay_access_log`` after
they are answered, with the number of rows and what the handler adds: for a hold or a
re-identification the reason it gave (``request["reason"]``), for a hold the alert
(``request["target"]``) and, once placed, ``request["action"]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from aiohttp import web

from relay.console import is_public_path
from relay.contract.errors import (
    InvalidQuery,
    NotFound,
    RelayError,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from relay.contract.problems import Problem
from relay.contract.roles import Action, allows, require
from relay.core.principals import Principal
from relay.http.body import read_body
from relay.http.services import SERVICES, HttpServices
from relay.store.access_log import storable

__all__ = [
    "api_middleware",
    "error_response",
    "is_storable",
    "json_response",
    "principal_of",
    "require_role",
]

_PUBLIC = {"/healthz", "/readyz", "/metrics", "/v1/openapi.json"}
# Requests to these are recorded whoever sends them, refusals included: an export or an
# admin action attempted by a unit without the role is something an auditor must see.
# So are holds and re-identifications (protection.md): "every request, granted or refused".
_RECORDED_PATHS = ("/v1/audit/", "/v1/admin/", "/v1/federation/", "/v1/protection/")
_log = structlog.get_logger("relay.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(exc: RelayError) -> web.Response:
    response = json_response(exc.body(), exc.status)
    if exc.code == "unauthorized":
        response.headers["WWW-Authenticate"] = 'Bearer realm="relay"'
    if exc.retriable:
        response.headers["Retry-After"] = "1"
    return response


def is_storable(text: str) -> bool:
    """True if PostgreSQL can store ``text``: no NUL, and no lone surrogate (which an
    undecodable header byte becomes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_query(request: web.Request) -> None:
    """Each query parameter at most once (which one would count is ambiguous), as text that
    can be stored and searched; else InvalidQuery naming each parameter."""
    problems: list[Problem] = []
    for key in dict.fromkeys(request.query):
        values = request.query.getall(key)
        if len(values) > 1:
            problems.append(Problem(storable(key), "repeated"))
        elif not (is_storable(key) and is_storable(values[0])):
            problems.append(Problem(storable(key), "nul_character"))
    if problems:
        raise InvalidQuery(f"the query has {len(problems)} problem(s)", problems)


def _method_not_allowed(error: web.HTTPException) -> web.Response:
    allowed = ", ".join(sorted(getattr(error, "allowed_methods", ())))
    response = json_response({"type": "error", "code": "method_not_allowed",
                              "message": f"use {allowed}", "details": []}, 405)
    response.headers["Allow"] = allowed
    return response


def principal_of(request: web.Request) -> Principal:
    principal: Principal = request["principal"]
    return principal


def require_role(request: web.Request, action: Action) -> Principal:
    """The caller, if its roles allow ``action``; else 403."""
    principal = principal_of(request)
    require(principal.unit.unit_id, principal.unit.roles, action)
    return principal


async def _authenticate(request: web.Request, services: HttpServices) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    principal = await services.storage.authenticate(token.strip())
    if principal is None:
        _log.info("auth_refused", how="http", client=request.remote or "local", path=request.path[:200])
        raise Unauthorized("invalid or revoked token")
    return principal


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, translate errors, record auditors' requests."""
    if request.path in _PUBLIC or is_public_path(request.path):
        return await handler(request)
    route_error = request.match_info.http_exception
    if route_error is not None:
        # No such path (404) or method (405): said before asking for a token, since
        # there is nothing behind it to protect.
        return error_response(NotFound(f"no resource at {request.path[:200]}")) \
            if route_error.status == 404 else _method_not_allowed(route_error)
    services = request.app[SERVICES]
    principal: Principal | None = None
    try:
        principal = await _authenticate(request, services)
        if request.body_exists:
            # The body may take up to http.body_timeout to arrive: the token is checked
            # again once it is here, so that a request begun before a revocation does not
            # act after it.
            await read_body(request, services.config.body_timeout)
            principal = await _authenticate(request, services)
        request["principal"] = principal
        _check_query(request)
        response = await handler(request)
    except RelayError as exc:
        response = error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        response = error_response(TooLarge("the request body is over the maximum"))
    except web.HTTPNotFound:
        response = error_response(NotFound(f"no resource at {request.path}"))
    except web.HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - a defect: answer, log type and place only
        _log.error("request_failed", error=type(exc).__name__, path=request.path)
        response = error_response(Unavailable("the relay could not answer; retry later"))
    if response.status >= 400:
        services.metrics.http_errors.labels(status=str(response.status)).inc()
    if principal is not None and not request.get("recorded") and (
            allows(principal.unit.roles, Action.AUDIT) or _always_recorded(request.path)):
        recorded = await _record_access(services, principal, request, response.status)
        if not recorded and not response.prepared:
            # An auditor's request that cannot be recorded is not answered.
            return error_response(Unavailable("the access log is unavailable; retry later"))
    return response


def _always_recorded(path: str) -> bool:
    return path.startswith(_RECORDED_PATHS) or (
        path.startswith("/v1/alerts/") and path.endswith("/reidentify"))


async def _record_access(services: HttpServices, principal: Principal, request: web.Request,
                         status: int) -> bool:
    try:
        await services.storage.record_access(
            unit_id=principal.unit.unit_id, method=request.method, path=request.path,
            query=request.query, rows=request.get("rows"), status=status,
            action=request.get("action"), target=request.get("target"),
            reason=request.get("reason"))
    except Exception as exc:  # noqa: BLE001 - the caller decides what to answer
        _log.error("access_log_failed", error=type(exc).__name__, unit=principal.unit.unit_id)
        return False
    return True
