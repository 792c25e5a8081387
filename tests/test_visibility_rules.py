"""The visibility rules of protocol.md "Visibility" as pure functions, without a relay.

The end-to-end matrix (test_visibility_matrix.py) checks the same rules over the stream;
these cases pin each function one rule at a time so that a change to any of them fails
here in milliseconds. The expectations are written from the text, not from the code.
"""

from __future__ import annotations

import pytest

from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import (
    Viewer,
    history_scope,
    is_addressed_to,
    may_read_delivery,
    may_read_receipt,
    may_see_alert,
    may_see_receipt,
    regions_of,
    sees_whole_history,
)

REGIONS = {
    "G5-SAHEL": frozenset({"ML", "NE", "BF", "TD", "MR"}),
    "ECOWAS": frozenset({"ML", "TG", "SN", "CI"}),
}
LOME = Viewer("TG-LFW-CUSTOMS", "TG", frozenset({"publish", "subscribe"}))
BAMAKO = Viewer("ML-BKO-POLICE", "ML", frozenset({"subscribe"}))
AUDITOR = Viewer("TG-AUDIT", "TG", frozenset({"audit"}))
OTHER = "FR-CDG-DOUANE"


def facts(tlp: str, distribution: Distribution) -> AlertFacts:
    return AlertFacts(
        kind="seizure_report",
        msg_type="alert",
        status="actual",
        priority="routine",
        tlp=tlp,
        distribution=distribution,
        airports=frozenset({"LFW"}),
        countries=frozenset({"TG"}),
        commodities=frozenset({"cocaine"}),
        references=None,
    )


@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "amber+strict", "red"])
def test_a_unit_named_in_the_distribution_is_reached_at_every_tlp(tlp: str) -> None:
    assert is_addressed_to(LOME, tlp, Distribution(units=frozenset({LOME.unit_id})), REGIONS)


@pytest.mark.parametrize(
    "distribution",
    [
        Distribution(all=True),
        Distribution(countries=frozenset({"TG"})),
        Distribution(regions=frozenset({"ECOWAS"})),
    ],
    ids=["all", "country", "region"],
)
def test_red_reaches_only_named_units_while_amber_reaches_the_wider_forms(
    distribution: Distribution,
) -> None:
    assert is_addressed_to(LOME, "amber", distribution, REGIONS)
    assert not is_addressed_to(LOME, "red", distribution, REGIONS)


def test_a_distribution_that_names_others_does_not_reach_the_unit() -> None:
    elsewhere = Distribution(
        units=frozenset({OTHER}), countries=frozenset({"FR"}), regions=frozenset({"G5-SAHEL"})
    )
    assert not is_addressed_to(LOME, "green", elsewhere, REGIONS)
    assert is_addressed_to(BAMAKO, "green", elsewhere, REGIONS)


def test_an_unknown_region_reaches_nobody() -> None:
    assert not is_addressed_to(LOME, "clear", Distribution(regions=frozenset({"NOWHERE"})), REGIONS)


def test_the_origin_always_sees_its_own_alert_even_when_it_named_nobody() -> None:
    red_for_others = facts("red", Distribution(units=frozenset({OTHER})))
    assert may_see_alert(LOME, LOME.unit_id, red_for_others, REGIONS)
    assert not may_see_alert(LOME, OTHER, red_for_others, REGIONS)
    assert may_see_alert(LOME, OTHER, facts("amber", Distribution(all=True)), REGIONS)


def test_a_receipt_is_seen_by_the_alert_origin_and_its_author_only() -> None:
    assert may_see_receipt(LOME, LOME.unit_id, OTHER)
    assert may_see_receipt(LOME, OTHER, LOME.unit_id)
    assert not may_see_receipt(LOME, OTHER, BAMAKO.unit_id)


def test_regions_of_lists_every_region_holding_the_country_in_order() -> None:
    assert regions_of("ML", REGIONS) == ["ECOWAS", "G5-SAHEL"]
    assert regions_of("TG", REGIONS) == ["ECOWAS"]
    assert regions_of("FR", REGIONS) == []


def test_only_the_audit_role_reads_the_whole_history() -> None:
    assert sees_whole_history(AUDITOR)
    assert not sees_whole_history(LOME)
    assert history_scope(AUDITOR) is None
    assert history_scope(LOME) == LOME


def test_an_auditor_reads_every_receipt_of_a_file_and_others_only_as_on_the_stream() -> None:
    assert may_read_receipt(AUDITOR, OTHER, BAMAKO.unit_id)
    assert may_read_receipt(LOME, LOME.unit_id, BAMAKO.unit_id)
    assert may_read_receipt(LOME, OTHER, LOME.unit_id)
    assert not may_read_receipt(LOME, OTHER, BAMAKO.unit_id)


def test_delivery_lines_are_read_by_the_origin_and_auditors_and_each_recipient_its_own() -> None:
    assert may_read_delivery(AUDITOR, OTHER, BAMAKO.unit_id)
    assert may_read_delivery(LOME, LOME.unit_id, BAMAKO.unit_id)
    assert may_read_delivery(BAMAKO, LOME.unit_id, BAMAKO.unit_id)
    assert not may_read_delivery(BAMAKO, LOME.unit_id, OTHER)
