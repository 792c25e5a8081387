"""Standard codes, from the libraries made for them, loaded once on first use.

- IATA airports: ``airportsdata.load("IATA")`` (alerts.md: "IATA airport codes, validated
  against a real airport list");
- ISO 3166-1 alpha-2 countries and ISO 4217 currencies: ``pycountry``;
- BCP 47 language tags: ``langcodes.tag_is_valid``.

Every function is pure and total: it accepts any value (a caller may pass what a client
sent) and answers False or None for anything that is not a code, never raising. Codes are
case-sensitive: countries, currencies and airports are upper case only.
"""

from __future__ import annotations

import functools
import re

import airportsdata
import langcodes
import pycountry

__all__ = [
    "LANGUAGE_TAG_SYNTAX",
    "MAX_LANGUAGE_TAG",
    "airport_country",
    "country_codes",
    "currency_codes",
    "is_airport",
    "is_country",
    "is_currency",
    "is_language_tag",
]

# RFC 5646 section 4.4.1 advises at least 35 characters; longer tags are not worth parsing.
MAX_LANGUAGE_TAG = 35
# RFC 5646 section 2.1 syntax: subtags of ASCII letters and digits joined by hyphens.
# langcodes alone also accepts "fr_FR", which is not BCP 47.
LANGUAGE_TAG_SYNTAX = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*")


@functools.cache
def _airports() -> dict[str, str]:
    """IATA code → ISO alpha-2 country, for every airport ``airportsdata`` knows."""
    return {code: str(row["country"]) for code, row in airportsdata.load("IATA").items()}


@functools.cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@functools.cache
def _currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def country_codes() -> tuple[str, ...]:
    """Every code :func:`is_country` accepts, sorted."""
    return tuple(sorted(_countries()))


def currency_codes() -> tuple[str, ...]:
    """Every code :func:`is_currency` accepts, sorted."""
    return tuple(sorted(_currencies()))


def airport_country(iata: str) -> str | None:
    """The ISO 3166-1 alpha-2 country of an IATA airport code; None if the code is unknown.

    The country is the one ``airportsdata`` records, which may be a user-assigned code that
    :func:`is_country` rejects (``XK`` for Kosovo's PRN).
    """
    if not isinstance(iata, str):
        return None
    return _airports().get(iata)


def is_airport(code: str) -> bool:
    """True for an IATA airport code (3 upper-case letters) known to ``airportsdata``."""
    return isinstance(code, str) and code in _airports()


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 country code, upper case (``FR``, not ``fr``)."""
    return isinstance(code, str) and code in _countries()


def is_currency(code: str) -> bool:
    """True for an ISO 4217 alphabetic currency code, upper case (``EUR``, not ``eur``)."""
    return isinstance(code, str) and code in _currencies()


def is_language_tag(tag: str) -> bool:
    """True for a well-formed and valid BCP 47 tag (``fr``, ``pt-BR``): RFC 5646 syntax,
    and subtags that langcodes finds in the IANA registry. Case does not matter."""
    return (isinstance(tag, str) and len(tag) <= MAX_LANGUAGE_TAG
            and LANGUAGE_TAG_SYNTAX.fullmatch(tag) is not None and _valid_tag(tag))


# Bounded, unlike the tables above: the tags come from clients, and a parse costs ~8 µs.
@functools.lru_cache(maxsize=1024)
def _valid_tag(tag: str) -> bool:
    return bool(langcodes.tag_is_valid(tag))
