"""relay.contract.roles: the one policy table of who may do what."""

from __future__ import annotations

import pytest

from relay.contract.errors import Forbidden
from relay.contract.roles import PERMISSIONS, ROLES, Action, allows, require

# protocol.md "Words" and admin.md, written out by hand.
EXPECTED = {
    Action.PUBLISH: {"publish"},
    Action.SUBSCRIBE: {"subscribe"},
    Action.SEND_RECEIPT: {"subscribe", "publish"},
    Action.READ_HISTORY: {"publish", "subscribe", "audit"},
    Action.AUDIT: {"audit"},
    Action.ADMINISTER: {"admin"},
    Action.OBSERVE_FEDERATION: {"admin", "audit"},
    Action.FEDERATE: set(),  # no unit's role: only a peer relay's federation token (federation.md)
}


def test_only_a_federation_token_may_federate_and_it_may_do_nothing_else():
    assert allows({"federation"}, Action.FEDERATE)
    assert "federation" not in ROLES  # a unit can never be given it
    assert [Action.FEDERATE] == [action for action in Action if allows({"federation"}, action)]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_allows_exactly_what_the_contract_says(action, role):
    """A unit with only ``role`` may do ``action`` exactly when the contract says so."""
    assert (role in EXPECTED[action]) == allows({role}, action)


def test_the_table_names_every_action_and_only_known_roles():
    assert set(Action) == set(PERMISSIONS)
    assert all(roles <= ROLES | {"federation"} for roles in PERMISSIONS.values())


def test_require_names_the_unit_the_action_and_the_roles_it_needs():
    """403's message says what was refused and what would allow it."""
    with pytest.raises(Forbidden) as refused:
        require("SN-DSS-DOUANE", {"subscribe"}, Action.AUDIT)
    assert "unit SN-DSS-DOUANE may not read the audit trail: it needs the role audit" == \
        refused.value.message
    require("SN-DSS-DOUANE", {"subscribe", "audit"}, Action.AUDIT)
