"""Problems: what is wrong with one field of a frame, an alert or a request.

A :class:`Problem` names the field by its dotted path (``subjects[0].document.number``),
a stable ``code`` (a snake_case word per kind of problem) and the ``params`` its sentence
needs (the allowed choices, the limit, the value given...). The English sentence is
rendered from the code and the params by :data:`ENGLISH`; a client shows the problem in
its own language from the same code and params (``docs/protocol.md`` "Problem codes").

On the wire a problem is ``{"field", "problem", "code", "params"}``: ``problem`` (the
English sentence) is the contract's, ``code`` and ``params`` the relay's addition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

__all__ = ["ENGLISH", "PROBLEM_CODES", "Problem", "english", "quoted", "span"]

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, at one field; ``problem`` is its English sentence."""

    field: str
    code: str
    params: Params = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ENGLISH:
            raise ValueError(f"no sentence for the problem code {self.code!r}")

    @property
    def problem(self) -> str:
        return english(self.code, self.params)

    def as_dict(self) -> dict[str, Any]:
        """The problem as it travels in an error frame or an HTTP error body."""
        return {"field": self.field, "problem": self.problem, "code": self.code,
                "params": dict(self.params)}


def quoted(value: object) -> str:
    """A client's value quoted for a sentence, cut to a readable length."""
    text = value if isinstance(value, str) else str(value)
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "…"


def span(params: Params, unit: str) -> str:
    """``1 to 50 items``, ``at most 50 items`` or ``at least 2 items`` from ``low``/``high``."""
    low, high = params.get("low", 0), params.get("high")
    if high is None:
        return f"at least {low} {unit}"
    return f"{low} to {high} {unit}" if low else f"at most {high} {unit}"


def _choices(params: Params) -> str:
    return ", ".join(str(item) for item in params["allowed"])


def _required_for_kind(params: Params) -> str:
    hint = {
        "subjects": f" ({params.get('low')} to {params.get('high')} subjects)",
        "seizures": f" ({params.get('low')} to {params.get('high')} items)",
        "location": " (the IATA airport code where it happened)",
    }.get(params.get("field", ""), "")
    return f"is required for a {params['kind']} alert{hint}"


def _country(params: Params) -> str:
    expected = "an ISO 3166-1 alpha-2 country code (2 upper-case letters, e.g. ML)"
    if "value" in params:
        return f"{quoted(params['value'])} is not {expected}"
    return f"must be {expected}"


def _language_tag(params: Params) -> str:
    if "value" in params:
        return f"{quoted(params['value'])} is not a valid BCP 47 language tag (e.g. fr, en, pt-BR)"
    return "must be a BCP 47 language tag (a string, e.g. fr, en, pt-BR)"


def _unknown_region(params: Params) -> str:
    known = ", ".join(params["known"]) or "none"
    return f"unknown region {quoted(params['value'])} (known regions: {known})"


_TIMESTAMP = "an RFC 3339 timestamp with a time offset, e.g. 2026-11-23T08:00:00Z"

# code -> the English sentence: a template over the params, or a function of them.
ENGLISH: Mapping[str, str | Callable[[Params], str]] = {
    # shapes
    "required": "is required",
    "required_for_kind": _required_for_kind,
    "unknown_field": "unknown field",
    "set_by_relay": "unknown field: the relay sets it, a client may not",
    "not_a_map": "must be a map",
    "not_a_list": "must be a list",
    "not_a_string": "must be a string",
    "not_a_number": "must be a number",
    "not_one_of": lambda p: f"must be one of {_choices(p)}",
    "item_count": lambda p: f"must have {span(p, 'items')}",
    "length": lambda p: f"must be {span(p, 'characters')} long",
    "string_length": lambda p: f"must be a string of {span(p, 'characters')}",
    "nul_character": "must not contain the NUL character (U+0000), which cannot be stored",
    "control_character": "must not contain the control character {character} (only tab and "
                         "newline are allowed)",
    "too_deep": "nests maps and lists more than {limit} levels deep",
    "blank": "must not be only whitespace",
    "min_integer": "must be an integer >= {low}",
    "integer_range": "must be an integer from {low} to {high}",
    "too_large": "is {size} bytes encoded; it must be at most {limit}",
    "cannot_encode": "holds a value that cannot be encoded ({reason})",
    "not_json_value": "must hold only JSON values: no binary data, non-finite numbers or "
                      "integers beyond 64 bits (the alert travels in both encodings)",
    "string_keys": "must have string keys",
    "not_json_object": "must be a JSON object",
    "too_slow": "did not arrive within {seconds} s",
    # codes and ids
    "bad_iata": "must be an IATA airport code (3 upper-case letters, e.g. CDG)",
    "unknown_airport": lambda p: f"unknown IATA airport code {p['value']!r}",
    "bad_country": _country,
    "bad_language_tag": _language_tag,
    "bad_flight_number": "must be an IATA flight designator: a 2-character airline code (not "
                         "two digits), 1 to 4 digits and an optional letter, e.g. AT571",
    "bad_alert_id": "must be an alert id: a UUID in lower-case hex, 8-4-4-4-12",
    "bad_reference": "must be the alert_id of the referenced alert: a UUID in lower-case hex, "
                     "8-4-4-4-12",
    "bad_unit_id": "must be a unit id (upper-case letters, digits and hyphens, 3 to 40)",
    "unknown_unit": lambda p: f"unknown unit {quoted(p['value'])}",
    "not_a_unit_id": "must be a unit id (a string)",
    "not_a_region_name": "must be a region name (a string)",
    "unknown_region": _unknown_region,
    "bad_seizure_unit": lambda p: f"must be one of {', '.join(p['units'])}, or an ISO 4217 "
                                  "currency code (e.g. EUR) for cash",
    "currency_only_for_cash": lambda p: f"a currency ({p['unit']}) is a unit only for cash; "
                                        f"use one of {', '.join(p['units'])}",
    "not_positive": "must be a finite number greater than 0",
    # time
    "bad_timestamp": f"must be {_TIMESTAMP}",
    "no_time_offset": "has no time offset: end it with Z (UTC) or ±hh:mm",
    "not_a_real_moment": lambda p: f"{quoted(p['value'])} is not a real date and time",
    "bad_date": "must be a date YYYY-MM-DD, e.g. 2026-11-23",
    "not_a_real_date": lambda p: f"{p['value']!r} is not a real calendar date",
    "in_the_future": "must not be in the future",
    "not_after": "must be after {other}",
    # cross-field rules of alerts.md
    "references_not_allowed": "must be absent when msg_type is alert: only an update or a "
                              "cancel references an alert",
    "references_required": lambda p: "is required for "
                                     f"{'an' if p['msg_type'] == 'update' else 'a'} {p['msg_type']}",
    "route_end": lambda p: f"must be the flight's {p['end']} {p['expected']!r}",
    "not_for_red": "is not allowed for a red alert: name the units",
    "red_needs_units": "must name at least one unit for a red alert",
    "no_recipient": 'must name at least one unit, country or region, or be {{"all": true}}',
    "all_must_be_true": 'must be true ({{"all": true}} addresses every unit)',
    "all_alone": "cannot be combined with units, countries or regions",
    # the stored log
    "no_such_alert": "no such alert",
    "alert_of_another_unit": "an alert of another unit",
    "kind_of_referenced": "must be {kind}, as the referenced alert",
    "beyond_head": "must be at most the relay's head ({head}); was the client's cursor kept "
                   "from another relay?",
    # HTTP requests
    "unknown_parameter": "unknown query parameter",
    "unknown_filter_key": "unknown filter key",
    "repeated": "must be given at most once",
    "bad_cursor": "is not a cursor this relay gave out",
    "key_reused": "already used for another alert by this unit",
    # units and tokens (admin.md)
    "already_exists": lambda p: f"{quoted(p['value'])} already exists",
    "last_admin": "would leave the relay without an active admin unit",
    "unit_suspended": "the unit {value} is suspended; reinstate it first",
    "not_suspended": "the unit {value} is not suspended",
    "unknown_token": lambda p: f"unknown token {quoted(p['value'])}",
    "already_revoked": "the token {value} is already revoked",
    "bad_header": "must be the header line {expected}",
    "column_count": "must have {expected} columns, not {found}",
    "repeated_in_file": "already appears on line {line}",
    "not_csv": "is not valid CSV (an unclosed quote, or a field too long)",
    "not_a_boolean": "must be true or false",
    "not_an_integer": "must be an integer",
    # federation (federation.md)
    "bad_relay_id": "must be a relay id: 2 to 20 upper-case letters, digits or '-' (e.g. ML, G5-PCMS)",
    "unknown_peer": lambda p: f"no peer relay {quoted(p['value'])}",
    "peer_revoked": "the peer {value} is already revoked",
    "not_a_unit": "must be a unit: unit_id, country, optional airport and name",
    # passengers' personal data (protection.md)
    "bad_date_or_timestamp": "must be a date YYYY-MM-DD or an RFC 3339 timestamp with a time "
                             "offset, e.g. 2027-06-30 or 2027-06-30T00:00:00Z",
    "in_the_past": "must be in the future",
    "keys_destroyed": "the alert's personal fields can no longer be read: its data key was "
                      "destroyed (at masking with shred_on_mask, or when it was reduced)",
    "personal_unreadable": "the alert's sealed personal fields cannot be opened (a damaged row, "
                           "or a key that the relay's key file does not hold); tell the relay "
                           "operator",
}
PROBLEM_CODES = frozenset(ENGLISH)


def english(code: str, params: Params) -> str:
    """The English sentence of a problem."""
    template = ENGLISH[code]
    return template(params) if callable(template) else template.format_map(params)
