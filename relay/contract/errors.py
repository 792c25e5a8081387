"""The one error tree of the relay; every error a client sees maps to a contract code.

::

    RelayError                      code            HTTP  (message, details, retriable)
    ├── BadFrame                    bad_frame       400   not decodable, not a map, no type
    ├── UnknownType                 unknown_type    400
    ├── InvalidAlert                invalid_alert   400   details name every problem
    ├── InvalidFilter               invalid_filter  400
    ├── InvalidQuery                invalid_query   400   HTTP query parameters (an addition)
    ├── Unauthorized                unauthorized    401   HTTP only
    ├── Forbidden                   forbidden       403
    ├── NotFound                    not_found       404
    ├── Conflict                    conflict        409   HTTP only: Idempotency-Key reused
    ├── TooLarge                    too_large       413   HTTP only
    ├── RateLimited                 rate_limited    429   retriable
    └── Unavailable                 unavailable     503   retriable: nothing was stored

:meth:`RelayError.body` is the one error object of the contract, for an ``error`` frame
and an HTTP error body alike. Errors of the database driver are translated into these in
:mod:`relay.store.pool` (and, for a whole batch, in :mod:`relay.store.writer`) only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relay.contract.problems import Problem

__all__ = [
    "ERROR_CODES",
    "HTTP_STATUS",
    "BadFrame",
    "Conflict",
    "Forbidden",
    "InvalidAlert",
    "InvalidFilter",
    "InvalidQuery",
    "NotFound",
    "RateLimited",
    "RelayError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "UnknownType",
]


class RelayError(Exception):
    """An error that is answered to the client with an ``error`` frame or HTTP body."""

    code = "internal"
    status = 500
    retriable = False

    def __init__(self, message: str, details: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[Problem, ...] = tuple(details)

    def body(self, frame_id: str | None = None) -> dict[str, Any]:
        """The error object (protocol.md "errors"), echoing ``frame_id`` when given."""
        body: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message,
                                "details": [problem.as_dict() for problem in self.details]}
        if frame_id is not None:
            body["id"] = frame_id
        return body


class BadFrame(RelayError):
    code = "bad_frame"
    status = 400


class UnknownType(RelayError):
    code = "unknown_type"
    status = 400


class InvalidAlert(RelayError):
    code = "invalid_alert"
    status = 400


class InvalidFilter(RelayError):
    code = "invalid_filter"
    status = 400


class InvalidQuery(RelayError):
    """Bad query parameters of an HTTP request (an addition to the contract's codes)."""

    code = "invalid_query"
    status = 400


class Unauthorized(RelayError):
    """HTTP only: no token, or one that is unknown or revoked (401)."""

    code = "unauthorized"
    status = 401


class Conflict(RelayError):
    """HTTP only: an Idempotency-Key already used for a different alert (409)."""

    code = "conflict"
    status = 409


class TooLarge(RelayError):
    """HTTP only: a request body over the maximum (413)."""

    code = "too_large"
    status = 413


class Forbidden(RelayError):
    code = "forbidden"
    status = 403


class NotFound(RelayError):
    code = "not_found"
    status = 404


class RateLimited(RelayError):
    code = "rate_limited"
    status = 429
    retriable = True


class Unavailable(RelayError):
    code = "unavailable"
    status = 503
    retriable = True


ERROR_CODES = tuple(
    cls.code
    for cls in (BadFrame, UnknownType, InvalidAlert, InvalidFilter, Forbidden, NotFound,
                RateLimited, Unavailable)
)
HTTP_STATUS = {
    cls.code: cls.status
    for cls in (BadFrame, UnknownType, InvalidAlert, InvalidFilter, InvalidQuery, Unauthorized,
                Forbidden, NotFound, Conflict, TooLarge, RateLimited, Unavailable)
}
