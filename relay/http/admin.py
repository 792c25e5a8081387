"""The admin HTTP API (admin.md "HTTP"): units and tokens under ``/v1/admin/``, role ``admin``.

Each handler checks the role, reads and checks the JSON body, and runs one function of
:mod:`relay.store.admin` (the same as the ``relay`` command), which records the action in
the access log in its own transaction.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from relay.contract.errors import BadFrame
from relay.contract.problems import Problem
from relay.contract.roles import Action
from relay.contract.wire import json_value
from relay.http.body import read_body
from relay.http.middleware import require_role
from relay.http.services import SERVICES
from relay.store import admin, federation

__all__ = ["add_admin_routes"]

# field -> (its kind, whether null is allowed)
_UNIT_FIELDS = {"unit_id": ("string", False), "country": ("string", False),
                "airport": ("string", True), "name": ("string", False), "roles": ("list", False),
                "label": ("string", False)}
_PATCH_FIELDS = {"roles": ("list", False), "name": ("string", False), "airport": ("string", False),
                 "suspended": ("boolean", False)}
_TOKEN_FIELDS = {"label": ("string", False), "expires_in_days": ("integer", True)}


def _wrong_kind(key: str, kind: str) -> Problem:
    match kind:
        case "string":
            return Problem(key, "not_a_string")
        case "list":
            return Problem(key, "not_a_list")
        case "boolean":
            return Problem(key, "not_a_boolean")
        case _:
            return Problem(key, "not_an_integer")


def _is(value: object, kind: str) -> bool:
    match kind:
        case "string":
            return isinstance(value, str)
        case "list":
            return isinstance(value, list) and all(isinstance(item, str) for item in value)
        case "boolean":
            return isinstance(value, bool)
        case _:
            return isinstance(value, int) and not isinstance(value, bool)


def _actor(request: web.Request) -> admin.Actor:
    principal = require_role(request, Action.ADMINISTER)
    return admin.Actor(principal.unit.unit_id, request.method, request.path, principal.token_id)


async def _body(request: web.Request, fields: dict[str, tuple[str, bool]],
                required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object of the body, each field of the expected kind; else 400 naming each."""
    data = await read_body(request, request.app[SERVICES].config.body_timeout)
    try:
        body = json_value(data) if data else {}
    except ValueError:
        raise BadFrame("the body is not JSON", [Problem("body", "not_json_object")]) from None
    if not isinstance(body, dict):
        raise BadFrame("the body must be a JSON object", [Problem("body", "not_json_object")])
    problems = [Problem(key, "unknown_field") for key in body if key not in fields]
    problems += [Problem(key, "required") for key in required if key not in body]
    for key, (kind, nullable) in fields.items():
        if key in body and not (body[key] is None and nullable) and not _is(body[key], kind):
            problems.append(_wrong_kind(key, kind))
    if problems:
        raise BadFrame("the body has problems", problems)
    return body


async def _connection_run(request: web.Request, what: str, work: Any, *, changes: bool = False) -> Any:
    """``work`` on a connection; a change records itself in the access log (with what it
    did), so the middleware does not record the request a second time."""
    result = await request.app[SERVICES].storage.administer(what, work)
    if changes:
        request["recorded"] = True
    return result


async def list_units(request: web.Request) -> web.Response:
    _actor(request)
    units = await _connection_run(request, "listing units", admin.list_units)
    remote = await _connection_run(request, "listing units", federation.remote_units)
    return web.json_response({"units": [info.as_dict() for info in units],
                              "remote_units": [{**unit.as_dict(), "relay": relay_id}
                                               for relay_id, unit in remote]})


async def add_unit(request: web.Request) -> web.Response:
    actor = _actor(request)
    body = await _body(request, _UNIT_FIELDS, required=("unit_id", "country", "roles"))

    async def work(conn: Any) -> tuple[admin.UnitInfo, admin.IssuedToken]:
        return await admin.add_unit(conn, actor, body["unit_id"], country=body["country"],
                                    airport=body.get("airport"), name=body.get("name", ""),
                                    roles=body["roles"], label=body.get("label", ""))
    info, issued = await _connection_run(request, "adding a unit", work, changes=True)
    return web.json_response({"unit": info.as_dict(), "token": issued.token,
                              "token_id": issued.info.token_id}, status=201,
                             headers={"Cache-Control": "no-store"})


async def get_unit(request: web.Request) -> web.Response:
    _actor(request)
    unit_id = request.match_info["unit_id"]

    async def work(conn: Any) -> admin.UnitInfo:
        return await admin.get_unit(conn, unit_id)
    info = await _connection_run(request, "reading a unit", work)
    return web.json_response({"unit": info.as_dict()})


async def patch_unit(request: web.Request) -> web.Response:
    actor = _actor(request)
    unit_id = request.match_info["unit_id"]
    body = await _body(request, _PATCH_FIELDS)

    changed = False

    async def work(conn: Any) -> admin.UnitInfo:
        nonlocal changed
        async with conn.transaction():
            info = await admin.get_unit(conn, unit_id)
            if body.get("suspended") is True and info.unit.revoked_at is None:
                await admin.suspend_unit(conn, actor, unit_id)
                changed = True
            elif body.get("suspended") is False and info.unit.revoked_at is not None:
                await admin.reinstate_unit(conn, actor, unit_id)
                changed = True
            change = admin.UnitChange(roles=body.get("roles"), name=body.get("name"),
                                      airport=body.get("airport"))
            if change != admin.UnitChange():
                changed = True
                return await admin.change_unit(conn, actor, unit_id, change)
            return await admin.get_unit(conn, unit_id)
    info = await _connection_run(request, "changing a unit", work)
    # A change records itself; a PATCH that changed nothing is recorded by the middleware.
    request["recorded"] = changed
    return web.json_response({"unit": info.as_dict()})


async def list_tokens(request: web.Request) -> web.Response:
    _actor(request)
    unit_id = request.match_info["unit_id"]

    async def work(conn: Any) -> list[admin.TokenInfo]:
        return await admin.list_tokens(conn, unit_id)
    tokens = await _connection_run(request, "listing tokens", work)
    return web.json_response({"tokens": [token.as_dict() for token in tokens]})


async def issue_token(request: web.Request) -> web.Response:
    actor = _actor(request)
    unit_id = request.match_info["unit_id"]
    body = await _body(request, _TOKEN_FIELDS)

    async def work(conn: Any) -> admin.IssuedToken:
        return await admin.issue_token(conn, actor, unit_id, label=body.get("label", ""),
                                       expires_in_days=body.get("expires_in_days"))
    issued = await _connection_run(request, "issuing a token", work, changes=True)
    return web.json_response({"token": issued.token, "token_id": issued.info.token_id,
                              **{"token_info": issued.info.as_dict()}}, status=201,
                             headers={"Cache-Control": "no-store"})


async def revoke_token(request: web.Request) -> web.Response:
    actor = _actor(request)
    token_id = request.match_info["token_id"]

    async def work(conn: Any) -> admin.TokenInfo:
        return await admin.revoke_token(conn, actor, token_id)
    await _connection_run(request, "revoking a token", work, changes=True)
    return web.Response(status=204)


def add_admin_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/v1/admin/units", list_units)
    router.add_post("/v1/admin/units", add_unit)
    router.add_get("/v1/admin/units/{unit_id}", get_unit)
    router.add_patch("/v1/admin/units/{unit_id}", patch_unit)
    router.add_get("/v1/admin/units/{unit_id}/tokens", list_tokens)
    router.add_post("/v1/admin/units/{unit_id}/tokens", issue_token)
    router.add_delete("/v1/admin/tokens/{token_id}", revoke_token)
