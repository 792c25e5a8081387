"""Standard codes, from libraries made for them, loaded once.

IATA airports from ``airportsdata``; ISO 3166-1 countries and ISO 4217 currencies from
``pycountry``; BCP 47 language tags from ``langcodes``.
"""

from __future__ import annotations

import functools

import airportsdata
import langcodes
import pycountry

__all__ = ["airport_country", "is_airport", "is_country", "is_currency", "is_language_tag"]


@functools.cache
def _airports() -> dict[str, str]:
    return {code: str(row["country"]) for code, row in airportsdata.load("IATA").items()}


@functools.cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@functools.cache
def _currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def airport_country(iata: str) -> str | None:
    """The ISO alpha-2 country of an IATA airport code, or None if the code is unknown."""
    return _airports().get(iata)


def is_airport(code: str) -> bool:
    return isinstance(code, str) and code in _airports()


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code, upper case."""
    return isinstance(code, str) and code in _countries()


def is_currency(code: str) -> bool:
    """An ISO 4217 alphabetic code, upper case."""
    return isinstance(code, str) and code in _currencies()


@functools.cache
def is_language_tag(tag: str) -> bool:
    """A well-formed, valid BCP 47 tag."""
    return isinstance(tag, str) and 0 < len(tag) <= 35 and bool(langcodes.tag_is_valid(tag))
