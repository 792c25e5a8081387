"""The pure rules of federation (relay.contract.federation, relay.federation.outbound's
peer_frame, relay.federation.inbound): what crosses a link, with which audience, and what
a receiving relay accepts. No sockets, no database."""

from __future__ import annotations

import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.contract.errors import BadFrame
from relay.contract.federation import (
    Audience,
    PeerScope,
    audience_distribution,
    audience_for,
    parse_audience,
    parse_directory,
)
from relay.contract.model import AlertFacts, Distribution
from relay.contract.visibility import Viewer, is_addressed_to
from relay.core.events import Event, StoredAlert
from relay.federation.inbound import Refused, remote_alert, remote_receipt
from relay.federation.outbound import peer_frame
from tests.alert_examples import seizure_alert

REGIONS = {"G5-SAHEL": frozenset({"BF", "ML", "MR", "NE", "TD"}), "DAKAR-BAMAKO": frozenset({"ML", "SN"})}
SN = PeerScope("SN", frozenset({"SN", "GM"}), frozenset({"SN-DSS-JAITF", "GM-BJL-POL"}))


def facts(tlp: str = "amber", **distribution: object) -> AlertFacts:
    return AlertFacts(kind="seizure", msg_type="alert", status="actual", priority="urgent", tlp=tlp,
                      distribution=Distribution(**distribution),  # type: ignore[arg-type]
                      airports=frozenset(), countries=frozenset(), commodities=frozenset(),
                      references=None)


@pytest.mark.parametrize(("alert", "expected"), [
    (facts(all=True), Audience(frozenset({"SN", "GM"}), frozenset())),
    (facts(countries=frozenset({"SN", "FR"})), Audience(frozenset({"SN"}), frozenset())),
    (facts(regions=frozenset({"DAKAR-BAMAKO"})), Audience(frozenset({"SN"}), frozenset())),
    (facts(regions=frozenset({"G5-SAHEL"})), None),  # no country of the scope in it
    (facts(regions=frozenset({"UNKNOWN"})), None),  # an unknown region reaches nobody
    (facts(countries=frozenset({"ML"})), None),
    (facts(units=frozenset({"SN-DSS-JAITF", "ML-BKO-X"})), Audience(frozenset(), frozenset({"SN-DSS-JAITF"}))),
    (facts(units=frozenset({"SN-DSS-UNKNOWN"})), None),  # not in the peer's directory
    (facts("red", units=frozenset({"SN-DSS-JAITF"}), all=True), Audience(frozenset(), frozenset({"SN-DSS-JAITF"}))),
    (facts("red", all=True, countries=frozenset({"SN"})), None),  # red names no unit of SN
    (facts(), None),  # an empty distribution reaches nobody
])
def test_the_audience_is_decided_at_the_origin_and_fails_closed(alert, expected):
    assert expected == audience_for(SN, alert, REGIONS)


distributions = st.builds(
    Distribution, all=st.booleans(),
    units=st.frozensets(st.sampled_from(["SN-DSS-JAITF", "GM-BJL-POL", "SN-DSS-OTHER", "ML-BKO-X"])),
    countries=st.frozensets(st.sampled_from(["SN", "GM", "ML", "FR"])),
    regions=st.frozensets(st.sampled_from(["G5-SAHEL", "DAKAR-BAMAKO", "UNKNOWN"])))
viewers = st.builds(Viewer, unit_id=st.sampled_from(["SN-DSS-JAITF", "GM-BJL-POL", "SN-DSS-OTHER"]),
                    country=st.sampled_from(["SN", "GM"]), roles=st.just(frozenset({"subscribe"})))


@given(distributions, st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]), viewers)
def test_a_unit_of_the_peer_sees_a_federated_alert_exactly_when_the_origin_would_show_it(
        distribution, tlp, viewer):
    """The receiving relay's rule over the audience agrees with the origin's own rule for
    every unit of the peer's directory (a unit outside it may still be reached by country)."""
    alert = facts(tlp, **{f: getattr(distribution, f) for f in ("all", "units", "countries", "regions")})
    audience = audience_for(SN, alert, REGIONS)
    at_peer = audience is not None and is_addressed_to(viewer, tlp, audience_distribution(audience), {})
    origin_view = Viewer(viewer.unit_id if viewer.unit_id in SN.units else "", viewer.country, viewer.roles)
    assert at_peer == is_addressed_to(origin_view, tlp, distribution, REGIONS) or (
        viewer.unit_id not in SN.units and viewer.unit_id in distribution.units)
    if audience is not None:
        assert audience.countries <= SN.countries and audience.units <= SN.units
        assert tlp != "red" or not audience.countries


def test_a_received_audience_keeps_only_local_units_and_no_country_for_red():
    raw = {"countries": ["SN", "GM"], "units": ["SN-DSS-JAITF", "FR-CDG-OFAST"]}
    local = frozenset({"SN-DSS-JAITF"})
    assert Audience(frozenset({"SN", "GM"}), local) == parse_audience(raw, local, "amber")
    assert Audience(frozenset(), local) == parse_audience(raw, local, "red")
    for bad in ({"countries": "SN"}, {"units": [1]}, {"countries": ["sn"]}, {"x": []}, []):
        with pytest.raises(BadFrame):
            parse_audience(bad, local, "amber")


def test_a_directory_entry_is_checked_field_by_field():
    [unit] = parse_directory({"units": [{"unit_id": "SN-DSS-JAITF", "country": "SN", "airport": "DSS",
                                         "name": "JAITF Dakar"}]})
    assert ("SN-DSS-JAITF", "SN", "DSS") == (unit.unit_id, unit.country, unit.airport)
    for bad in ({"units": {}}, {"units": [{"unit_id": "sn", "country": "SN"}]},
                {"units": [{"unit_id": "SN-DSS-JAITF", "country": "SEN"}]},
                {"units": [{"unit_id": "SN-DSS-JAITF", "country": "SN", "name": "x" * 201}]},
                {"units": ["SN-DSS-JAITF"]}):
        with pytest.raises(BadFrame):
            parse_directory(bad)


def _event(seq: int, *, origin_relay: str | None = None, alert_relay: str | None = None,
           alert: AlertFacts | None = None) -> Event:
    body = {"alert_id": str(uuid.uuid4()), "origin_unit": "ML-BKO-JAITF"} if alert else {
        "alert_id": str(uuid.uuid4()), "unit": "ML-BKO-JAITF", "status": "received"}
    return Event(seq, "alert" if alert else "receipt", body["alert_id"], "ML-BKO-JAITF",
                 "ML-BKO-JAITF", alert, orjson.dumps(body), None, origin_relay, alert_relay)


def test_only_what_originated_here_crosses_and_a_receipt_only_to_its_alerts_relay():
    reaches = facts(countries=frozenset({"SN"}))
    frame = peer_frame(_event(5, alert=reaches), SN, REGIONS, "ML")
    assert frame is not None and ("alert", 5, "ML") == (frame["type"], frame["seq"], frame["alert"]["origin_relay"])
    assert {"countries": ["SN"], "units": []} == frame["audience"]
    assert peer_frame(_event(6, alert=reaches, origin_relay="FR"), SN, REGIONS, "ML") is None  # no 2nd hop
    assert peer_frame(_event(7, alert=facts(countries=frozenset({"FR"}))), SN, REGIONS, "ML") is None
    assert peer_frame(_event(8, alert_relay="SN"), SN, REGIONS, "ML") is not None
    assert peer_frame(_event(9, alert_relay="FR"), SN, REGIONS, "ML") is None
    assert peer_frame(_event(10), SN, REGIONS, "ML") is None  # a receipt for a local alert
    assert peer_frame(_event(11, alert_relay="SN", origin_relay="SN"), SN, REGIONS, "ML") is None


def _alert_frame(seq: int = 3, **changes: object) -> dict[str, object]:
    alert = {**seizure_alert(distribution={"countries": ["SN"]}), "alert_id": str(uuid.uuid4()),
             "origin_unit": "ML-BKO-JAITF", "received_at": "2026-11-23T09:30:01.000Z",
             "origin_relay": "ML"}
    alert.update(changes)
    return {"type": "alert", "seq": seq, "alert": alert,
            "audience": {"countries": ["SN"], "units": ["SN-DSS-JAITF", "FR-CDG-OFAST"]}}


async def test_a_peers_alert_is_stored_with_its_audience_as_its_distribution():
    pending = remote_alert(_alert_frame(), "ML", frozenset({"SN-DSS-JAITF"}))
    body = orjson.loads(pending.body_json)
    assert ("ML", 3, "ML:3") == (pending.origin_relay, pending.origin_seq, pending.key)
    assert {"countries": ["SN"], "units": ["SN-DSS-JAITF"]} == body["audience"]
    assert {"countries": ["SN"]} == body["distribution"]  # the origin's, as posted
    assert pending.facts is not None
    assert Distribution(units=frozenset({"SN-DSS-JAITF"}), countries=frozenset({"SN"})) == pending.facts.distribution


@pytest.mark.parametrize("frame", [
    _alert_frame(origin_relay="FR"),  # claims another origin
    _alert_frame(origin_unit="not a unit"),
    _alert_frame(alert_id="x"),
    _alert_frame(origin_unit="SN-DSS-JAITF"),  # a unit of the receiving relay
    _alert_frame(received_at="yesterday"),
    _alert_frame(priority="whenever"),  # not a valid alert
    _alert_frame(seq=0),
    {**_alert_frame(), "audience": {"countries": "SN"}},
    {**_alert_frame(), "alert": ["not", "a", "map"]},
])
async def test_a_peers_bad_alert_is_refused_whole(frame):
    with pytest.raises(Refused):
        remote_alert(frame, "ML", frozenset({"SN-DSS-JAITF"}))


async def test_a_peers_receipt_must_answer_an_alert_that_originated_here():
    alert_id = str(uuid.uuid4())
    frame = {"type": "receipt", "seq": 4, "receipt": {
        "alert_id": alert_id, "unit": "ML-BKO-JAITF", "status": "positive", "at": "2026-11-23T10:00:00Z",
        "origin_relay": "ML"}}
    ours = StoredAlert(alert_id, 17, "SN-DSS-JAITF", facts(countries=frozenset({"ML"})), None)
    pending = remote_receipt(frame, "ML", ours, frozenset({"SN-DSS-JAITF"}))
    assert ("receipt", "SN-DSS-JAITF", "positive", "ML") == (
        pending.kind, pending.origin_unit, pending.receipt_status, pending.origin_relay)
    with pytest.raises(Refused):
        remote_receipt(frame, "ML", StoredAlert(alert_id, 17, "FR-CDG-OFAST", ours.facts, "FR"), frozenset())
    with pytest.raises(Refused):
        remote_receipt(frame, "ML", None, frozenset())
    with pytest.raises(Refused):  # a peer may not speak for a unit of this relay
        remote_receipt(frame, "ML", ours, frozenset({"ML-BKO-JAITF"}))
    with pytest.raises(Refused):
        remote_receipt({**frame, "receipt": {**frame["receipt"], "status": "maybe"}}, "ML", ours, frozenset())  # type: ignore[dict-item]
