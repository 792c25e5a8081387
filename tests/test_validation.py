"""Validation of alerts (alerts.md "Fields the client sends"), without sockets."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.errors import InvalidAlert
from relay.facts import alert_facts
from relay.validation import MAX_ALERT_BYTES, normalise_timestamp, validate_alert
from tests.alert_examples import passenger_alert, seizure_alert

UNITS = {"ML-BKO-JAITF", "FR-CDG-OFAST", "MA-CMN-BNPJ"}
REGIONS = {"G5-SAHEL": frozenset({"BF", "ML", "MR", "NE", "TD"})}


def problems(alert: object) -> dict[str, str]:
    """The problems validation reports, as {field: sentence}."""
    with pytest.raises(InvalidAlert) as error:
        validate_alert(alert, known_units=UNITS, regions=REGIONS)
    return {p.field: p.problem for p in error.value.details}


def valid(alert: dict) -> dict:
    return validate_alert(alert, known_units=UNITS, regions=REGIONS)


def test_the_example_alerts_are_valid_and_get_their_defaults():
    """msg_type defaults to alert and status to actual; nothing else is added."""
    passenger, seizure = valid(passenger_alert()), valid(seizure_alert())
    assert ("alert", "actual") == (passenger["msg_type"], passenger["status"])
    assert ("alert", "actual") == (seizure["msg_type"], seizure["status"])
    assert set(passenger_alert()) | {"msg_type", "status"} == set(passenger)


def test_timestamps_are_normalised_to_utc_with_z():
    """An offset is converted; microseconds are kept only when not zero."""
    alert = valid(passenger_alert(sent_at="2026-11-23T09:00:00+01:00",
                                  expires_at="2026-11-23T18:00:00.250+01:00"))
    assert ("2026-11-23T08:00:00Z", "2026-11-23T17:00:00.250000Z") == (alert["sent_at"], alert["expires_at"])
    assert "2026-01-01T00:00:00.123456Z" == normalise_timestamp("2026-01-01T00:00:00.123456789Z")


def test_every_problem_is_reported_at_once_with_its_path():
    """Three independent mistakes: three problems."""
    alert = passenger_alert(priority="soon", tlp="black")
    alert["subjects"][0]["document"]["issuing_country"] = "XX"
    assert {"priority", "tlp", "subjects[0].document.issuing_country"} == set(problems(alert))


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "cargo"}, "kind"),
    ({"msg_type": "retract"}, "msg_type"),
    ({"status": "draft"}, "status"),
    ({"summary": ""}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"summary": "x" * 2001}, "summary"),
    ({"language": "not a tag!"}, "language"),
    ({"sent_at": "2026-11-23 08:00"}, "sent_at"),
    ({"sent_at": "2026-11-23T08:00:00"}, "sent_at"),
    ({"sent_at": "2026-02-30T08:00:00Z"}, "sent_at"),
    ({"expires_at": "2026-11-23T07:00:00Z"}, "expires_at"),
    ({"requested_action": "arrest"}, "requested_action"),
    ({"indicators": ["x"] * 31}, "indicators"),
    ({"indicators": [""]}, "indicators[0]"),
    ({"concealment": "hat"}, "concealment"),
    ({"detection": "psychic"}, "detection"),
    ({"grading": {"source": "G", "information": "1"}}, "grading.source"),
    ({"grading": {"source": "A"}}, "grading.information"),
    ({"ext": {"blob": "x" * 5000}}, "ext"),
    ({"ext": "text"}, "ext"),
    ({"colour": "red"}, "colour"),
    ({"references": "01234567-89ab-7def-8123-456789abcdef"}, "references"),
    ({"msg_type": "update"}, "references"),
    ({"msg_type": "cancel", "references": "A1"}, "references"),
])
def test_top_level_rules(change, field):
    """Each top-level rule of alerts.md is enforced and names its field."""
    assert field in problems(passenger_alert(**change))


@pytest.mark.parametrize("key", ["kind", "priority", "tlp", "distribution", "sent_at", "summary",
                                 "flight", "subjects", "requested_action"])
def test_passenger_alerts_require_their_fields(key):
    """A passenger alert without a required field is refused, naming it."""
    alert = passenger_alert()
    del alert[key]
    assert key in problems(alert)


@pytest.mark.parametrize("key", ["seizures", "location", "occurred_at"])
def test_seizure_reports_require_their_fields(key):
    """A seizure without seizures, location or occurred_at is refused."""
    alert = seizure_alert()
    del alert[key]
    assert key in problems(alert)


def test_a_seizure_may_carry_a_flight_and_subjects():
    """flight and subjects are optional for seizures and checked when present."""
    flight = {"number": "ET0937", "origin": "GRU", "destination": "LFW", "route": ["GRU", "ADD", "LFW"]}
    alert = valid(seizure_alert(flight=flight, subjects=[{"role": "courier", "surname": "X"}]))
    assert "ET0937" == alert["flight"]["number"]


@pytest.mark.parametrize(("flight", "field"), [
    ({"number": "AT571"}, "flight.origin"),
    ({"number": "11571", "origin": "BKO", "destination": "CDG"}, "flight.number"),
    ({"number": "AT57111", "origin": "BKO", "destination": "CDG"}, "flight.number"),
    ({"number": "at571", "origin": "BKO", "destination": "CDG"}, "flight.number"),
    ({"origin": "BKO", "destination": "CDG"}, "flight.number"),
    ({"number": "AT571", "origin": "QQQ", "destination": "CDG"}, "flight.origin"),
    ({"number": "AT571", "origin": "bko", "destination": "CDG"}, "flight.origin"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "date": "2026-13-01"}, "flight.date"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "route": ["CMN", "CDG"]}, "flight.route[0]"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "route": ["BKO", "CMN"]}, "flight.route[1]"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "route": ["BKO", "QQQ", "CDG"]}, "flight.route[1]"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "route": ["BKO"]}, "flight.route"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "scheduled_arrival": "soon"}, "flight.scheduled_arrival"),
    ({"number": "AT571", "origin": "BKO", "destination": "CDG", "gate": "A1"}, "flight.gate"),
])
def test_flight_rules(flight, field):
    """IATA flight designators and airports, route from origin to destination."""
    assert field in problems(passenger_alert(flight=flight))


def test_flight_designators_accept_letters_digits_and_a_suffix():
    """AT571, ET0937, 5Y1234A and U21 are all well-formed designators."""
    for number in ("AT571", "ET0937", "5Y1234A", "U21"):
        valid(passenger_alert(flight={"number": number, "origin": "BKO", "destination": "CDG"}))


@pytest.mark.parametrize(("subject", "field"), [
    ({"surname": "DOE"}, "subjects[0].role"),
    ({"role": "tourist", "surname": "DOE"}, "subjects[0].role"),
    ({"role": "courier"}, "subjects[0].surname"),
    ({"role": "courier", "surname": "D" * 201}, "subjects[0].surname"),
    ({"role": "courier", "surname": "DOE", "birth_date": "2999-01-01"}, "subjects[0].birth_date"),
    ({"role": "courier", "surname": "DOE", "nationality": "Mali"}, "subjects[0].nationality"),
    ({"role": "courier", "surname": "DOE", "document": {"number": "1"}}, "subjects[0].document.type"),
    ({"role": "courier", "surname": "DOE", "document": {"type": "visa", "number": "1"}}, "subjects[0].document.type"),
    ({"role": "courier", "surname": "DOE", "document": {"type": "passport"}}, "subjects[0].document.number"),
    ({"role": "courier", "surname": "DOE", "bag_tags": [""]}, "subjects[0].bag_tags[0]"),
    ({"role": "courier", "surname": "DOE", "eye_colour": "brown"}, "subjects[0].eye_colour"),
])
def test_subject_rules(subject, field):
    """Each subject field is checked with its path."""
    assert field in problems(passenger_alert(subjects=[subject]))


def test_passenger_alerts_need_one_to_fifty_subjects():
    subject = {"role": "passenger", "surname": "DOE"}
    assert "subjects" in problems(passenger_alert(subjects=[]))
    assert "subjects" in problems(passenger_alert(subjects=[subject] * 51))
    valid(passenger_alert(subjects=[subject] * 50))


@pytest.mark.parametrize(("seizure", "field"), [
    ({"quantity": 1, "unit": "kg"}, "seizures[0].commodity"),
    ({"commodity": "sugar", "quantity": 1, "unit": "kg"}, "seizures[0].commodity"),
    ({"commodity": "cocaine", "quantity": 0, "unit": "kg"}, "seizures[0].quantity"),
    ({"commodity": "cocaine", "quantity": -2, "unit": "kg"}, "seizures[0].quantity"),
    ({"commodity": "cocaine", "quantity": True, "unit": "kg"}, "seizures[0].quantity"),
    ({"commodity": "cocaine", "quantity": "2", "unit": "kg"}, "seizures[0].quantity"),
    ({"commodity": "cocaine", "quantity": float("inf"), "unit": "kg"}, "seizures[0].quantity"),
    ({"commodity": "cocaine", "quantity": 2, "unit": "tons"}, "seizures[0].unit"),
    ({"commodity": "cocaine", "quantity": 2, "unit": "EUR"}, "seizures[0].unit"),
    ({"commodity": "cash", "quantity": 2, "unit": "XYZ"}, "seizures[0].unit"),
    ({"commodity": "cocaine", "quantity": 2, "unit": "kg", "description": "d" * 501}, "seizures[0].description"),
])
def test_seizure_item_rules(seizure, field):
    """Commodities from the list, positive quantities, units, currencies only for cash."""
    assert field in problems(seizure_alert(seizures=[seizure]))


def test_cash_is_counted_in_an_iso_4217_currency():
    alert = valid(seizure_alert(seizures=[{"commodity": "cash", "quantity": 250000, "unit": "EUR"},
                                          {"commodity": "gold", "quantity": 3, "unit": "kg"}]))
    assert "EUR" == alert["seizures"][0]["unit"]


@pytest.mark.parametrize(("distribution", "tlp", "field"), [
    ({}, "amber", "distribution"),
    ({"units": []}, "amber", "distribution"),
    ({"all": False}, "amber", "distribution.all"),
    ({"all": True, "units": ["FR-CDG-OFAST"]}, "amber", "distribution"),
    ({"units": ["XX-NOPE"]}, "amber", "distribution.units[0]"),
    ({"countries": ["ML", "ZZ"]}, "amber", "distribution.countries[1]"),
    ({"regions": ["ATLANTIS"]}, "amber", "distribution.regions[0]"),
    ({"teams": ["A"]}, "amber", "distribution.teams"),
    ({"all": True}, "red", "distribution.all"),
    ({"countries": ["FR"]}, "red", "distribution.countries"),
    ({"units": ["FR-CDG-OFAST"], "regions": ["G5-SAHEL"]}, "red", "distribution.regions"),
    ("everyone", "amber", "distribution"),
])
def test_distribution_rules(distribution, tlp, field):
    """Known units, countries and regions; red only to named units."""
    assert field in problems(passenger_alert(distribution=distribution, tlp=tlp))


def test_red_to_named_units_is_valid():
    valid(passenger_alert(tlp="red", distribution={"units": ["FR-CDG-OFAST"]}))


def test_an_oversized_alert_is_refused_alone():
    """Over 64 KiB encoded: one problem, on the alert."""
    alert = passenger_alert(indicators=["i" * 64] * 30,
                            subjects=[{"role": "courier", "surname": "S" * 200, "given_names": "G" * 200,
                                       "bag_tags": ["T" * 32] * 50}] * 50)
    assert len(msgpack.packb(alert)) > MAX_ALERT_BYTES
    assert ["alert"] == list(problems(alert))


@pytest.mark.parametrize("raw", [None, [], "alert", 3])
def test_an_alert_that_is_not_a_map_is_refused(raw):
    assert {"alert"} == set(problems(raw))


def test_facts_gather_airports_countries_and_commodities():
    """Airports of the flight, route and location; their countries; the commodities."""
    facts = alert_facts(valid(passenger_alert()))
    assert frozenset({"BKO", "CMN", "CDG"}) == facts.airports
    assert frozenset({"ML", "MA", "FR"}) == facts.countries
    seizure = alert_facts(valid(seizure_alert()))
    assert (frozenset({"LFW"}), frozenset({"TG"}), frozenset({"cocaine"})) == (
        seizure.airports, seizure.countries, seizure.commodities)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
alert_like = st.fixed_dictionaries({}, optional={key: json_values for key in passenger_alert()}) | json_values


@settings(max_examples=300, deadline=None)
@given(alert_like)
def test_any_input_is_accepted_or_refused_with_problems_never_crashes(raw):
    """Arbitrary JSON-like input: a dict back, or InvalidAlert with non-empty paths."""
    try:
        result = validate_alert(raw, known_units=UNITS, regions=REGIONS)
    except InvalidAlert as error:
        assert error.details
        assert all(isinstance(p.field, str) and p.field and p.problem for p in error.details)
    else:
        assert isinstance(result, dict)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(passenger_alert())), json_values)
def test_corrupting_one_field_of_a_valid_alert_never_crashes(key, value):
    """One field replaced by anything: valid or a clean InvalidAlert."""
    alert = passenger_alert()
    alert[key] = value
    try:
        validate_alert(alert, known_units=UNITS, regions=REGIONS)
    except InvalidAlert as error:
        assert error.details
