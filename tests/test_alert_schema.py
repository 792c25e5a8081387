"""relay.contract.schema: the JSON Schema generated from the field table agrees with the
validation that walks the same table, in both directions: it never refuses what validation
accepts, and what it accepts validation refuses only for reasons JSON Schema cannot say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.contract.errors import InvalidAlert
from relay.contract.fields import ALERT_FIELDS, RELAY_FIELDS, SHOWN_STATE_FIELDS
from relay.contract.schema import ALERT_EXAMPLES, alert_json_schema, alert_schemas, beyond_schema
from relay.contract.validation import validate_alert
from tests.alert_examples import passenger_alert, seizure_alert
from tests.test_validation import (
    ALERT_ID,
    EXAMPLE_PATHS,
    ITEM,
    KNOWN_UNITS,
    REGIONS,
    REMOVE,
    SUBJECT,
    edited,
    json_like,
)

P = passenger_alert
S = seizure_alert


_VALIDATORS: dict[bool, Any] = {}


@pytest.fixture(autouse=True)
def published_schema() -> Iterator[None]:
    """The published schema as validators, built afresh for each test (so that a mutation
    run sees, in every test, the schema its mutant builds)."""
    for stored in (False, True):
        _VALIDATORS[stored] = jsonschema_rs.validator_for(alert_json_schema(stored=stored),
                                                          validate_formats=True)
    yield
    _VALIDATORS.clear()


def validator(*, stored: bool = False) -> Any:
    return _VALIDATORS[stored]
RELAY_ADDS = {"alert_id": "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "origin_unit": "ML-BKO-JAITF",
              "received_at": "2026-11-23T08:00:01.204Z"}


def accepted(alert: Any) -> dict[str, Any] | None:
    """The normalised alert if relay.validation accepts it, else None."""
    try:
        return validate_alert(alert, known_units=KNOWN_UNITS, regions=REGIONS)
    except InvalidAlert:
        return None


def assert_schema_accepts(alert: Any) -> None:
    """The alert as sent fits NewAlert; as the relay stores it, Alert."""
    normal = accepted(alert)
    assert normal is not None, "relay.validation refuses it: not a valid alert"
    assert [] == [f"{e.instance_path}: {e.message}" for e in validator().iter_errors(alert)]
    stored = {**normal, **RELAY_ADDS}
    assert [] == [f"{e.instance_path}: {e.message}" for e in validator(stored=True).iter_errors(stored)]


@pytest.mark.parametrize("alert", [
    pytest.param(passenger_alert(), id="tests-passenger"),
    pytest.param(seizure_alert(), id="tests-seizure"),
    *(pytest.param(alert, id=f"document-{kind}") for kind, alert in ALERT_EXAMPLES.items()),
])
def test_every_example_alert_fits_the_schema(alert):
    """The examples of the tests and of the OpenAPI document, as sent and as stored."""
    assert_schema_accepts(alert)


@pytest.mark.parametrize("alert", [
    pytest.param(edited(P, "flight.number", "2W5"), id="flight-digit-letter-airline"),
    pytest.param(edited(P, "flight.number", "5Y1234A"), id="flight-4-digits-and-suffix"),
    pytest.param(edited(P, "flight.route", ["BKO", "CDG"]), id="route-of-two"),
    pytest.param(edited(P, "flight.date", REMOVE), id="flight-without-date"),
    pytest.param(edited(P, "sent_at", "2026-11-23t09:00:00.123456789+01:00"), id="sent-at-offset"),
    pytest.param(edited(P, "expires_at", "2026-11-23T17:00:00-05:30"), id="expires-at"),
    pytest.param(edited(P, "seizures", [ITEM] * 50), id="passenger-with-50-seizures"),
    pytest.param(edited(P, "subjects", [SUBJECT] * 50), id="50-subjects"),
    pytest.param(edited(P, "subjects.0", {**SUBJECT, "given_names": "", "seat": "",
                                          "pnr_locator": "p" * 16, "bag_tags": ["b" * 32] * 50,
                                          "birth_date": "1990-01-31",
                                          "document": {"type": "other", "number": "n" * 64}}),
                 id="subject-limits"),
    pytest.param(edited(P, "indicators", ["x" * 64] * 30), id="30-indicators-of-64"),
    pytest.param(edited(P, "tlp", "red"), id="red-to-units"),
    pytest.param(edited(P, "summary", "\U0001F6EB" * 2000), id="summary-of-2000-astral"),
    pytest.param(edited(P, "language", "zh-Hant-TW"), id="language-script-region"),
    pytest.param(edited(P, "msg_type", "update") | {"references": ALERT_ID}, id="update"),
    pytest.param(edited(S, "msg_type", "cancel") | {"references": ALERT_ID, "status": "test"},
                 id="cancel-test"),
    pytest.param(edited(S, "subjects", []), id="seizure-with-no-subjects"),
    pytest.param(edited(S, "seizures", [ITEM] * 50), id="50-seizures"),
    pytest.param(edited(S, "seizures.0.quantity", 1e-300), id="tiny-quantity"),
    pytest.param(edited(S, "seizures.0", {"commodity": "cash", "quantity": 15000.5,
                                          "unit": "XOF", "description": "d" * 500}),
                 id="cash-in-cfa-francs"),
    pytest.param(edited(S, "seizures.0", {"commodity": "cash", "quantity": 2, "unit": "kg"}),
                 id="cash-by-weight"),
    pytest.param(edited(S, "distribution", {"regions": ["G5-SAHEL"], "units": ["ML-BKO-JAITF"],
                                            "countries": []}), id="regions-and-units"),
    pytest.param(edited(S, "distribution", {"all": True}), id="all"),
    pytest.param(edited(S, "flight", {"number": "ET0937", "origin": "ADD",
                                      "destination": "LFW"}), id="seizure-with-flight"),
    pytest.param(edited(S, "ext", {"case": {"ref": [1, 2.5, None, True]}, "n": 1}),
                 id="ext-free-content"),
    pytest.param(edited(S, "grading", {"source": "F", "information": "6"}), id="grading-F6"),
])
def test_valid_variants_fit_the_schema(alert):
    """Each optional field, each limit reached, each allowed combination."""
    assert_schema_accepts(alert)


def _timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 in its variants: offsets, fractions of any length, lower-case t and z."""
    return st.builds(
        lambda moment, fraction, offset, t: f"{moment:%Y-%m-%d}{t}{moment:%H:%M:%S}{fraction}{offset}",
        st.datetimes(), st.sampled_from(["", ".5", ".123456", ".123456789"]),
        st.sampled_from(["Z", "z", "+00:00", "-05:30", "+14:00", "+23:59", ""]),
        st.sampled_from(["T", "t", " "]))


_TEXT = st.text(max_size=40)
# Values near the limits of each field, so that validation accepts a good share of them.
NEAR_VALID: dict[str, st.SearchStrategy[Any]] = {
    "summary": st.text(max_size=2010),
    "language": st.from_regex(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,3}", fullmatch=True),
    "sent_at": _timestamps(),
    "expires_at": _timestamps(),
    "occurred_at": _timestamps(),
    "flight.scheduled_arrival": _timestamps(),
    "flight.number": st.from_regex(r"[A-Z0-9]{2}[0-9]{1,5}[A-Z]?", fullmatch=True),
    "flight.date": st.dates().map(str),
    "subjects.0.birth_date": st.dates().map(str),
    "subjects.0.given_names": st.text(max_size=210),
    "subjects.0.seat": st.text(max_size=10),
    "subjects.0.pnr_locator": st.text(max_size=18),
    "subjects.0.bag_tags": st.lists(st.text(max_size=34), max_size=52),
    "subjects.0.nationality": st.from_regex(r"[A-Z]{2}", fullmatch=True),
    "indicators": st.lists(st.text(max_size=66), max_size=32),
    "seizures.0.quantity": st.floats() | st.integers(),
    "seizures.0.unit": st.from_regex(r"[A-Z]{3}", fullmatch=True) | st.sampled_from(["kg", "l"]),
    "seizures.0.description": st.text(max_size=510),
    "distribution.countries": st.lists(st.from_regex(r"[A-Z]{2}", fullmatch=True), max_size=3),
    "grading.information": st.sampled_from("0123456789"),
    "ext": st.dictionaries(_TEXT, json_like, max_size=5),
}


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from([P, S]), st.data())
def test_whatever_validation_accepts_the_schema_accepts(build, data):
    """Any value at any field of an example: if relay.validation takes it, so does the schema."""
    path = data.draw(st.sampled_from(sorted({*EXAMPLE_PATHS, *NEAR_VALID})))
    value = data.draw(NEAR_VALID.get(path, json_like))
    try:
        alert = edited(build, path, value)
    except (KeyError, IndexError, TypeError):  # the example lacks the parent of that path
        return
    if accepted(alert) is not None:
        assert_schema_accepts(alert)


def refusal_codes(alert: Any) -> set[str]:
    """The problem codes with which validation refuses ``alert`` (empty: accepted)."""
    try:
        validate_alert(alert, known_units=KNOWN_UNITS, regions=REGIONS)
    except InvalidAlert as refused:
        return {problem.code for problem in refused.details}
    return set()


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from([P, S]), st.data())
def test_whatever_the_schema_accepts_validation_accepts_or_refuses_beyond_schema(build, data):
    """One to three fields of an example changed at random: when the published schema
    accepts the result, validation accepts it too, or refuses it only with a problem that
    JSON Schema cannot express (a unit or region the relay does not know, an airport not
    on the list, a size measured encoded, a blank summary, times out of order...)."""
    alert = build()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(sorted({*EXAMPLE_PATHS, *NEAR_VALID})))
        value = data.draw(NEAR_VALID.get(path, json_like))
        try:
            alert = edited(lambda alert=alert: alert, path, value)
        except (KeyError, IndexError, TypeError):  # the alert lacks the parent of that path
            continue
    if validator().is_valid(alert):
        assert refusal_codes(alert) <= beyond_schema()


@pytest.mark.parametrize(("alert", "code"), [
    pytest.param(edited(S, "distribution", {"units": ["XX-NOBODY"]}), "unknown_unit", id="unit"),
    pytest.param(edited(S, "distribution", {"regions": ["ATLANTIS"]}), "unknown_region",
                 id="region"),
    pytest.param(edited(S, "location", "QQQ"), "unknown_airport", id="airport"),
    pytest.param(edited(S, "summary", "   "), "blank", id="blank-summary"),
    pytest.param(edited(S, "expires_at", "2026-11-23T09:00:00Z"), "not_after", id="expired"),
    pytest.param(edited(P, "flight.route", ["BKO", "CMN", "ORY"]), "route_end", id="route"),
    pytest.param(edited(P, "subjects.0.birth_date", "2999-01-01"), "in_the_future", id="born"),
    pytest.param(edited(S, "language", "xx-qqqqqqqq"), "bad_language_tag", id="language"),
    pytest.param(edited(S, "ext", {"blob": "x" * 5000}), "too_large", id="ext-size"),
])
def test_the_rules_beyond_the_schema_are_exactly_the_documented_ones(alert, code):
    """Each rule JSON Schema cannot say: the schema accepts the alert, validation refuses
    it with that code, and the code is one of beyond_schema()."""
    assert validator().is_valid(alert)
    assert {code} == refusal_codes(alert)
    assert code in beyond_schema()


@pytest.mark.parametrize("alert", [
    pytest.param(edited(P, "flight", REMOVE), id="passenger-without-flight"),
    pytest.param(edited(P, "subjects", []), id="passenger-without-subjects"),
    pytest.param(edited(P, "requested_action", REMOVE), id="passenger-without-action"),
    pytest.param(edited(S, "seizures", []), id="seizure-without-items"),
    pytest.param(edited(S, "location", REMOVE), id="seizure-without-location"),
    pytest.param(edited(S, "references", ALERT_ID), id="alert-with-references"),
    pytest.param(edited(S, "msg_type", "cancel"), id="cancel-without-references"),
    pytest.param(edited(S, "tlp", "red"), id="red-to-countries"),
    pytest.param(edited(S, "distribution", {"units": [], "countries": []}), id="nobody"),
    pytest.param(edited(S, "distribution", {"all": True, "countries": ["ML"]}), id="all-and-more"),
    pytest.param(edited(S, "seizures.0.unit", "EUR"), id="cocaine-in-euros"),
    pytest.param(edited(S, "alert_id", ALERT_ID), id="relay-field"),
    pytest.param(edited(S, "colour", "red"), id="unknown-field"),
])
def test_the_schema_says_the_cross_field_rules(alert):
    """What alerts.md forbids across fields, and unknown fields, the schema refuses too."""
    assert accepted(alert) is None
    assert not validator().is_valid(alert)


def test_the_schema_names_exactly_the_fields_of_the_alert():
    """Each kind lists every client field; stored alerts add the relay's."""
    for kind in ("Passenger", "Seizure"):
        assert ALERT_FIELDS | {"kind"} == set(alert_schemas()[f"{kind}Alert"]["properties"])
        assert ALERT_FIELDS | RELAY_FIELDS - {"seq"} | SHOWN_STATE_FIELDS - {"reduced_at"} == set(
            alert_schemas()[f"Stored{kind}Alert"]["properties"])
    reduced = set(alert_schemas()["ReducedAlert"]["properties"])
    assert reduced == {"alert_id", "kind", "msg_type", "references", "origin_unit", "origin_relay",
                       "distribution", "tlp", "status", "sent_at", "received_at", "origin_seq",
                       "audience", "masked_at", "reduced_at"}


def too_far(spec: Any, example: Any) -> list[Any]:
    """Values just outside what ``spec`` allows (from the table itself)."""
    from relay.contract import specs as s
    from relay.contract.fields import DistributionSpec, SeizureUnit

    if isinstance(spec, s.Text):
        return ["x" * (spec.high + 1), *([""] if spec.low else []), 5]
    if isinstance(spec, s.Choice):
        return ["not-a-choice", 1]
    if isinstance(spec, s.ListOf):
        values: list[Any] = ["not-a-list"]
        if spec.high is not None and isinstance(example, list) and example:
            values.append([example[0]] * (spec.high + 1))
        return values
    if isinstance(spec, s.Record):
        return [{"unknown_field": 1}, []]
    kinds = {s.Airport: ["xyz", "ABCD"], s.Country: ["XX", "fr"], s.Timestamp: ["yesterday"],
             s.Day: ["2026-13-45", "23/11/2026"], s.FlightNumber: ["A1", "12345"],
             s.LanguageTag: ["x" * 36, "fr_FR"], s.AlertReference: ["nope"],
             s.Quantity: [0, -1, "1"], s.FreeMap: [[], "x"], SeizureUnit: ["tons"],
             DistributionSpec: [{"colour": ["red"]}, []]}
    return kinds[type(spec)]


def table_cases() -> list[Any]:
    """(example, dotted path, value) for every field of the table and every value just
    past what it allows."""
    from relay.contract.fields import ALERT
    from relay.contract.specs import ListOf, Record

    cases = []

    def walk(record: Any, prefix: str) -> None:
        for spec_field in record.fields:
            path = f"{prefix}{spec_field.name}"
            for build in (P, S):
                example: Any = build()
                try:
                    for part in path.split("."):
                        example = example[int(part) if part.isdigit() else part]
                except (KeyError, IndexError, TypeError):
                    example = None
                if example is None and "." in path:
                    continue
                for value in too_far(spec_field.spec, example):
                    cases.append(pytest.param(build, path, value, id=f"{build.__name__}-{path}-{value!r:.20}"))
            spec = spec_field.spec
            inner = spec.item if isinstance(spec, ListOf) else spec
            if isinstance(inner, Record):
                walk(inner, f"{path}.0." if isinstance(spec, ListOf) else f"{path}.")

    walk(ALERT, "")
    return cases


@pytest.mark.parametrize(("build", "path", "value"), table_cases())
def test_every_field_of_the_table_is_bounded_alike_in_the_schema_and_in_validation(build, path, value):
    """Each field of the table, given a value just past its rule (one character, one
    item too many, a wrong choice, a malformed code...): validation refuses it, and so
    does the published schema, at every field."""
    alert = edited(build, path, value)
    assert refusal_codes(alert), f"validation accepts {path}={value!r:.40}"
    assert not validator().is_valid(alert), f"the schema accepts {path}={value!r:.40}"
