"""relay.reference: standard codes from airportsdata, pycountry and langcodes."""

from __future__ import annotations

import pytest

from relay.contract.reference import (
    airport_country,
    is_airport,
    is_country,
    is_currency,
    is_language_tag,
)


@pytest.mark.parametrize(("iata", "country"), [
    ("BKO", "ML"), ("CMN", "MA"), ("CDG", "FR"), ("LFW", "TG"), ("ADD", "ET"), ("GRU", "BR"),
])
def test_an_airport_has_the_iso_country_it_is_in(iata, country):
    """airport_country maps an IATA code to its ISO 3166-1 alpha-2 country."""
    assert country == airport_country(iata)


@pytest.mark.parametrize("code", ["XQX", "bko", "BKOX", "", "LFPG", 42, None])
def test_an_unknown_or_malformed_airport_has_no_country(code):
    """Anything that is not a known upper-case IATA code gives None, never an error."""
    assert airport_country(code) is None
    assert is_airport(code) is False


def test_known_airports_are_airports():
    """is_airport accepts the codes airportsdata knows."""
    assert [True, True, True] == [is_airport(code) for code in ("BKO", "CDG", "LFW")]


@pytest.mark.parametrize(("code", "expected"), [
    ("FR", True), ("ML", True), ("TG", True), ("fr", False), ("Fr", False), ("FRA", False),
    ("XK", False), ("", False), (None, False), (["FR"], False),
])
def test_countries_are_upper_case_iso_3166_alpha_2_codes(code, expected):
    """is_country is exactly ISO 3166-1 alpha-2, upper case; user-assigned XK is not one."""
    assert expected == is_country(code)


@pytest.mark.parametrize(("code", "expected"), [
    ("EUR", True), ("XOF", True), ("USD", True), ("eur", False), ("EU", False), ("EURO", False),
    ("KG", False), (None, False),
])
def test_currencies_are_upper_case_iso_4217_codes(code, expected):
    """is_currency is exactly ISO 4217 alphabetic, upper case."""
    assert expected == is_currency(code)


@pytest.mark.parametrize(("tag", "expected"), [
    ("fr", True), ("en", True), ("pt-BR", True), ("EN", True), ("en-GB-oxendict", True),
    ("zz", False), ("english", False), ("fr_FR", False), ("", False), ("fr-", False),
    ("a" * 36, False), ("fr\n", False), (None, False),
])
def test_language_tags_are_valid_bcp_47(tag, expected):
    """is_language_tag accepts registered BCP 47 tags in RFC 5646 syntax, in any case."""
    assert expected == is_language_tag(tag)
