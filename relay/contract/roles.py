"""Roles and what each allows (protocol.md "Words", admin.md): the one policy table.

Every check of a role goes through :func:`require` (or :func:`allows`), never through a
role name compared by hand, so the table below is the whole policy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final

from relay.contract.errors import Forbidden

__all__ = ["FEDERATION", "PERMISSIONS", "ROLES", "Action", "Role", "allows", "require"]


class Role(enum.StrEnum):
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    AUDIT = "audit"
    ADMIN = "admin"


ROLES: Final = frozenset(role.value for role in Role)
# The role of a peer relay's federation token (federation.md): never a unit's role.
FEDERATION: Final = "federation"


class Action(enum.Enum):
    PUBLISH = "publish alerts"
    SUBSCRIBE = "receive the stream"
    SEND_RECEIPT = "send receipts"
    READ_HISTORY = "read the history"
    AUDIT = "read the audit trail"
    ADMINISTER = "manage units and tokens"
    FEDERATE = "pull events as a peer relay"
    OBSERVE_FEDERATION = "see the peer relays and their links"


PERMISSIONS: Final[Mapping[Action, frozenset[str]]] = {
    Action.PUBLISH: frozenset({Role.PUBLISH}),
    Action.SUBSCRIBE: frozenset({Role.SUBSCRIBE}),
    # A receipt answers an alert addressed to the unit: a unit that receives alerts, or
    # one that publishes them (and so is part of the exchange), may send one.
    Action.SEND_RECEIPT: frozenset({Role.SUBSCRIBE, Role.PUBLISH}),
    Action.READ_HISTORY: frozenset({Role.PUBLISH, Role.SUBSCRIBE, Role.AUDIT}),
    Action.AUDIT: frozenset({Role.AUDIT}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
    Action.FEDERATE: frozenset({FEDERATION}),
    Action.OBSERVE_FEDERATION: frozenset({Role.ADMIN, Role.AUDIT}),
}


def allows(roles: Iterable[str], action: Action) -> bool:
    """True when one of ``roles`` permits ``action``."""
    return not PERMISSIONS[action].isdisjoint(roles)


def require(unit_id: str, roles: Iterable[str], action: Action) -> None:
    """Raise :class:`Forbidden` unless one of ``roles`` permits ``action``."""
    if not allows(roles, action):
        needed = " or ".join(sorted(PERMISSIONS[action]))
        raise Forbidden(f"unit {unit_id} may not {action.value}: it needs the role {needed}")
