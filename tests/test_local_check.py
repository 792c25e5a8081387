"""clients.local_check: the relay's rules on the terminal, never stricter than the relay."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.local_check import check_alert
from relay.contract.errors import InvalidAlert
from relay.contract.ids import UNIT_ID_PATTERN
from relay.contract.problems import Problem
from relay.contract.validation import validate_alert
from tests.alert_examples import passenger_alert, seizure_alert

# Names the terminal has never heard of; a relay may well have them.
UNITS = ["SN-DSS-OCRTIS", "XK-PRN-TEST-9", "ABC"]
REGIONS = ["AIRCOP", "Golfe de Guinée", "g5 sahel (old name)"]


def relay_configured_with(alert: dict[str, Any], units: list[str],
                          regions: list[str]) -> dict[str, Any]:
    """What a relay that knows these units and regions returns for ``alert``."""
    return validate_alert(alert, known_units=set(units),
                          regions={name: frozenset({"ML"}) for name in regions})


@pytest.mark.parametrize("example", [passenger_alert, seizure_alert])
def test_an_example_alert_to_any_units_and_regions_is_accepted_as_the_relay_accepts_it(example):
    """The normalised alert is the one a relay knowing those units and regions returns."""
    alert = example(distribution={"units": UNITS, "regions": REGIONS, "countries": ["ML"]})
    expected = (relay_configured_with(alert, UNITS, REGIONS), [])
    assert expected == check_alert(alert)


def test_the_examples_as_they_are_are_accepted():
    """The unit ids of the shared examples are well formed, so no relay data is needed."""
    expected = [[], []]
    assert expected == [check_alert(passenger_alert())[1], check_alert(seizure_alert())[1]]


def test_a_red_alert_to_units_the_terminal_does_not_know_is_accepted():
    """Red allows only named units; any well-formed id may be one of them."""
    alert = passenger_alert(tlp="red", distribution={"units": ["NE-NIM-OCRTIS"]})
    normalised, problems = check_alert(alert)
    assert [] == problems
    assert {"units": ["NE-NIM-OCRTIS"]} == (normalised or {})["distribution"]


# The relay's pattern without its anchors ("$" would let hypothesis add a newline).
WELL_FORMED_ID = UNIT_ID_PATTERN.pattern.removeprefix("^").removesuffix("$")


@given(st.from_regex(WELL_FORMED_ID, fullmatch=True))
def test_every_well_formed_unit_id_is_accepted(unit_id):
    """A unit id the relay's database could hold is never refused on the terminal."""
    alert = seizure_alert(distribution={"units": [unit_id]})
    assert [] == check_alert(alert)[1]


@pytest.mark.parametrize("unit_id", ["ml-bko-jaitf", "AB", "ML_BKO", "ML-BKO-JAITF\n", "A" * 41])
def test_a_malformed_unit_id_is_refused_with_the_relays_sentence(unit_id):
    """No relay can know such a unit: its database refuses the id."""
    alert = seizure_alert(distribution={"units": [unit_id]})
    with pytest.raises(InvalidAlert) as refused:
        validate_alert(alert, known_units=set(), regions={})
    expected = (None, list(refused.value.details))
    assert expected == check_alert(alert)


def test_a_bad_alert_gets_the_relays_problems_all_at_once():
    """Same paths, same sentences, same order as the relay's own validation."""
    alert = passenger_alert(priority="asap", summary="")
    alert["flight"]["number"] = "AT 571"
    alert["flight"]["origin"] = "XXX"
    del alert["subjects"][0]["surname"]
    alert["distribution"]["countries"] = ["ML", "XX"]
    with pytest.raises(InvalidAlert) as refused:
        relay_configured_with(alert, ["MA-CMN-BNPJ", "FR-CDG-OFAST"], [])
    expected = (None, list(refused.value.details))
    actual = check_alert(alert)
    assert expected == actual
    assert {"priority", "summary", "flight.number", "flight.origin", "subjects[0].surname",
            "distribution.countries[1]"} == {problem.field for problem in actual[1]}


@pytest.mark.parametrize("value", [None, [passenger_alert()], "alert", 42])
def test_a_value_that_is_not_a_map_is_one_problem_not_an_exception(value):
    """check_alert never raises: the caller shows the problem."""
    expected = (None, [Problem("alert", "not_a_map")])
    assert expected == check_alert(value)


def test_the_given_alert_is_left_untouched():
    """The normalised alert is a new dict; defaults are not written into the caller's."""
    alert = seizure_alert(sent_at="2026-11-23T10:30:00+01:00")
    normalised, _ = check_alert(alert)
    assert ("2026-11-23T10:30:00+01:00", "2026-11-23T09:30:00Z") == (
        alert["sent_at"], (normalised or {})["sent_at"])
    assert "msg_type" not in alert
