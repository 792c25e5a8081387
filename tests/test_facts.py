"""relay.facts: what visibility and filters know of a valid alert."""

from __future__ import annotations

from relay.contract.facts import alert_airports, alert_facts
from relay.contract.model import AlertFacts, Distribution
from relay.contract.validation import validate_alert
from tests.alert_examples import passenger_alert, seizure_alert

KNOWN_UNITS = {"ML-BKO-JAITF", "FR-CDG-OFAST", "MA-CMN-BNPJ"}
REGIONS = {"G5-SAHEL": frozenset({"BF", "ML", "MR", "NE", "TD"})}


def valid(alert: dict) -> dict:
    return validate_alert(alert, known_units=KNOWN_UNITS, regions=REGIONS)


def test_the_facts_of_the_passenger_example():
    """Every airport of the routing and the countries they are in."""
    expected = AlertFacts(
        kind="passenger", msg_type="alert", status="actual", priority="flash", tlp="amber",
        distribution=Distribution(units=frozenset({"MA-CMN-BNPJ", "FR-CDG-OFAST"})),
        airports=frozenset({"BKO", "CMN", "CDG"}), countries=frozenset({"ML", "MA", "FR"}),
        commodities=frozenset(), references=None,
    )
    assert expected == alert_facts(valid(passenger_alert()))


def test_the_facts_of_the_seizure_example():
    """The location is an airport; the commodities come from the seizures."""
    expected = AlertFacts(
        kind="seizure", msg_type="alert", status="actual", priority="urgent", tlp="green",
        distribution=Distribution(countries=frozenset({"TG", "ET", "BR"})),
        airports=frozenset({"LFW"}), countries=frozenset({"TG"}),
        commodities=frozenset({"cocaine"}), references=None,
    )
    assert expected == alert_facts(valid(seizure_alert()))


def test_a_seizure_with_a_flight_counts_the_flight_and_the_location():
    """flight.origin, flight.destination and location are all airports of the alert."""
    alert = seizure_alert(
        flight={"number": "ET0937", "origin": "GRU", "destination": "LFW",
                "route": ["GRU", "ADD", "LFW"]},
        seizures=[{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"},
                  {"commodity": "cash", "quantity": 15000, "unit": "EUR"}],
    )
    facts = alert_facts(valid(alert))
    assert frozenset({"GRU", "ADD", "LFW"}) == facts.airports
    assert frozenset({"BR", "ET", "TG"}) == facts.countries
    assert frozenset({"cocaine", "cash"}) == facts.commodities


def test_an_alert_to_all_has_the_all_distribution():
    """{"all": true} becomes Distribution(all=True) with no named audience."""
    facts = alert_facts(valid(seizure_alert(distribution={"all": True})))
    assert Distribution(all=True) == facts.distribution


def test_an_update_carries_its_reference_and_type():
    """references, msg_type and status are facts too."""
    reference = "01234567-89ab-7def-8123-456789abcdef"
    alert = valid(seizure_alert(msg_type="update", references=reference, status="exercise"))
    facts = alert_facts(alert)
    assert ("update", "exercise", reference) == (facts.msg_type, facts.status, facts.references)


def test_a_passenger_alert_without_a_route_has_its_two_ends():
    """Without flight.route, the airports are the origin and the destination."""
    alert = passenger_alert()
    del alert["flight"]["route"]
    assert frozenset({"BKO", "CDG"}) == alert_airports(valid(alert))
