"""relay.core.connection without a socket: in-band auth, in-flight slots, subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay.contract.errors import BadFrame, Forbidden, InvalidFilter, UnknownType
from relay.contract.frames import PublishFrame, ReceiptFrame, SubscribeFrame
from relay.core.connection import Phase, StreamConnection
from relay.core.principals import Principal, Unit
from tests.test_events import event

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALERT_ID = "01234567-89ab-7def-8123-456789abcdef"


def principal(*roles: str) -> Principal:
    unit = Unit("ML-BKO-JAITF", "ML", "BKO", "JAITF Bamako", frozenset(roles), NOW, None)
    return Principal(unit, token_id=7)


def publish(n: int) -> dict[str, object]:
    return {"type": "publish", "id": f"p{n}", "alert": {}}


def opened(*roles: str, max_in_flight: int = 2) -> StreamConnection:
    return StreamConnection(max_in_flight=max_in_flight, regions={},
                            principal=principal(*(roles or ("publish", "subscribe"))))


def test_a_connection_without_a_header_token_waits_for_the_auth_frame_first():
    """Upgraded without a token: the auth frame's token, then welcome; nothing before."""
    connection = StreamConnection(max_in_flight=2, regions={})
    assert (Phase.AUTHENTICATING, False) == (connection.phase, connection.reading)
    with pytest.raises(BadFrame):
        connection.receive(publish(1))
    assert "relay_secret" == connection.auth_token({"type": "auth", "token": "relay_secret"})
    welcome = connection.authenticated(principal("publish"), head=12, now=NOW)
    assert {"type": "welcome", "unit": "ML-BKO-JAITF", "roles": ["publish"], "head": 12,
            "protocol": "relay.v1", "server_time": "2026-11-23T08:00:00.000Z"} == welcome
    assert (Phase.OPEN, True) == (connection.phase, connection.reading)


@pytest.mark.parametrize("frame", [
    {"type": "publish", "id": "x", "alert": {}}, {"type": "auth"}, {"type": "auth", "token": ""},
    {"token": "relay_secret"},
])
def test_a_first_frame_that_is_not_a_good_auth_frame_is_refused(frame):
    """Anything but {"type":"auth","token":...} first is bad_frame (closed with 4401)."""
    with pytest.raises(BadFrame):
        StreamConnection(max_in_flight=2, regions={}).auth_token(frame)


def test_an_authenticated_connection_takes_no_second_auth_frame():
    """Once open, an auth frame is not how a token changes."""
    with pytest.raises(BadFrame):
        opened().auth_token({"type": "auth", "token": "relay_other"})


def test_writes_take_in_flight_slots_and_reading_stops_when_all_are_taken():
    """Two slots: two publishes in flight stop the reading; one answered frees a slot."""
    connection = opened(max_in_flight=2)
    assert isinstance(connection.receive(publish(1)), PublishFrame)
    assert connection.reading
    receipt = connection.receive({"type": "receipt", "id": "r", "alert_id": ALERT_ID,
                                  "status": "received"})
    assert isinstance(receipt, ReceiptFrame)
    assert (2, False) == (connection.in_flight, connection.reading)
    connection.write_done()
    assert (1, True) == (connection.in_flight, connection.reading)


def test_a_subscribe_or_a_bad_frame_takes_no_slot():
    """Only publishes and receipts wait for a commit; the rest is answered at once."""
    connection = opened(max_in_flight=1)
    assert isinstance(connection.receive({"type": "subscribe", "id": "s"}), SubscribeFrame)
    for frame, error in (({"type": "hello", "id": "x"}, UnknownType),
                         ({"type": "publish", "id": 5, "alert": {}}, BadFrame),
                         ({"type": "subscribe", "id": "s", "filter": {"kinds": ["x"]}},
                          InvalidFilter)):
        with pytest.raises(error):
            connection.receive(frame)
    assert (0, True) == (connection.in_flight, connection.reading)


def test_a_slot_given_back_twice_is_a_defect():
    """write_done without a write in flight means a reply was counted twice."""
    with pytest.raises(RuntimeError):
        opened().write_done()


def test_subscribing_needs_the_subscribe_role():
    """A publish-only unit is forbidden to subscribe; it may still publish."""
    connection = opened("publish")
    with pytest.raises(Forbidden):
        connection.receive({"type": "subscribe", "id": "s"})
    assert isinstance(connection.receive(publish(1)), PublishFrame)


def test_a_later_subscribe_replaces_the_subscription():
    """The second subscribe's filter and since are the ones in force."""
    connection = opened()
    first = connection.subscribe(SubscribeFrame("s1", connection.receive(
        {"type": "subscribe", "id": "s1"}).filter, None), hub_head=5)
    second = connection.subscribe(SubscribeFrame("s2", first.filter, 3), hub_head=5)
    assert connection.subscription is second
    assert (True, False, 3) == (first.live, second.live, second.cursor)


def test_a_closed_connection_reads_nothing_more():
    """After close: not reading, and a frame is refused."""
    connection = opened()
    connection.close()
    assert (Phase.CLOSED, False, None) == (connection.phase, connection.reading,
                                           connection.subscription)
    with pytest.raises(BadFrame):
        connection.receive(publish(1))


def test_a_subscription_is_made_for_the_unit_with_its_filter_regions_and_position():
    """The subscription sees through the relay's regions, as the unit, from the hub's head."""
    partner = Principal(Unit("NE-NIM-DOUANE", "NE", None, "", frozenset({"subscribe"}), NOW, None), 3)
    connection = StreamConnection(max_in_flight=1, regions={"G5-SAHEL": frozenset({"NE"})},
                                  principal=partner)
    request = connection.receive({"type": "subscribe", "id": "s", "filter": {"kinds": ["seizure"]}})
    subscription = connection.subscribe(request, hub_head=17)
    assert ("NE-NIM-DOUANE", frozenset({"seizure"}), 17) == (
        subscription.viewer.unit_id, subscription.filter.kinds, subscription.last_seq)
    assert subscription.wants(event(regions=frozenset({"G5-SAHEL"})))


def test_the_authenticated_principal_is_the_connections():
    connection = StreamConnection(max_in_flight=1, regions={})
    unit = principal("publish")
    connection.authenticated(unit, head=0, now=NOW)
    assert unit is connection.principal


def test_slots_are_given_back_one_at_a_time():
    connection = opened(max_in_flight=3)
    for n in range(3):
        connection.receive(publish(n))
    connection.write_done()
    connection.write_done()
    assert (1, True) == (connection.in_flight, connection.reading)
