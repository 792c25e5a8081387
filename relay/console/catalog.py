"""What the console reads from the contract's own modules, so that it can never lag
behind them: the sentence of every problem code in French and English, and the lists an
alert is written from. Pure functions.

- :func:`render_problems`: the relay's problems (``code`` and ``params``, docs/protocol.md
  "Problem codes") as sentences in the console's language, rendered by
  :func:`relay.contract.problems_fr.problem_text`, the same function as the ``relay``
  command's. A code the relay does not know, or params that do not fit its sentence,
  give ``None``: the console then shows the English ``problem`` the relay sent.
- :func:`reference_json`: IATA airports (name, city, country), ISO 3166-1 countries with
  their English and French names, ISO 4217 currencies, and every choice of the alert
  model (alerts.md), encoded once.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping, Sequence
from typing import Any, Final

import airportsdata
import orjson
import pycountry

from relay.contract import model, reference
from relay.contract.fields import GRADING_INFORMATION, GRADING_SOURCES
from relay.contract.i18n import LANGUAGES, Language
from relay.contract.problems import PROBLEM_CODES
from relay.contract.problems_fr import problem_text
from relay.contract.roles import ROLES

__all__ = ["CHOICES", "INDICATORS", "MAX_PROBLEMS", "ProblemRequestError", "reference_json",
           "render_problems"]

MAX_PROBLEMS: Final = 500  # more than any error carries (an alert has at most ~3,000 fields)
# The risk indicators alerts.md gives as examples: offered as choices, others may be typed.
INDICATORS: Final = ("cash_ticket", "one_way", "last_minute_booking", "source_country_route",
                     "ingestion_signs", "inconsistent_story", "tip_off")
# Every closed list of the alert model and the stream, under the name the console uses.
CHOICES: Final[Mapping[str, Sequence[str]]] = {
    "kind": model.KINDS,
    "msg_type": model.MSG_TYPES,
    "status": model.STATUSES,
    "priority": model.PRIORITIES,
    "tlp": model.TLP_LEVELS,
    "receipt": model.RECEIPT_STATUSES,
    "commodity": model.COMMODITIES,
    "subject_role": model.SUBJECT_ROLES,
    "document_type": model.DOCUMENT_TYPES,
    "requested_action": model.REQUESTED_ACTIONS,
    "concealment": model.CONCEALMENTS,
    "detection": model.DETECTIONS,
    "quantity_unit": model.MASS_VOLUME_COUNT_UNITS,
    "grading_source": GRADING_SOURCES,
    "grading_information": GRADING_INFORMATION,
    "role": tuple(sorted(ROLES)),
    "indicator": INDICATORS,
}


class ProblemRequestError(ValueError):
    """The request to render problems is not ``{"language", "problems": [{"code",
    "params"}, ...]}``; the message names what is wrong."""


def render_problems(request: object) -> list[str | None]:
    """The sentence of each problem of ``request`` in its language, or None."""
    if not isinstance(request, dict):
        raise ProblemRequestError("the body must be a JSON object")
    unknown = sorted(set(request) - {"language", "problems"})
    if unknown:
        raise ProblemRequestError(f"unknown field {unknown[0]!r}")
    language = request.get("language")
    if language not in LANGUAGES:
        raise ProblemRequestError(f"language must be one of {', '.join(LANGUAGES)}")
    problems = request.get("problems")
    if not isinstance(problems, list) or len(problems) > MAX_PROBLEMS:
        raise ProblemRequestError(f"problems must be a list of at most {MAX_PROBLEMS}")
    return [_sentence(item, language) for item in problems]


def _sentence(item: object, language: Language) -> str | None:
    if not isinstance(item, dict):
        return None
    code, params = item.get("code"), item.get("params", {})
    if not isinstance(code, str) or code not in PROBLEM_CODES or not isinstance(params, dict) \
            or not all(_flat(value) for value in params.values()):
        return None  # the relay's params are scalars or lists of scalars: nothing else is told
    try:
        return problem_text(code, params, language)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None  # params that do not fit the sentence: the relay's English stands


def _flat(value: object) -> bool:
    """A scalar, or a list of at most 500 scalars, of bounded size."""
    def scalar(item: object) -> bool:
        return item is None or isinstance(item, bool | int | float) or (
            isinstance(item, str) and len(item) <= 1000)
    return scalar(value) or (isinstance(value, list) and len(value) <= 500
                             and all(scalar(item) for item in value))


@functools.cache
def reference_json() -> bytes:
    """The reference lists as one JSON document (about 400 kB), built on first use."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"],
                                 fallback=True)
    countries = {
        country.alpha_2: {"en": country.name, "fr": french.gettext(country.name)}
        for country in sorted(pycountry.countries, key=lambda c: c.alpha_2)
    }
    airports = {
        code: [row["name"], row["city"], row["country"]]
        for code, row in sorted(airportsdata.load("IATA").items())
        if reference.is_airport(code)
    }
    document: dict[str, Any] = {
        "languages": list(LANGUAGES),
        "choices": {name: list(values) for name, values in CHOICES.items()},
        "countries": countries,
        "currencies": list(reference.currency_codes()),
        "airports": airports,
    }
    return orjson.dumps(document)
