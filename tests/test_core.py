"""Pure pieces of the core: wire encodings, client frames, filters, visibility, rate limits."""

from __future__ import annotations

import msgpack
import orjson
import pytest

from relay.contract.errors import BadFrame, InvalidFilter, UnknownType
from relay.contract.filters import Filter, parse_filter
from relay.contract.frames import (
    PublishFrame,
    ReceiptFrame,
    SubscribeFrame,
    frame_id,
    parse_client_frame,
)
from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer, is_addressed_to, may_see_alert, may_see_receipt
from relay.contract.wire import Encoding, choose_encoding, decode_frame, encode_body, event_frame
from relay.core.ratelimit import RateLimiter


def test_an_event_frame_is_spliced_from_the_stored_body_in_both_encodings():
    """The spliced frame decodes to {"type", "seq", kind: body} in each encoding."""
    body = {"alert_id": "a", "summary": "été", "n": 1.5}
    as_json, as_msgpack = encode_body(body)
    expected = {"type": "alert", "seq": 42, "alert": body}
    assert expected == orjson.loads(event_frame(Encoding.JSON, "alert", 42, as_json))
    assert expected == msgpack.unpackb(event_frame(Encoding.MSGPACK, "alert", 42, as_msgpack))


@pytest.mark.parametrize("offered", [None, "", "relay.v1.msgpack", "chat"])
def test_msgpack_is_spoken_unless_json_is_chosen(offered):
    """A client that offers neither sub-protocol gets relay.v1.msgpack."""
    assert Encoding.MSGPACK == choose_encoding(offered)
    assert Encoding.JSON == choose_encoding("relay.v1.json")


@pytest.mark.parametrize(("encoding", "data", "reason"), [
    (Encoding.JSON, "{", "not valid JSON"),
    (Encoding.JSON, "[1]", "must be a map"),
    (Encoding.JSON, b"{}", "text frames"),
    (Encoding.MSGPACK, b"\xc1", "not valid MessagePack"),
    (Encoding.MSGPACK, msgpack.packb([1]), "must be a map"),
    (Encoding.MSGPACK, "{}", "binary frames"),
    (Encoding.MSGPACK, msgpack.packb({1: 2}), "not valid MessagePack"),
])
def test_undecodable_frames_are_bad_frames_that_say_why(encoding, data, reason):
    """bad_frame: not decodable, not a map, or the wrong frame kind for the encoding."""
    with pytest.raises(BadFrame) as error:
        decode_frame(encoding, data)
    assert reason in error.value.message


def test_client_frames_are_parsed_into_typed_requests():
    """publish, subscribe and receipt become typed frames."""
    publish = parse_client_frame({"type": "publish", "id": "p", "alert": {}})
    subscribe = parse_client_frame({"type": "subscribe", "id": "s", "since": 5,
                                    "filter": {"kinds": ["seizure"]}})
    receipt = parse_client_frame({"type": "receipt", "id": "r", "status": "negative",
                                  "alert_id": "01234567-89ab-7def-8123-456789abcdef"})
    assert PublishFrame("p", {}) == publish
    assert SubscribeFrame("s", Filter(kinds=frozenset({"seizure"})), 5) == subscribe
    assert isinstance(receipt, ReceiptFrame) and receipt.note is None


@pytest.mark.parametrize(("frame", "error", "fields"), [
    ({"id": "x"}, BadFrame, {"type"}),
    ({"type": 3}, BadFrame, {"type"}),
    ({"type": "hello", "id": "x"}, UnknownType, set()),
    ({"type": "publish", "id": "x" * 65, "alert": {}}, BadFrame, {"id"}),
    ({"type": "publish", "alert": {}, "extra": 1}, BadFrame, {"id", "extra"}),
    ({"type": "subscribe", "id": "x", "since": True}, BadFrame, {"since"}),
    ({"type": "receipt", "id": "x", "alert_id": "A", "status": "done", "note": 5}, BadFrame,
     {"alert_id", "status", "note"}),
])
def test_bad_envelopes_name_every_field(frame, error, fields):
    """Every problem of a frame is reported with its field."""
    with pytest.raises(error) as raised:
        parse_client_frame(frame)
    assert fields == {p.field for p in raised.value.details}


def test_frame_id_is_echoed_only_when_it_is_a_valid_id():
    """The error reply echoes the id when the frame had a usable one."""
    assert ("a", None, None) == (frame_id({"id": "a"}), frame_id({"id": 5}), frame_id({}))


def test_unknown_and_bad_filter_keys_are_invalid_filter():
    """Unknown filter keys and bad values are reported together."""
    with pytest.raises(InvalidFilter) as error:
        parse_filter({"colour": "red", "airports": ["ZZZ"], "min_priority": "now", "kinds": "x"})
    assert {"filter.colour", "filter.airports[0]", "filter.min_priority", "filter.kinds"} == {
        p.field for p in error.value.details}


def facts(**changes) -> AlertFacts:
    base = dict(kind="passenger", msg_type="alert", status="actual", priority="urgent", tlp="amber",
                distribution=Distribution(units=frozenset({"FR-CDG-OFAST"})),
                airports=frozenset({"BKO", "CMN", "CDG"}), countries=frozenset({"ML", "MA", "FR"}),
                commodities=frozenset(), references=None)
    base.update(changes)
    return AlertFacts(**base)


def test_filters_match_airports_countries_priority_and_status():
    """Each filter key narrows; an empty filter matches everything."""
    alert = facts()
    assert Filter().matches(alert)
    assert Filter(airports=frozenset({"CMN"})).matches(alert)
    assert not Filter(airports=frozenset({"LFW"})).matches(alert)
    assert Filter(countries=frozenset({"FR"})).matches(alert)
    assert not Filter(min_priority=2).matches(alert)
    assert not Filter(statuses=frozenset({"exercise"})).matches(alert)
    assert not Filter(commodities=frozenset({"cash"})).matches(alert)


def test_red_reaches_only_named_units_and_the_origin():
    """A red alert is not seen through country, region or all."""
    regions = {"EU": frozenset({"FR", "BE"})}
    red = facts(tlp="red", distribution=Distribution(all=True, units=frozenset({"FR-CDG-OFAST"}),
                                                     countries=frozenset({"FR"}),
                                                     regions=frozenset({"EU"})))
    named = Viewer("FR-CDG-OFAST", "FR", frozenset())
    neighbour = Viewer("FR-ORY-DOUANE", "FR", frozenset())
    origin = Viewer("ML-BKO-JAITF", "ML", frozenset())
    assert may_see_alert(named, "ML-BKO-JAITF", red, regions)
    assert not may_see_alert(neighbour, "ML-BKO-JAITF", red, regions)
    assert may_see_alert(origin, "ML-BKO-JAITF", red, regions)
    assert not is_addressed_to(origin, "red", red.distribution, regions)


def test_receipts_are_seen_by_the_alert_origin_and_their_author():
    viewer = Viewer("MA-CMN-BNPJ", "MA", frozenset())
    assert may_see_receipt(viewer, "MA-CMN-BNPJ", "FR-CDG-OFAST")
    assert may_see_receipt(viewer, "ML-BKO-JAITF", "MA-CMN-BNPJ")
    assert not may_see_receipt(viewer, "ML-BKO-JAITF", "FR-CDG-OFAST")


def test_the_rate_limiter_allows_bursts_then_the_rate():
    """burst tokens at once, then one per 1/rate seconds."""
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [True, True, True, False] == [limiter.allow("U") for _ in range(4)]
    now[0] = 0.5
    assert [True, False] == [limiter.allow("U") for _ in range(2)]
    assert limiter.allow("OTHER")


# -- rules a one-line change to the code could break unnoticed (issue 8) -------------------

def test_a_countries_filter_leaves_out_alerts_of_other_countries():
    """filter.countries narrows to the countries of the alert's airports."""
    alert = facts()  # ML, MA, FR
    assert Filter(countries=frozenset({"MA", "SN"})).matches(alert)
    assert not Filter(countries=frozenset({"SN", "TG"})).matches(alert)


def test_a_commodities_filter_matches_an_alert_with_any_of_them():
    """filter.commodities: the alert matches when it carries at least one listed commodity."""
    alert = facts(kind="seizure", commodities=frozenset({"cocaine"}))
    assert Filter(commodities=frozenset({"cocaine", "gold"})).matches(alert)
    both = facts(kind="seizure", commodities=frozenset({"cocaine", "cash"}))
    assert Filter(commodities=frozenset({"cash"})).matches(both)
    assert not Filter(commodities=frozenset({"gold"})).matches(both)


def test_kinds_min_priority_and_statuses_filters_each_narrow():
    """Each key leaves out what it does not list; min_priority keeps that rank and above."""
    alert = facts()  # passenger, urgent, actual
    assert Filter(kinds=frozenset({"passenger"})).matches(alert)
    assert not Filter(kinds=frozenset({"seizure"})).matches(alert)
    assert Filter(min_priority=1).matches(alert)
    assert Filter(statuses=frozenset({"actual", "test"})).matches(alert)


@pytest.mark.parametrize(("key", "value"), [
    ("kinds", "cargo"), ("countries", "XX"), ("countries", "fr"), ("commodities", "sugar"),
    ("statuses", "draft"), ("airports", "XYZ"),
])
def test_unknown_values_in_a_filter_are_invalid_filter_naming_the_item(key, value):
    """A value that can never match is refused, so a typo cannot silently mute a feed."""
    with pytest.raises(InvalidFilter) as error:
        parse_filter({key: [value]})
    assert [f"filter.{key}[0]"] == [p.field for p in error.value.details]


@pytest.mark.parametrize("value", [None, "", "FLASH", 2, ["flash"]])
def test_a_bad_min_priority_is_invalid_filter(value):
    """min_priority must be a priority name: anything else is refused, never a crash."""
    with pytest.raises(InvalidFilter) as error:
        parse_filter({"min_priority": value})
    assert ["filter.min_priority"] == [p.field for p in error.value.details]


def test_parsed_filters_carry_what_was_asked():
    """Every key of a valid filter arrives in the parsed Filter."""
    parsed = parse_filter({"kinds": ["seizure"], "airports": ["LFW"], "countries": ["TG"],
                           "commodities": ["cash", "gold"], "min_priority": "urgent",
                           "statuses": ["exercise"]})
    assert Filter(kinds=frozenset({"seizure"}), airports=frozenset({"LFW"}),
                  countries=frozenset({"TG"}), commodities=frozenset({"cash", "gold"}),
                  min_priority=1, statuses=frozenset({"exercise"})) == parsed


def test_a_region_unknown_to_the_configuration_reaches_nobody():
    """An alert naming a region that the configuration does not (or no longer) define is
    addressed to no unit through it."""
    regions = {"G5-SAHEL": frozenset({"ML", "NE"})}
    viewer = Viewer("SN-DSS-DOUANE", "SN", frozenset())
    assert not is_addressed_to(viewer, "amber", Distribution(regions=frozenset({"ECOWAS"})), regions)
    assert not is_addressed_to(viewer, "amber", Distribution(regions=frozenset({"ECOWAS"})), {})
    sahel = Viewer("NE-NIM-DOUANE", "NE", frozenset())
    assert is_addressed_to(sahel, "amber", Distribution(regions=frozenset({"ECOWAS", "G5-SAHEL"})),
                           regions)
