"""relay.core.connections without sockets: who holds which token, and revocation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from relay.core.connections import Connections, watch_revocations
from relay.core.principals import Principal, Unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)


class Holder:
    def __init__(self, unit_id: str, token_id: int) -> None:
        self.principal: Principal | None = Principal(
            Unit(unit_id, "ML", None, "", frozenset({"subscribe"}), NOW, None), token_id)
        self.revoked = 0
        self.reconnected = 0

    def revoke(self) -> None:
        self.revoked += 1

    def reconnect(self) -> None:
        self.reconnected += 1


def held(connections: Connections) -> list[int]:
    return sorted(connections.held_tokens())


async def test_revoking_a_unit_stops_every_holder_of_its_tokens_and_no_other():
    connections = Connections()
    a1, a2, b = Holder("ML-A", 1), Holder("ML-A", 2), Holder("ML-B", 3)
    for holder in (a1, a2, b):
        connections.add(holder)
    assert 2 == connections.revoke_unit("ML-A")
    assert ([1, 1, 0], [3]) == ([a1.revoked, a2.revoked, b.revoked], held(connections))
    assert connections.is_revoked(a1.principal) and not connections.is_revoked(b.principal)


async def test_revoking_tokens_stops_their_holders_once():
    connections = Connections()
    first, second, other = Holder("ML-A", 1), Holder("ML-A", 1), Holder("ML-A", 2)
    for holder in (first, second, other):
        connections.add(holder)
    assert 2 == connections.revoke_tokens({1})
    assert 0 == connections.revoke_tokens({1})
    assert ([1, 1, 0], 1) == ([first.revoked, second.revoked, other.revoked], len(connections))


async def test_a_holder_not_yet_authenticated_has_no_token_to_revoke():
    connections = Connections()
    anonymous = Holder("ML-A", 1)
    anonymous.principal = None
    connections.add(anonymous)
    assert ([], 0, False) == (held(connections), connections.revoke_unit("ML-A"),
                              connections.is_revoked(None))
    connections.discard(anonymous)
    assert 0 == len(connections)


async def test_the_periodic_check_stops_revoked_holders_and_reconnects_changed_ones():
    """Every interval: the open tokens and their roles are asked about; revoked ones are
    stopped, those whose roles changed reconnect, a failing store is tried again."""
    connections = Connections()
    kept, revoked, changed = Holder("ML-A", 1), Holder("ML-A", 2), Holder("ML-B", 3)
    for holder in (kept, revoked, changed):
        connections.add(holder)
    asked: list[dict[int, frozenset[str]]] = []

    async def check(tokens: dict[int, frozenset[str]]) -> tuple[set[int], set[int]]:
        asked.append(tokens)
        if len(asked) == 1:
            raise OSError("store down")
        return {2}, {2, 3}

    watch = asyncio.create_task(watch_revocations(connections, check=check, interval=0.01))
    try:
        async with asyncio.timeout(5):
            while not revoked.revoked:  # noqa: ASYNC110 - the watch task sets it
                await asyncio.sleep(0.01)
    finally:
        watch.cancel()
    assert {1: frozenset({"subscribe"}), 2: frozenset({"subscribe"}), 3: frozenset({"subscribe"})} == asked[0]
    assert ((0, 0), (1, 0), (0, 1), [1]) == (
        (kept.revoked, kept.reconnected), (revoked.revoked, revoked.reconnected),
        (changed.revoked, changed.reconnected), held(connections))


async def test_a_notice_names_a_token_a_unit_whose_roles_changed_or_a_suspended_unit():
    connections = Connections()
    a1, a2, b = Holder("ML-A", 1), Holder("ML-A", 2), Holder("ML-B", 3)
    for holder in (a1, a2, b):
        connections.add(holder)
    assert 1 == connections.on_revocation_notice("token:2")
    assert 0 == connections.on_revocation_notice("token:x")
    assert 1 == connections.on_revocation_notice("roles:ML-B")
    assert 1 == connections.on_revocation_notice("ML-A")
    assert [(1, 0), (1, 0), (0, 1)] == [(h.revoked, h.reconnected) for h in (a1, a2, b)]
