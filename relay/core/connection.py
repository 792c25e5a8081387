"""The protocol state of one stream connection, without I/O (protocol.md "Stream transport").

The model is the sans-I/O protocol objects of websockets (``protocol.py``) and h11
(``_state.py``): :class:`StreamConnection` takes decoded frames and answers what to do;
:mod:`relay.stream.session` moves the bytes. Three rules live here:

- **In-band auth.** A connection that did not authenticate in its handshake accepts one
  ``auth`` frame first, and nothing else (4401 otherwise).
- **In-flight slots.** At most ``max_in_flight`` publishes and receipts wait for their
  reply; while all slots are taken, :attr:`StreamConnection.reading` is False and the
  session stops reading, which pushes back on the client over TCP.
- **One subscription at a time.** A later subscribe replaces the earlier one; its replay
  → live hand-off is :class:`relay.core.subscription.Subscription`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relay.contract.errors import BadFrame
from relay.contract.frames import (
    FederateFrame,
    PublishFrame,
    ReceiptFrame,
    SubscribeFrame,
    parse_auth_frame,
    parse_client_frame,
)
from relay.contract.roles import Action, require
from relay.contract.times import rfc3339
from relay.core.principals import Principal
from relay.core.subscription import Subscription

__all__ = ["Phase", "StreamConnection"]

PROTOCOL = "relay.v1"


class Phase(enum.Enum):
    AUTHENTICATING = "authenticating"  # upgraded without a token: the auth frame comes first
    OPEN = "open"
    CLOSED = "closed"


class StreamConnection:
    """One connection's phase, principal, in-flight count and subscription."""

    def __init__(self, *, max_in_flight: int, regions: Mapping[str, frozenset[str]],
                 principal: Principal | None = None) -> None:
        self.max_in_flight = max_in_flight
        self._regions = regions
        self.principal = principal
        self.phase = Phase.OPEN if principal is not None else Phase.AUTHENTICATING
        self.in_flight = 0
        self.subscription: Subscription | None = None

    # -- authentication ----------------------------------------------------------------
    def auth_token(self, frame: dict[str, Any]) -> str:
        """The token of the first frame of an unauthenticated connection; BadFrame if it
        is not an auth frame (the connection is then closed with 4401)."""
        if self.phase is not Phase.AUTHENTICATING:
            raise BadFrame("this connection is authenticated already")
        return parse_auth_frame(frame).token

    def authenticated(self, principal: Principal, *, head: int, now: datetime) -> dict[str, Any]:
        """Open the connection for ``principal``; the ``welcome`` frame to send first."""
        self.principal = principal
        self.phase = Phase.OPEN
        return {"type": "welcome", "unit": principal.unit.unit_id,
                "roles": sorted(principal.unit.roles), "head": head, "protocol": PROTOCOL,
                "server_time": rfc3339(now)}

    # -- frames --------------------------------------------------------------------------
    @property
    def reading(self) -> bool:
        """Whether the next frame may be read: open, and a slot free for a write."""
        return self.phase is Phase.OPEN and self.in_flight < self.max_in_flight

    def receive(self, frame: dict[str, Any]) -> PublishFrame | ReceiptFrame | SubscribeFrame | FederateFrame:
        """A decoded frame of an open connection as a typed request, or a RelayError.

        A publish or receipt takes an in-flight slot: the caller gives it back with
        :meth:`write_done` when the reply is sent.
        """
        if self.phase is not Phase.OPEN or self.principal is None:
            raise BadFrame("the connection is not open")
        request = parse_client_frame(frame)
        unit = self.principal.unit
        if isinstance(request, SubscribeFrame):
            require(unit.unit_id, unit.roles, Action.SUBSCRIBE)
            return request
        if isinstance(request, FederateFrame):
            require(unit.unit_id, unit.roles, Action.FEDERATE)
            return request
        self.in_flight += 1
        return request

    def write_done(self) -> None:
        """A publish or receipt has its reply: its slot is free."""
        if self.in_flight <= 0:
            raise RuntimeError("no write in flight")
        self.in_flight -= 1

    # -- subscriptions -------------------------------------------------------------------
    def subscribe(self, request: SubscribeFrame, *, hub_head: int) -> Subscription:
        """Replace the subscription: the caller detaches the old one from the hub first,
        sends ``subscribed`` and, with ``since``, runs the replay of the new one."""
        assert self.principal is not None
        self.subscription = Subscription(viewer=self.principal.viewer, filter=request.filter,
                                         regions=self._regions, since=request.since,
                                         hub_head=hub_head)
        return self.subscription

    def close(self) -> None:
        self.phase = Phase.CLOSED
        self.subscription = None
