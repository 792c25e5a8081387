"""A request's body, read within ``http.body_timeout``: a body that trickles in is a 400
naming it, not a connection held for ever."""

from __future__ import annotations

import asyncio

from aiohttp import web

from relay.contract.errors import BadFrame
from relay.contract.problems import Problem

__all__ = ["read_body"]


async def read_body(request: web.Request, timeout: float) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise BadFrame("the request body did not arrive in time",
                       [Problem("body", "too_slow", {"seconds": timeout})]) from None
