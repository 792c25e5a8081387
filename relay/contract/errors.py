"""The one error tree of the relay; every error a client sees maps to a contract code.

::

    RelayError                      (code, message, details, retriable)
    ├── BadFrame                    bad_frame       not decodable, not a map, no type
    ├── UnknownType                 unknown_type
    ├── InvalidAlert                invalid_alert   details name every problem
    ├── InvalidFilter               invalid_filter
    ├── InvalidQuery                invalid_query   HTTP query parameters (Relay's addition)
    ├── Forbidden                   forbidden
    ├── NotFound                    not_found
    ├── RateLimited                 rate_limited    retriable
    └── Unavailable                 unavailable     retriable: nothing was stored

Errors of the database driver are translated into these in :mod:`relay.database`
(and, for a whole batch, in :mod:`relay.writer`) only.
"""

from __future__ import annotations

from collections.abc import Sequence

from relay.contract.model import Problem

__all__ = [
    "ERROR_CODES",
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
    """An error that is answered to the client with an ``error`` frame."""

    code = "internal"
    retriable = False

    def __init__(self, message: str, details: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[Problem, ...] = tuple(details)


class BadFrame(RelayError):
    code = "bad_frame"


class UnknownType(RelayError):
    code = "unknown_type"


class InvalidAlert(RelayError):
    code = "invalid_alert"


class InvalidFilter(RelayError):
    code = "invalid_filter"


class InvalidQuery(RelayError):
    """Bad query parameters of an HTTP request (an addition to the contract's codes)."""

    code = "invalid_query"


class Unauthorized(RelayError):
    """HTTP only: no token, or one that is unknown or revoked (401)."""

    code = "unauthorized"


class Conflict(RelayError):
    """HTTP only: an Idempotency-Key already used for a different alert (409)."""

    code = "conflict"


class TooLarge(RelayError):
    """HTTP only: a request body over the maximum (413)."""

    code = "too_large"


class Forbidden(RelayError):
    code = "forbidden"


class NotFound(RelayError):
    code = "not_found"


class RateLimited(RelayError):
    code = "rate_limited"
    retriable = True


class Unavailable(RelayError):
    code = "unavailable"
    retriable = True


ERROR_CODES = tuple(
    cls.code
    for cls in (BadFrame, UnknownType, InvalidAlert, InvalidFilter, Forbidden, NotFound,
                RateLimited, Unavailable)
)
