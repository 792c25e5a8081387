"""``GET /v1/federation/peers``: the peer relays and the health of each link (roles
``admin`` and ``audit``; docs/federation.md "Seeing a link's health")."""

from __future__ import annotations

from aiohttp import web

from relay.contract.errors import InvalidQuery
from relay.contract.problems import Problem
from relay.contract.roles import Action
from relay.http.middleware import json_response, require_role
from relay.http.services import SERVICES

__all__ = ["peers"]


async def peers(request: web.Request) -> web.Response:
    """Each peer this relay grants (its scope) or pulls from (its link's state, cursor,
    last event applied and lag), by id."""
    services = request.app[SERVICES]
    require_role(request, Action.OBSERVE_FEDERATION)
    if request.query:
        raise InvalidQuery("this endpoint takes no parameters",
                           [Problem(key, "unknown_parameter") for key in sorted(request.query)])
    statuses = await services.storage.peer_statuses()
    request["rows"] = len(statuses)
    return json_response({"relay_id": services.relay_id,
                          "peers": [status.as_dict() for status in statuses]})
