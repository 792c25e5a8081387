"""relay.validation: every rule of alerts.md "Fields the client sends", all problems at once."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.contract.errors import InvalidAlert
from relay.contract.fields import personal_fields
from relay.contract.model import COMMODITIES, CONCEALMENTS, DETECTIONS
from relay.contract.times import normalise_timestamp
from relay.contract.validation import validate_alert
from tests.alert_examples import passenger_alert, seizure_alert

KNOWN_UNITS = {"ML-BKO-JAITF", "FR-CDG-OFAST", "MA-CMN-BNPJ"}
REGIONS = {"G5-SAHEL": frozenset({"BF", "ML", "MR", "NE", "TD"})}
ALERT_ID = "01234567-89ab-7def-8123-456789abcdef"

P = passenger_alert
S = seizure_alert
REMOVE = object()  # as a value of edited(): delete the field

TIMESTAMP = "must be an RFC 3339 timestamp with a time offset, e.g. 2026-11-23T08:00:00Z"
NAIVE = "has no time offset: end it with Z (UTC) or ±hh:mm"
IATA = "must be an IATA airport code (3 upper-case letters, e.g. CDG)"
COUNTRY = "is not an ISO 3166-1 alpha-2 country code (2 upper-case letters, e.g. ML)"
DATE = "must be a date YYYY-MM-DD, e.g. 2026-11-23"
FLIGHT_NUMBER = ("must be an IATA flight designator: a 2-character airline code (not two digits), "
                 "1 to 4 digits and an optional letter, e.g. AT571")
UNIT = "must be one of kg, g, l, pcs, or an ISO 4217 currency code (e.g. EUR) for cash"
NOBODY = 'must name at least one unit, country or region, or be {"all": true}'
NOT_RED = "is not allowed for a red alert: name the units"
ITEM = {"commodity": "cocaine", "quantity": 1, "unit": "kg"}
SUBJECT = {"role": "courier", "surname": "DOE"}


def validate(alert: object) -> dict[str, Any]:
    return validate_alert(alert, known_units=KNOWN_UNITS, regions=REGIONS)


def problems(alert: object) -> list[tuple[str, str]]:
    """The (field, problem) pairs with which validate_alert refuses ``alert``."""
    with pytest.raises(InvalidAlert) as refused:
        validate(alert)
    return [(p.field, p.problem) for p in refused.value.details]


def edited(build: Callable[[], dict[str, Any]], path: str, value: object) -> dict[str, Any]:
    """A fresh example with the field at ``path`` ("subjects.0.surname") set or removed."""
    alert = build()
    *parents, last = (int(part) if part.isdigit() else part for part in path.split("."))
    target: Any = alert
    for part in parents:
        target = target[part]
    if value is REMOVE:
        del target[last]
    else:
        target[last] = value
    return alert


# -- accepted alerts and their normal form --------------------------------------------------

def test_the_passenger_example_is_accepted_with_its_defaults():
    """A valid passenger alert comes back as given, with msg_type alert and status actual."""
    expected = {**passenger_alert(), "msg_type": "alert", "status": "actual"}
    assert expected == validate(passenger_alert())


def test_the_seizure_example_is_accepted_with_its_defaults():
    """A valid seizure alert comes back as given, with msg_type alert and status actual."""
    expected = {**seizure_alert(), "msg_type": "alert", "status": "actual"}
    assert expected == validate(seizure_alert())


def test_a_minimal_passenger_alert_is_accepted():
    """kind, priority, tlp, distribution, sent_at, summary, flight, subjects, requested_action."""
    alert = {
        "kind": "passenger", "priority": "flash", "tlp": "amber",
        "distribution": {"units": ["FR-CDG-OFAST"]}, "sent_at": "2026-11-23T08:00:00Z",
        "summary": "Courier on AT571.", "requested_action": "intercept",
        "flight": {"number": "AT571", "origin": "BKO", "destination": "CDG"},
        "subjects": [{"role": "courier", "surname": "DOE"}],
    }
    assert {**alert, "msg_type": "alert", "status": "actual"} == validate(alert)


def test_a_minimal_seizure_alert_is_accepted():
    """kind, priority, tlp, distribution, sent_at, summary, seizures, location, occurred_at."""
    alert = {
        "kind": "seizure", "priority": "routine", "tlp": "clear", "distribution": {"all": True},
        "sent_at": "2026-11-23T09:30:00Z", "summary": "Cocaine seized.",
        "seizures": [{"commodity": "cocaine", "quantity": 2.4, "unit": "kg"}],
        "location": "LFW", "occurred_at": "2026-11-23T07:55:00Z",
    }
    assert {**alert, "msg_type": "alert", "status": "actual"} == validate(alert)


@pytest.mark.parametrize(("given_at", "normal"), [
    ("2026-11-23T09:00:00+01:00", "2026-11-23T08:00:00Z"),
    ("2026-11-23T02:30:00-05:30", "2026-11-23T08:00:00Z"),
    ("2026-11-23t08:00:00z", "2026-11-23T08:00:00Z"),
    ("2026-11-23T08:00:00.000Z", "2026-11-23T08:00:00Z"),
    ("2026-11-23T08:00:00.25Z", "2026-11-23T08:00:00.250000Z"),
    ("2026-11-23T08:00:00.123456789Z", "2026-11-23T08:00:00.123456Z"),
    ("2026-11-23T00:30:00+01:00", "2026-11-22T23:30:00Z"),
])
def test_timestamps_are_normalised_to_utc_with_z(given_at, normal):
    """sent_at, expires_at, flight.scheduled_arrival and occurred_at all become UTC with Z."""
    alert = seizure_alert(sent_at=given_at, expires_at="2099-01-01T00:00:00+00:00",
                          occurred_at=given_at)
    alert["flight"] = {"number": "ET0937", "origin": "ADD", "destination": "LFW",
                       "scheduled_arrival": given_at}
    result = validate(alert)
    assert [normal, "2099-01-01T00:00:00Z", normal, normal] == [
        result["sent_at"], result["expires_at"], result["occurred_at"],
        result["flight"]["scheduled_arrival"]]


def test_normalise_timestamp_refuses_what_is_not_rfc_3339():
    """The helper raises ValueError, including for a moment before year 1 in UTC."""
    for value in ("2026-11-23T08:00:00", "0001-01-01T00:00:00+01:00", "2026-11-23T08:00:60Z"):
        with pytest.raises(ValueError):
            normalise_timestamp(value)


def test_the_result_is_a_new_alert_and_the_input_is_untouched():
    """Changing the result changes nothing in the client's alert, which keeps its own form."""
    raw = passenger_alert(sent_at="2026-11-23T09:00:00+01:00")
    result = validate(raw)
    result["subjects"][0]["surname"] = "CHANGED"
    result["flight"]["route"].append("ORY")
    assert passenger_alert(sent_at="2026-11-23T09:00:00+01:00") == raw


def test_explicit_msg_type_and_status_are_kept():
    """Defaults apply only to missing fields."""
    result = validate(seizure_alert(msg_type="cancel", references=ALERT_ID, status="exercise"))
    assert ("cancel", "exercise", ALERT_ID) == (
        result["msg_type"], result["status"], result["references"])


@pytest.mark.parametrize("alert", [
    pytest.param(edited(P, "flight.number", "ET0937"), id="flight-4-digits"),
    pytest.param(edited(P, "flight.number", "2W5"), id="flight-digit-letter-airline"),
    pytest.param(edited(P, "flight.number", "U21234"), id="flight-letter-digit-airline"),
    pytest.param(edited(P, "flight.number", "AT571A"), id="flight-suffix"),
    pytest.param(edited(P, "flight.number", "5Y1234A"), id="flight-4-digits-and-suffix"),
    pytest.param(edited(P, "flight.route", ["BKO", "CDG"]), id="route-of-two"),
    pytest.param(edited(P, "location", "CMN"), id="passenger-with-location"),
    pytest.param(edited(P, "occurred_at", "2026-11-23T07:00:00Z"), id="passenger-with-time"),
    pytest.param(edited(P, "seizures", []), id="passenger-with-no-seizures"),
    pytest.param(edited(P, "seizures", [ITEM] * 50), id="passenger-with-50-seizures"),
    pytest.param(edited(P, "subjects", [SUBJECT] * 50), id="50-subjects"),
    pytest.param(edited(P, "subjects.0.given_names", ""), id="empty-given-names"),
    pytest.param(edited(P, "subjects.0.birth_date", "1990-01-31"), id="birth-date"),
    pytest.param(edited(P, "subjects.0.bag_tags", ["AT123456"] * 50), id="50-bag-tags"),
    pytest.param(edited(P, "subjects.0.pnr_locator", "ABC123"), id="pnr"),
    pytest.param(edited(P, "indicators", ["x" * 64] * 30), id="30-indicators-of-64"),
    pytest.param(edited(P, "indicators", []), id="no-indicators"),
    pytest.param(edited(P, "tlp", "red"), id="red-to-units"),
    pytest.param(edited(P, "tlp", "amber+strict"), id="amber-strict"),
    pytest.param(edited(P, "expires_at", "2026-11-23T17:00:00Z"), id="expires-later"),
    pytest.param(edited(P, "summary", "x" * 2000), id="summary-of-2000"),
    pytest.param(edited(P, "language", "pt-BR"), id="language-region"),
    pytest.param(edited(P, "msg_type", "update") | {"references": ALERT_ID}, id="update"),
    pytest.param(edited(S, "subjects", []), id="seizure-with-no-subjects"),
    pytest.param(edited(S, "subjects", [SUBJECT]), id="seizure-with-a-subject"),
    pytest.param(edited(S, "seizures", [ITEM] * 50), id="50-seizures"),
    pytest.param(edited(S, "seizures.0.quantity", 3), id="int-quantity"),
    pytest.param(edited(S, "seizures.0", {"commodity": "cash", "quantity": 15000.5,
                                          "unit": "EUR"}), id="cash-in-euros"),
    pytest.param(edited(S, "seizures.0", {"commodity": "cash", "quantity": 2, "unit": "kg"}),
                 id="cash-by-weight"),
    pytest.param(edited(S, "seizures.0.description", "d" * 500), id="description-of-500"),
    pytest.param(edited(S, "distribution", {"regions": ["G5-SAHEL"], "units": ["ML-BKO-JAITF"],
                                            "countries": []}), id="regions-and-units"),
    pytest.param(edited(S, "flight", {"number": "ET0937", "origin": "ADD",
                                      "destination": "LFW"}), id="seizure-with-flight"),
    pytest.param(edited(S, "ext", {"case": {"ref": [1, 2.5, None, True]}, "n": 1}),
                 id="ext-free-content"),
    pytest.param(edited(S, "grading", {"source": "F", "information": "6"}), id="grading-F6"),
])
def test_valid_variants_are_accepted(alert):
    """Each optional field, each limit reached but not crossed, each allowed combination."""
    assert isinstance(validate(alert), dict)


# -- one rule broken, one problem with its exact path -----------------------------------------

def case(build: Callable[[], dict[str, Any]], path: str, value: object, field: str,
         problem: str) -> Any:
    return pytest.param(build, path, value, field, problem, id=f"{path}={value!r:.30}")


RULES = [
    # envelope
    case(P, "kind", REMOVE, "kind", "is required"),
    case(P, "kind", "smuggling", "kind", "must be one of passenger, seizure"),
    case(P, "msg_type", "notice", "msg_type", "must be one of alert, update, cancel"),
    case(P, "status", "drill", "status", "must be one of actual, exercise, test"),
    case(P, "priority", REMOVE, "priority", "is required"),
    case(P, "priority", "high", "priority", "must be one of routine, urgent, flash"),
    case(P, "tlp", REMOVE, "tlp", "is required"),
    case(P, "tlp", "white", "tlp", "must be one of red, amber+strict, amber, green, clear"),
    case(P, "references", ALERT_ID, "references", "must be absent when msg_type is alert: only "
         "an update or a cancel references an alert"),
    case(P, "msg_type", "update", "references", "is required for an update"),
    case(P, "msg_type", "cancel", "references", "is required for a cancel"),
    # distribution
    case(S, "distribution", REMOVE, "distribution", "is required"),
    case(S, "distribution", ["TG"], "distribution", "must be a map"),
    case(S, "distribution", {}, "distribution", NOBODY),
    case(S, "distribution", {"units": [], "countries": []}, "distribution", NOBODY),
    case(S, "distribution", {"all": True, "units": ["FR-CDG-OFAST"]}, "distribution.all",
         "cannot be combined with units, countries or regions"),
    case(S, "distribution", {"all": False}, "distribution.all",
         'must be true ({"all": true} addresses every unit)'),
    case(S, "distribution", {"all": 1}, "distribution.all",
         'must be true ({"all": true} addresses every unit)'),
    case(S, "distribution", {"units": "FR-CDG-OFAST"}, "distribution.units", "must be a list"),
    case(S, "distribution", {"units": ["FR-CDG-OFAST", "XX-NOWHERE"]}, "distribution.units[1]",
         "unknown unit 'XX-NOWHERE'"),
    case(S, "distribution", {"units": [7]}, "distribution.units[0]",
         "must be a unit id (a string)"),
    case(S, "distribution", {"countries": ["TG", "FRA"]}, "distribution.countries[1]",
         f"'FRA' {COUNTRY}"),
    case(S, "distribution", {"countries": ["tg"]}, "distribution.countries[0]",
         f"'tg' {COUNTRY}"),
    case(S, "distribution", {"regions": ["ECOWAS"]}, "distribution.regions[0]",
         "unknown region 'ECOWAS' (known regions: G5-SAHEL)"),
    case(S, "distribution", {"units": ["FR-CDG-OFAST"], "groups": ["x"]}, "distribution.groups",
         "unknown field"),
    # sent_at, expires_at
    case(S, "sent_at", REMOVE, "sent_at", "is required"),
    case(S, "sent_at", "2026-11-23T08:00:00", "sent_at", NAIVE),
    case(S, "sent_at", "2026-11-23 08:00:00.5", "sent_at", NAIVE),
    case(S, "sent_at", "2026-11-23", "sent_at", TIMESTAMP),
    case(S, "sent_at", "23/11/2026 08:00", "sent_at", TIMESTAMP),
    case(S, "sent_at", 1795420800, "sent_at", TIMESTAMP),
    case(S, "sent_at", "2026-11-23T08:00:00+25:00", "sent_at", TIMESTAMP),
    case(S, "sent_at", "2026-11-23T08:00:00+01:99", "sent_at", TIMESTAMP),
    case(S, "sent_at", "2026-11-23T08:00:00Z\n", "sent_at", TIMESTAMP),
    case(S, "sent_at", "2026-11-23T08:00:00.Z", "sent_at", TIMESTAMP),
    case(S, "sent_at", "2026-02-30T08:00:00Z", "sent_at",
         "'2026-02-30T08:00:00Z' is not a real date and time"),
    case(S, "expires_at", "2026-11-23T09:30:00Z", "expires_at", "must be after sent_at"),
    case(S, "expires_at", "2026-11-23T10:29:59+01:00", "expires_at", "must be after sent_at"),
    case(S, "expires_at", "2026-11-24T08:00:00", "expires_at", NAIVE),
    # summary, language
    case(S, "summary", REMOVE, "summary", "is required"),
    case(S, "summary", "", "summary", "must be 1 to 2000 characters long"),
    case(S, "summary", "x" * 2001, "summary", "must be 1 to 2000 characters long"),
    case(S, "summary", " \n\t ", "summary", "must not be only whitespace"),
    case(S, "summary", ["text"], "summary", "must be a string"),
    case(S, "language", "english", "language",
         "'english' is not a valid BCP 47 language tag (e.g. fr, en, pt-BR)"),
    case(S, "language", "fr_FR", "language",
         "'fr_FR' is not a valid BCP 47 language tag (e.g. fr, en, pt-BR)"),
    case(S, "language", 33, "language",
         "must be a BCP 47 language tag (a string, e.g. fr, en, pt-BR)"),
    # flight
    case(P, "flight", REMOVE, "flight", "is required for a passenger alert"),
    case(P, "flight", "AT571", "flight", "must be a map"),
    case(P, "flight.number", REMOVE, "flight.number", "is required"),
    case(P, "flight.date", "2026-13-01", "flight.date", "'2026-13-01' is not a real calendar date"),
    case(P, "flight.date", "23/11/2026", "flight.date", DATE),
    case(P, "flight.date", "2026-11-23T00:00:00Z", "flight.date", DATE),
    case(P, "flight.origin", REMOVE, "flight.origin", "is required"),
    case(P, "flight.destination", REMOVE, "flight.destination", "is required"),
    case(P, "flight.destination", "XQX", "flight.destination", "unknown IATA airport code 'XQX'"),
    case(P, "flight.origin", "bko", "flight.origin", IATA),
    case(P, "flight.origin", "GOBF", "flight.origin", IATA),
    case(P, "flight.origin", None, "flight.origin", IATA),
    case(P, "flight.route", ["BKO"], "flight.route", "must have at least 2 items"),
    case(P, "flight.route", "BKO-CMN-CDG", "flight.route", "must be a list"),
    case(P, "flight.route", ["BKO", "XQX", "CDG"], "flight.route[1]",
         "unknown IATA airport code 'XQX'"),
    case(P, "flight.route", ["BKO", "cmn", "CDG"], "flight.route[1]", IATA),
    case(P, "flight.route", ["CMN", "CDG"], "flight.route[0]", "must be the flight's origin 'BKO'"),
    case(P, "flight.route", ["BKO", "CMN"], "flight.route[1]",
         "must be the flight's destination 'CDG'"),
    case(P, "flight.scheduled_arrival", "2026-11-23T16:40:00", "flight.scheduled_arrival", NAIVE),
    case(P, "flight.airline", "AT", "flight.airline", "unknown field"),
    case(S, "flight", {"number": "ET0937", "origin": "ADD"}, "flight.destination", "is required"),
    # subjects
    case(P, "subjects", REMOVE, "subjects",
         "is required for a passenger alert (1 to 50 subjects)"),
    case(P, "subjects", [], "subjects", "must have 1 to 50 items"),
    case(P, "subjects", [SUBJECT] * 51, "subjects", "must have 1 to 50 items"),
    case(P, "subjects", SUBJECT, "subjects", "must be a list"),
    case(S, "subjects", [SUBJECT] * 51, "subjects", "must have at most 50 items"),
    case(P, "subjects.0", "DOE", "subjects[0]", "must be a map"),
    case(P, "subjects.0.role", REMOVE, "subjects[0].role", "is required"),
    case(P, "subjects.0.role", "mule", "subjects[0].role",
         "must be one of passenger, courier, victim, sender, recipient"),
    case(P, "subjects.0.surname", REMOVE, "subjects[0].surname", "is required"),
    case(P, "subjects.0.surname", "", "subjects[0].surname", "must be 1 to 200 characters long"),
    case(P, "subjects.0.surname", "D" * 201, "subjects[0].surname",
         "must be 1 to 200 characters long"),
    case(P, "subjects.0.given_names", "J" * 201, "subjects[0].given_names",
         "must be at most 200 characters long"),
    case(P, "subjects.0.given_names", None, "subjects[0].given_names", "must be a string"),
    case(P, "subjects.0.birth_date", "2999-01-01", "subjects[0].birth_date",
         "must not be in the future"),
    case(P, "subjects.0.birth_date", "1990-02-30", "subjects[0].birth_date",
         "'1990-02-30' is not a real calendar date"),
    case(P, "subjects.0.birth_date", "30/01/1990", "subjects[0].birth_date", DATE),
    case(P, "subjects.0.nationality", "MLI", "subjects[0].nationality", f"'MLI' {COUNTRY}"),
    case(P, "subjects.0.nationality", 466, "subjects[0].nationality",
         "must be an ISO 3166-1 alpha-2 country code (2 upper-case letters, e.g. ML)"),
    case(P, "subjects.0.document", "AA0000000", "subjects[0].document", "must be a map"),
    case(P, "subjects.0.document.type", REMOVE, "subjects[0].document.type", "is required"),
    case(P, "subjects.0.document.type", "visa", "subjects[0].document.type",
         "must be one of passport, id_card, residence_permit, other"),
    case(P, "subjects.0.document.number", REMOVE, "subjects[0].document.number", "is required"),
    case(P, "subjects.0.document.number", "", "subjects[0].document.number",
         "must be 1 to 64 characters long"),
    case(P, "subjects.0.document.number", "9" * 65, "subjects[0].document.number",
         "must be 1 to 64 characters long"),
    case(P, "subjects.0.document.issuing_country", "mli", "subjects[0].document.issuing_country",
         f"'mli' {COUNTRY}"),
    case(P, "subjects.0.document.expiry", "2030-01-01", "subjects[0].document.expiry",
         "unknown field"),
    case(P, "subjects.0.seat", "123456789", "subjects[0].seat",
         "must be at most 8 characters long"),
    case(P, "subjects.0.pnr_locator", "X" * 17, "subjects[0].pnr_locator",
         "must be at most 16 characters long"),
    case(P, "subjects.0.bag_tags", "KQ123456", "subjects[0].bag_tags", "must be a list"),
    case(P, "subjects.0.bag_tags", ["T"] * 51, "subjects[0].bag_tags",
         "must have at most 50 items"),
    case(P, "subjects.0.bag_tags", ["AT123456", ""], "subjects[0].bag_tags[1]",
         "must be 1 to 32 characters long"),
    case(P, "subjects.0.bag_tags", ["T" * 33], "subjects[0].bag_tags[0]",
         "must be 1 to 32 characters long"),
    case(P, "subjects.0.alias", "JD", "subjects[0].alias", "unknown field"),
    # indicators, requested_action
    case(P, "indicators", "one_way", "indicators", "must be a list"),
    case(P, "indicators", ["i"] * 31, "indicators", "must have at most 30 items"),
    case(P, "indicators", ["one_way", ""], "indicators[1]", "must be 1 to 64 characters long"),
    case(P, "indicators", ["x" * 65], "indicators[0]", "must be 1 to 64 characters long"),
    case(P, "indicators", [1], "indicators[0]", "must be a string"),
    case(P, "requested_action", REMOVE, "requested_action", "is required for a passenger alert"),
    case(P, "requested_action", "arrest", "requested_action",
         "must be one of intercept, control, observe, controlled_delivery, information"),
    # seizures
    case(S, "seizures", REMOVE, "seizures", "is required for a seizure alert (1 to 50 items)"),
    case(S, "seizures", [], "seizures", "must have 1 to 50 items"),
    case(S, "seizures", [ITEM] * 51, "seizures", "must have 1 to 50 items"),
    case(P, "seizures", [ITEM] * 51, "seizures", "must have at most 50 items"),
    case(S, "seizures.0", "cocaine", "seizures[0]", "must be a map"),
    case(S, "seizures.0.commodity", REMOVE, "seizures[0].commodity", "is required"),
    case(S, "seizures.0.commodity", "diamonds", "seizures[0].commodity",
         f"must be one of {', '.join(COMMODITIES)}"),
    case(S, "seizures.0.quantity", REMOVE, "seizures[0].quantity", "is required"),
    case(S, "seizures.0.unit", REMOVE, "seizures[0].unit", "is required"),
    case(S, "seizures.0.unit", "lb", "seizures[0].unit", UNIT),
    case(S, "seizures.0.unit", "KG", "seizures[0].unit", UNIT),
    case(S, "seizures.0.unit", "EUR", "seizures[0].unit",
         "a currency (EUR) is a unit only for cash; use one of kg, g, l, pcs"),
    case(S, "seizures.0", {"commodity": "cash", "quantity": 1, "unit": "eur"}, "seizures[0].unit",
         UNIT),
    case(S, "seizures.0.description", "d" * 501, "seizures[0].description",
         "must be at most 500 characters long"),
    case(S, "seizures.0.value_eur", 1000, "seizures[0].value_eur", "unknown field"),
    # concealment, detection, location, occurred_at
    case(S, "concealment", "luggage", "concealment", f"must be one of {', '.join(CONCEALMENTS)}"),
    case(S, "detection", "dog", "detection", f"must be one of {', '.join(DETECTIONS)}"),
    case(S, "location", REMOVE, "location",
         "is required for a seizure alert (the IATA airport code where it happened)"),
    case(S, "location", "XQX", "location", "unknown IATA airport code 'XQX'"),
    case(P, "location", "lfw", "location", IATA),
    case(S, "occurred_at", REMOVE, "occurred_at", "is required for a seizure alert"),
    case(S, "occurred_at", "2026-11-23T07:55:00", "occurred_at", NAIVE),
    # grading
    case(P, "grading", "B2", "grading", "must be a map"),
    case(P, "grading.source", REMOVE, "grading.source", "is required"),
    case(P, "grading.information", REMOVE, "grading.information", "is required"),
    case(P, "grading.source", "G", "grading.source", "must be one of A, B, C, D, E, F"),
    case(P, "grading.source", "b", "grading.source", "must be one of A, B, C, D, E, F"),
    case(P, "grading.information", 2, "grading.information", "must be one of 1, 2, 3, 4, 5, 6"),
    case(P, "grading.handling", "H1", "grading.handling", "unknown field"),
    # ext and unknown fields
    case(S, "ext", ["x"], "ext", "must be a map"),
    case(S, "ext", {1: "x"}, "ext", "must have string keys"),
    case(S, "ext", {"case": {b"ref": "x"}}, "ext.case",
         "must hold only JSON values: no binary data, non-finite numbers "
         "or integers beyond 64 bits (the alert travels in both encodings)"),
    case(S, "ext", {"blob": "x" * 5000}, "ext", "is 5009 bytes encoded; it must be at most 4096"),
    case(S, "colour", "red", "colour", "unknown field"),
    case(S, "", 1, "''", "unknown field"),
    case(S, "origin_unit", "ML-BKO-JAITF", "origin_unit",
         "unknown field: the relay sets it, a client may not"),
    case(S, "received_at", "2026-11-23T09:30:00Z", "received_at",
         "unknown field: the relay sets it, a client may not"),
]


@pytest.mark.parametrize(("build", "path", "value", "field", "problem"), RULES)
def test_each_broken_rule_is_one_problem_at_its_path(build, path, value, field, problem):
    """Breaking one rule of a valid example gives exactly that problem, at that dotted path."""
    assert [(field, problem)] == problems(edited(build, path, value))


@pytest.mark.parametrize("number", [
    "12345", "12", "AT", "AT12345", "at571", "AT571AB", "A", "AT-571", "AT 571", "AT571\n", 571,
])
def test_a_flight_number_is_an_iata_designator(number):
    """2-character airline code (not two digits), 1-4 digits, optional letter."""
    assert [("flight.number", FLIGHT_NUMBER)] == problems(edited(P, "flight.number", number))


@pytest.mark.parametrize("reference", [
    ALERT_ID.upper(), ALERT_ID.replace("-", ""), "{" + ALERT_ID + "}", "alert-1", 42, None,
])
def test_references_is_a_canonical_lower_case_uuid(reference):
    """An update's references is an alert_id: lower-case hex 8-4-4-4-12."""
    alert = seizure_alert(msg_type="update", references=reference)
    assert [("references", "must be the alert_id of the referenced alert: a UUID in lower-case "
             "hex, 8-4-4-4-12")] == problems(alert)


@pytest.mark.parametrize(("quantity", "problem"), [
    (True, "must be a number"),
    (False, "must be a number"),
    ("2.4", "must be a number"),
    (None, "must be a number"),
    ([2.4], "must be a number"),
    (0, "must be a finite number greater than 0"),
    (0.0, "must be a finite number greater than 0"),
    (-1, "must be a finite number greater than 0"),
    (math.nan, "must be a finite number greater than 0"),
    (math.inf, "must be a finite number greater than 0"),
])
def test_a_quantity_is_a_finite_positive_number_and_never_a_bool(quantity, problem):
    """A bool is not a number, even though Python says True == 1."""
    assert [("seizures[0].quantity", problem)] == problems(
        edited(S, "seizures.0.quantity", quantity))


# -- red distribution ----------------------------------------------------------------------

@pytest.mark.parametrize(("distribution", "expected"), [
    ({"all": True}, [("distribution.all", NOT_RED),
                     ("distribution.units", "must name at least one unit for a red alert")]),
    ({"countries": ["TG"]}, [("distribution.countries", NOT_RED),
                             ("distribution.units", "must name at least one unit for a red alert")]),
    ({"units": ["FR-CDG-OFAST"], "regions": ["G5-SAHEL"]}, [("distribution.regions", NOT_RED)]),
    ({"units": ["FR-CDG-OFAST"], "countries": [], "regions": []},
     [("distribution.countries", NOT_RED), ("distribution.regions", NOT_RED)]),
    ({"units": []}, [("distribution.units", "must name at least one unit for a red alert")]),
    ({}, [("distribution.units", "must name at least one unit for a red alert")]),
])
def test_a_red_alert_goes_only_to_named_units(distribution, expected):
    """TLP red allows only units, at least one; all, countries and regions are each a problem."""
    assert expected == problems(seizure_alert(tlp="red", distribution=distribution))


# -- all at once, and the limits of the whole ------------------------------------------------

def test_every_problem_is_reported_at_once_in_spec_order():
    """Validation does not stop at the first problem; the message counts them."""
    alert = passenger_alert(priority="soon", unexpected=1)
    alert["flight"]["origin"] = "XQX"
    alert["flight"]["route"][1] = "cmn"
    del alert["subjects"][0]["surname"]
    alert["subjects"][0]["document"]["issuing_country"] = "mli"
    alert["seizures"] = [ITEM, {"commodity": "gold", "quantity": True, "unit": "EUR"}]
    with pytest.raises(InvalidAlert) as refused:
        validate(alert)
    assert "the alert has 8 problems" == refused.value.message
    assert [
        ("unexpected", "unknown field"),
        ("priority", "must be one of routine, urgent, flash"),
        ("flight.origin", "unknown IATA airport code 'XQX'"),
        ("flight.route[1]", IATA),
        ("subjects[0].surname", "is required"),
        ("subjects[0].document.issuing_country", f"'mli' {COUNTRY}"),
        ("seizures[1].quantity", "must be a number"),
        ("seizures[1].unit", "a currency (EUR) is a unit only for cash; use one of kg, g, l, pcs"),
    ] == [(p.field, p.problem) for p in refused.value.details]
    assert ["unknown_field", "not_one_of", "unknown_airport", "bad_iata", "required",
            "bad_country", "not_a_number", "currency_only_for_cash"] == [
        p.code for p in refused.value.details]


def test_one_problem_is_counted_in_the_singular():
    """The message reads naturally for a single problem."""
    with pytest.raises(InvalidAlert) as refused:
        validate(seizure_alert(priority="soon"))
    assert "the alert has 1 problem" == refused.value.message


def test_an_empty_map_reports_every_required_field():
    """Without a kind, only the fields every alert needs are required."""
    assert [(field, "is required") for field in
            ("kind", "priority", "tlp", "distribution", "sent_at", "summary")] == problems({})


@pytest.mark.parametrize("raw", [None, [], "alert", 42, ("kind", "seizure")])
def test_an_alert_that_is_not_a_map_is_one_problem(raw):
    """The problem is on the whole alert."""
    assert [("alert", "must be a map")] == problems(raw)


def test_an_oversized_alert_is_refused_with_that_problem_only():
    """Over 64 KiB encoded, nothing else is checked: the size is the only problem."""
    alert = seizure_alert(priority="soon", ext={"blob": "x" * 70_000})
    size = len(msgpack.packb(alert))
    assert [("alert", f"is {size} bytes encoded; it must be at most 65536")] == problems(alert)


def test_the_size_limit_is_inclusive():
    """65536 bytes encoded is checked as usual (here the ext is too big); 65537 is refused."""
    def alert_of(size: int) -> dict[str, Any]:
        alert = seizure_alert(ext={"blob": ""})
        # An empty str has a 1-byte header in MessagePack, a long one a 3-byte header.
        alert["ext"]["blob"] = "x" * (size - len(msgpack.packb(alert)) - 2)
        assert size == len(msgpack.packb(alert))
        return alert

    assert ["ext"] == [field for field, _ in problems(alert_of(65_536))]
    assert [("alert", "is 65537 bytes encoded; it must be at most 65536")] == (
        problems(alert_of(65_537)))


def test_a_realistic_oversized_alert_is_refused_alone():
    """Fifty subjects at every limit are far over 64 KiB: one problem, on the alert."""
    subject = {"role": "courier", "surname": "S" * 200, "given_names": "G" * 200,
               "bag_tags": ["T" * 32] * 50}
    assert ["alert"] == [field for field, _ in problems(passenger_alert(subjects=[subject] * 50))]


@pytest.mark.parametrize(("alert", "reason"), [
    (seizure_alert(ext={"n": 2**70}), "Integer value out of range"),
    (seizure_alert(summary="\ud800"), "'utf-8' codec can't encode character '\\ud800' in "
                                      "position 0: surrogates not allowed"),
    (seizure_alert(ext={"object": object}), "can not serialize 'type' object"),
])
def test_an_alert_that_cannot_be_encoded_is_one_problem(alert, reason):
    """An integer beyond 64 bits, a lone surrogate, a Python object: no MessagePack for them."""
    assert [("alert", f"holds a value that cannot be encoded ({reason})")] == problems(alert)


# -- properties ----------------------------------------------------------------------------

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)

EXAMPLE_PATHS = [
    "kind", "msg_type", "status", "references", "priority", "tlp", "distribution",
    "distribution.units", "sent_at", "expires_at", "summary", "language", "flight",
    "flight.number", "flight.date", "flight.route", "flight.route.1", "subjects",
    "subjects.0", "subjects.0.document", "subjects.0.birth_date", "subjects.0.bag_tags",
    "indicators", "requested_action", "seizures", "location", "occurred_at", "grading",
    "grading.source", "ext",
]


def assert_valid_or_refused_cleanly(raw: object) -> None:
    """validate_alert returns a dict or raises InvalidAlert with non-empty string fields."""
    try:
        result = validate(raw)
    except InvalidAlert as refused:
        assert refused.details
        assert all(isinstance(p.field, str) and p.field for p in refused.details)
        assert all(isinstance(p.problem, str) and p.problem for p in refused.details)
    else:
        assert isinstance(result, dict)


alert_like = json_like | st.fixed_dictionaries(
    {}, optional={key: json_like for key in {*passenger_alert(), *seizure_alert()}})


@settings(max_examples=300, deadline=None)
@given(alert_like)
def test_any_json_like_value_is_either_an_alert_or_an_invalid_alert(raw):
    """No input makes validation fail with anything but InvalidAlert."""
    assert_valid_or_refused_cleanly(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([P, S]), st.sampled_from(EXAMPLE_PATHS), json_like)
def test_any_value_anywhere_in_a_valid_alert_is_handled(build, path, value):
    """Arbitrary content at any field of a valid example reaches the deep checks safely."""
    try:
        alert = edited(build, path, value)
    except (KeyError, IndexError):  # the example lacks the parent of that path
        return
    assert_valid_or_refused_cleanly(alert)


def test_the_examples_are_fresh_each_time():
    """passenger_alert() and seizure_alert() share nothing between calls."""
    first, second = passenger_alert(), seizure_alert()
    first["subjects"][0]["surname"] = "CHANGED"
    second["seizures"][0]["quantity"] = 99
    assert ("DOE", 2.4) == (passenger_alert()["subjects"][0]["surname"],
                            seizure_alert()["seizures"][0]["quantity"])


# -- rules a one-line change to the code could break unnoticed (issue 8) -------------------

@pytest.mark.parametrize(("sent_at", "expires_at", "accepted"), [
    ("2026-11-23T08:00:00.5Z", "2026-11-23T08:00:00Z", False),
    ("2026-11-23T08:00:00Z", "2026-11-23T08:00:00.5Z", True),
    ("2026-11-23T09:00:00+01:00", "2026-11-23T08:00:00Z", False),
    ("2026-11-23T08:00:00Z", "2026-11-23T08:00:00.000001Z", True),
])
def test_expires_at_is_compared_with_sent_at_as_a_moment_not_as_text(sent_at, expires_at, accepted):
    """08:00:00.5Z is after 08:00:00Z, although "." sorts before "Z" as text."""
    alert = seizure_alert(sent_at=sent_at, expires_at=expires_at)
    if accepted:
        assert expires_at.replace(".5Z", ".500000Z") == validate(alert)["expires_at"]
    else:
        assert [("expires_at", "must be after sent_at")] == problems(alert)


@pytest.mark.parametrize("reference", [ALERT_ID + "0", ALERT_ID + "\n", "x" + ALERT_ID])
def test_references_is_the_whole_uuid_not_a_prefix_or_suffix(reference):
    """A valid UUID followed or preceded by anything is not an alert_id."""
    alert = seizure_alert(msg_type="update", references=reference)
    assert ["references"] == [field for field, _ in problems(alert)]


def validate_at(alert: dict[str, Any], now: str) -> dict[str, Any]:
    return validate_alert(alert, known_units=KNOWN_UNITS, regions=REGIONS,
                          now=datetime.fromisoformat(now))


@pytest.mark.parametrize(("now", "born", "accepted"), [
    ("2026-11-23T10:30:00+00:00", "2026-11-24", True),   # already the 24th in UTC+14 (Kiribati)
    ("2026-11-23T09:30:00+00:00", "2026-11-24", False),  # the 24th has begun nowhere yet
    ("2026-11-23T10:30:00+00:00", "2026-11-25", False),
    ("2026-11-23T00:00:00+00:00", "2026-11-23", True),   # born today in UTC
])
def test_a_birth_date_is_in_the_future_only_when_it_is_tomorrow_everywhere_on_earth(now, born, accepted):
    """The latest date on earth is today in UTC+14: a baby born there today is valid."""
    alert = passenger_alert()
    alert["subjects"][0]["birth_date"] = born
    if accepted:
        assert born == validate_at(alert, now)["subjects"][0]["birth_date"]
    else:
        with pytest.raises(InvalidAlert) as refused:
            validate_at(alert, now)
        assert [("subjects[0].birth_date", "must not be in the future")] == [
            (p.field, p.problem) for p in refused.value.details]


@pytest.mark.parametrize(("ext", "path"), [
    ({"deep": {"x": math.nan}}, "ext.deep.x"),
    ({"list": [1, math.inf]}, "ext.list[1]"),
    ({"list": [{"y": -math.inf}]}, "ext.list[0].y"),
])
def test_non_finite_numbers_anywhere_inside_ext_are_refused_by_path(ext, path):
    """JSON cannot carry NaN or infinities, at any depth of ext."""
    assert [path] == [field for field, _ in problems(seizure_alert(ext=ext))]


def ext_of_size(size: int) -> dict[str, Any]:
    ext = {"blob": "x" * 300}  # str 16 header: 3 bytes, whatever the length up to 65535
    ext["blob"] = "x" * (size - len(msgpack.packb(ext)) + 300)
    assert size == len(msgpack.packb(ext))
    return ext


def test_ext_of_exactly_4096_bytes_is_accepted_and_4097_refused():
    """alerts.md: ext ≤ 4 KiB encoded, the limit included."""
    assert ext_of_size(4096) == validate(seizure_alert(ext=ext_of_size(4096)))["ext"]
    assert [("ext", "is 4097 bytes encoded; it must be at most 4096")] == problems(
        seizure_alert(ext=ext_of_size(4097)))


def test_the_personal_fields_of_the_table_are_those_of_the_protection_rules():
    """protection.md "Personal fields": names, birth date, document number, seat, PNR
    locator and bag tags of each subject; nothing else."""
    assert ("subjects[].surname", "subjects[].given_names", "subjects[].birth_date",
            "subjects[].document.number", "subjects[].seat", "subjects[].pnr_locator",
            "subjects[].bag_tags") == personal_fields()


@pytest.mark.parametrize(("changes", "expected"), [
    ({"sent_at": "yesterday", "expires_at": "2020-01-01T00:00:00Z"}, [("sent_at", TIMESTAMP)]),
    ({"sent_at": "2026-11-23T09:30:00Z", "expires_at": "soon"}, [("expires_at", TIMESTAMP)]),
])
def test_times_out_of_order_are_not_reported_when_one_of_them_is_already_wrong(changes, expected):
    """A sent_at or expires_at that is not a timestamp is its own problem; no second one
    about their order."""
    assert expected == problems(seizure_alert(**changes))


@pytest.mark.parametrize(("distribution", "expected"), [
    ({"units": "FR-CDG-OFAST"}, [("distribution.units", "must be a list")]),
    ({"units": [], "countries": "TG"}, [("distribution.countries", "must be a list")]),
    ({"units": [], "countries": []}, [("distribution", NOBODY)]),
    ({"units": [], "countries": ["TG"]}, []),
])
def test_a_malformed_distribution_list_is_one_problem_and_counts_as_naming_someone(
        distribution, expected):
    """A list that is not a list is reported once, without also "names nobody"; empty
    lists name nobody; one country is enough."""
    alert = seizure_alert(distribution=distribution)
    if expected:
        assert expected == problems(alert)
    else:
        assert distribution == validate(alert)["distribution"]


def test_a_malformed_route_gets_no_problem_about_its_ends():
    """A route that is not a list of at least two codes is reported as such, alone."""
    assert [("flight.route", "must have at least 2 items")] == problems(
        edited(P, "flight.route", ["ORY"]))
    assert [("flight.route", "must be a list")] == problems(edited(P, "flight.route", "BKO-CDG"))


# The fast paths of validate_alert decide what the full walks would; the walks name paths.
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False),
                    st.text(alphabet=st.sampled_from("ab\x00\\u0é\"")), st.binary(max_size=4))
_nested = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(alphabet=st.sampled_from("k\x00\\u0"), max_size=4),
                                         inner, max_size=3), max_leaves=40)


def _deep(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for level in range(levels - 1):
        value = [value] if level % 2 else {"x": value}
    return {"ext": value}


@given(_nested, st.integers(1, 6))
def test_the_depth_fast_path_agrees_with_the_walk_that_names_the_path(value: Any, limit: int) -> None:
    from relay.contract.validation import _check_depth, _depth_exceeds
    raw = {"ext": value}
    try:
        _check_depth(raw, limit)
        walk_refuses = False
    except InvalidAlert:
        walk_refuses = True
    assert _depth_exceeds(raw, limit) is walk_refuses


@pytest.mark.parametrize("levels", [32, 33])
def test_the_depth_fast_path_at_the_limit(levels: int) -> None:
    from relay.contract.validation import _depth_exceeds
    assert _depth_exceeds(_deep(levels), 32) is (levels > 32)


@given(_nested)
def test_the_nul_fast_path_never_misses_a_nul_the_walk_finds(value: Any) -> None:
    from relay.contract.validation import _may_hold_nul, _nul_paths
    raw = {"ext": value}
    if _nul_paths(raw, ""):
        assert _may_hold_nul(raw)
