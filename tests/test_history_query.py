"""relay.contract.history_query without a relay: the parameters of GET /v1/alerts and of
the exports, and their opaque cursors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest

from relay.contract.errors import InvalidQuery
from relay.contract.history_query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    HistoryQuery,
    decode_cursor,
    encode_cursor,
    parse_history_query,
    parse_page,
)


def refused(params: dict[str, str], **options: object) -> list[tuple[str, str, dict[str, object]]]:
    with pytest.raises(InvalidQuery) as error:
        parse_history_query(params, **options)  # type: ignore[arg-type]
    return [(p.field, p.code, dict(p.params)) for p in error.value.details]


def test_every_filter_arrives_in_the_query_as_given():
    """Each filter parameter, checked and kept; from/to as moments in UTC; paging."""
    query = parse_history_query({
        "kind": "seizure", "origin_unit": "ML-BKO-JAITF", "airport": "LFW", "country": "TG",
        "flight": "ET0937", "commodity": "cash", "q": "pellets",
        "from": "2026-11-23T09:00:00+01:00", "to": "2026-11-24T00:00:00Z", "limit": "500",
        "cursor": encode_cursor(41)})
    assert HistoryQuery(filters={
        "kind": "seizure", "origin_unit": "ML-BKO-JAITF", "airport": "LFW", "country": "TG",
        "flight": "ET0937", "commodity": "cash", "q": "pellets",
        "from": datetime(2026, 11, 23, 8, tzinfo=UTC), "to": datetime(2026, 11, 24, tzinfo=UTC),
    }, limit=MAX_LIMIT, before_seq=41) == query


def test_no_parameter_is_the_first_page_of_everything():
    assert HistoryQuery({}, DEFAULT_LIMIT, None) == parse_history_query({})


@pytest.mark.parametrize(("key", "value", "code", "params"), [
    ("kind", "cargo", "not_one_of", {"allowed": ["passenger", "seizure"]}),
    ("origin_unit", "ml-bko-jaitf", "bad_unit_id", {}),
    ("airport", "QQQ", "unknown_airport", {"value": "QQQ"}),
    ("country", "XX", "bad_country", {"value": "XX"}),
    ("flight", "AT 571", "bad_flight_number", {}),
    ("q", "x" * 201, "length", {"low": 1, "high": 200}),
    ("q", "", "length", {"low": 1, "high": 200}),
    ("from", "yesterday", "bad_timestamp", {}),
    ("to", "2026-11-23T08:00:00", "bad_timestamp", {}),
    ("limit", "0", "integer_range", {"low": 1, "high": MAX_LIMIT}),
    ("limit", str(MAX_LIMIT + 1), "integer_range", {"low": 1, "high": MAX_LIMIT}),
    ("limit", "ten", "integer_range", {"low": 1, "high": MAX_LIMIT}),
    ("cursor", "zzz", "bad_cursor", {}),
    ("colour", "red", "unknown_parameter", {}),
])
def test_a_value_that_could_never_match_is_invalid_query_naming_it(key, value, code, params):
    """A typo must neither widen nor silently empty a query."""
    assert [(key, code, params)] == refused({key: value})


def test_the_commodity_filter_names_the_commodities_of_the_model():
    [(field, code, params)] = refused({"commodity": "sugar"})
    assert (field, code) == ("commodity", "not_one_of") and "cocaine" in params["allowed"]


def test_every_problem_is_reported_at_once_and_counted():
    with pytest.raises(InvalidQuery) as error:
        parse_history_query({"kind": "x", "limit": "0", "colour": "red"})
    assert "the query has 3 problem(s)" == error.value.message


def test_an_export_takes_no_paging_but_its_extra_parameters():
    """Without paging, limit and cursor are unknown; an export's format is allowed."""
    assert [("limit", "unknown_parameter", {})] == refused({"limit": "5"}, paged=False)
    assert HistoryQuery({}, DEFAULT_LIMIT, None) == parse_history_query(
        {"format": "csv"}, paged=False, extra=("format",))


@pytest.mark.parametrize("seq", [1, 2, 10**12])
def test_a_cursor_decodes_to_the_seq_it_was_made_from(seq):
    """Opaque to clients: URL-safe base64 without padding."""
    cursor = encode_cursor(seq)
    assert (seq, False) == (decode_cursor(cursor), "=" in cursor)


def forged(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


@pytest.mark.parametrize("text", [
    "", "!!!", forged([1]), forged({"v": 2, "before": 5}), forged({"v": 1, "before": 0}),
    forged({"v": 1, "before": "5"}), forged({"v": 1, "before": True}), forged({"v": 1}),
])
def test_a_cursor_the_relay_did_not_give_out_is_refused(text):
    with pytest.raises(ValueError, match="not a cursor"):
        decode_cursor(text)


def test_page_parameters_alone_for_the_access_log():
    """parse_page: the limit and the cursor's position, problems added to the list given."""
    problems: list = []
    assert (7, 99) == parse_page({"limit": "7", "cursor": encode_cursor(99)}, problems)
    assert (DEFAULT_LIMIT, None) == parse_page({}, problems)
    assert [] == problems
