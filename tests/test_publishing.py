"""relay.core.publishing with the store's ports played by the test: the order of the
checks of a publish and of a receipt, and the events handed to the writer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from relay.contract.errors import Forbidden, InvalidAlert, NotFound, RateLimited
from relay.contract.facts import alert_facts
from relay.contract.frames import ReceiptFrame
from relay.contract.validation import validate_alert
from relay.core.events import PendingEvent, StoredAlert, WriteResult
from relay.core.principals import Principal, Unit
from relay.core.publishing import Publisher
from relay.core.ratelimit import RateLimiter
from tests.alert_examples import passenger_alert, seizure_alert

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def principal(unit_id: str = "ML-BKO-JAITF", country: str = "ML",
              roles: tuple[str, ...] = ("publish", "subscribe")) -> Principal:
    return Principal(Unit(unit_id, country, None, "", frozenset(roles), NOW, None), token_id=1)


class Store:
    """The writer, the event log and the unit directory, in memory."""

    def __init__(self, units: set[str], duplicate: bool = False) -> None:
        self.submitted: list[PendingEvent] = []
        self.alerts: dict[str, StoredAlert] = {}
        self.duplicate = duplicate
        self.registered = set(units)
        self.ids: frozenset[str] = frozenset()
        self.refreshes = 0

    async def submit(self, pending: PendingEvent) -> WriteResult:
        self.submitted.append(pending)
        return WriteResult(len(self.submitted), pending.alert_id, self.duplicate)

    async def find_alert(self, alert_id: str) -> StoredAlert | None:
        return self.alerts.get(alert_id)

    async def events_between(self, after: int, upto: int, limit: int) -> list[Any]:
        return []

    async def head(self) -> int:
        return len(self.submitted)

    async def refresh(self) -> None:
        self.refreshes += 1
        self.ids = frozenset(self.registered)

    def store(self, alert_id: str, raw: dict[str, Any], origin: str = "ML-BKO-JAITF") -> None:
        facts = alert_facts(validate_alert(raw, known_units=self.registered, regions=REGIONS))
        self.alerts[alert_id] = StoredAlert(alert_id, 1, origin, facts)


def publisher(store: Store, *, rate: float = 1000.0, burst: int = 1000,
              committed: list[str] | None = None) -> Publisher:
    return Publisher(writer=store, events=store, known_units=store, regions=REGIONS,
                     limiter=RateLimiter(rate, burst, clock=lambda: 0.0),
                     on_committed=(committed if committed is not None else []).append)


UNITS = {"MA-CMN-BNPJ", "FR-CDG-OFAST"}
REGIONS = {"MAGHREB": frozenset({"MA", "DZ", "TN"})}


async def test_a_publish_hands_the_writer_the_alert_with_the_relays_fields():
    """alert_id (UUIDv7), origin_unit (the token's unit), received_at; facts; both bodies."""
    store = Store(UNITS)
    committed: list[str] = []
    result = await publisher(store, committed=committed).publish(principal(), "k1", passenger_alert())
    [pending] = store.submitted
    body = orjson.loads(pending.body_json)
    assert (1, False, ["alert"]) == (result.seq, result.duplicate, committed)
    assert ("ML-BKO-JAITF", "k1", "alert", "ML-BKO-JAITF") == (
        pending.unit_id, pending.key, pending.kind, pending.origin_unit)
    assert UUID7.match(pending.alert_id) and body["alert_id"] == pending.alert_id
    assert ("ML-BKO-JAITF", pending.received_at.isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")) == (body["origin_unit"], body["received_at"])
    assert (frozenset(UNITS), "passenger", None) == (
        pending.facts.distribution.units, pending.facts.kind, pending.receipt_status)


async def test_a_duplicate_is_not_counted_as_committed():
    store = Store(UNITS, duplicate=True)
    committed: list[str] = []
    result = await publisher(store, committed=committed).publish(principal(), "k1", passenger_alert())
    assert (True, []) == (result.duplicate, committed)


async def test_a_unit_without_publish_is_forbidden_before_anything_else():
    """Checked first: even an invalid alert from a subscriber is forbidden, nothing sent."""
    store = Store(UNITS)
    with pytest.raises(Forbidden, match="may not publish alerts"):
        await publisher(store).publish(principal(roles=("subscribe",)), "k", {"kind": "x"})
    assert [] == store.submitted


async def test_past_the_rate_a_publish_is_rate_limited_before_validation():
    store = Store(UNITS)
    relay = publisher(store, rate=1.0, burst=1)
    await relay.publish(principal(), "k1", passenger_alert())
    with pytest.raises(RateLimited):
        await relay.publish(principal(), "k2", {"kind": "x"})
    assert 1 == len(store.submitted)


async def test_an_unknown_unit_reloads_the_directory_once_before_refusing():
    """A unit added a moment ago (on another process) is found after one reload."""
    store = Store(UNITS)
    await publisher(store).publish(principal(), "k1", passenger_alert())
    store.registered = set()
    store.ids = frozenset()
    with pytest.raises(InvalidAlert) as refused:
        await publisher(store).publish(principal(), "k2", passenger_alert())
    assert (2, ["unknown_unit", "unknown_unit"]) == (
        store.refreshes, [p.code for p in refused.value.details])


async def test_an_invalid_alert_without_unknown_units_does_not_reload():
    store = Store(UNITS)
    with pytest.raises(InvalidAlert):
        await publisher(store).publish(principal(), "k", {"kind": "x"})
    assert 0 == store.refreshes


@pytest.mark.parametrize(("origin", "stored_kind", "error", "code"), [
    (None, "passenger", NotFound, "no_such_alert"),
    ("FR-CDG-OFAST", "passenger", Forbidden, "alert_of_another_unit"),
    ("ML-BKO-JAITF", "seizure", InvalidAlert, "kind_of_referenced"),
])
async def test_an_update_must_reference_an_alert_of_the_same_unit_and_kind(
        origin, stored_kind, error, code):
    store = Store(UNITS | {"ML-BKO-JAITF"})
    referenced = "01234567-89ab-7def-8123-456789abcdef"
    if origin is not None:
        raw = passenger_alert() if stored_kind == "passenger" else seizure_alert(distribution={"all": True})
        store.store(referenced, raw, origin)
    update = passenger_alert(msg_type="update", references=referenced)
    with pytest.raises(error) as refused:
        await publisher(store).publish(principal(), "u1", update)
    assert [code] == [p.code for p in refused.value.details]
    assert [] == store.submitted


async def test_an_update_of_ones_own_alert_is_published():
    store = Store(UNITS)
    referenced = "01234567-89ab-7def-8123-456789abcdef"
    store.store(referenced, passenger_alert())
    await publisher(store).publish(principal(), "u1", passenger_alert(msg_type="update",
                                                                       references=referenced))
    assert referenced == store.submitted[0].facts.references


ALERT = "01234567-89ab-7def-8123-456789abcdef"


async def test_a_receipt_from_an_addressee_is_handed_to_the_writer():
    """The receipt names its alert, author, status, time and note; its origin_unit is the
    alert's origin, so that the origin sees it."""
    store = Store(UNITS)
    store.store(ALERT, passenger_alert())
    committed: list[str] = []
    partner = principal("MA-CMN-BNPJ", "MA", ("subscribe",))
    await publisher(store, committed=committed).receipt(
        partner, ReceiptFrame("r1", ALERT, "positive", "arrested at gate 4"))
    [pending] = store.submitted
    body = orjson.loads(pending.body_json)
    assert ("MA-CMN-BNPJ", "r1", "receipt", ALERT, "ML-BKO-JAITF", "positive", None) == (
        pending.unit_id, pending.key, pending.kind, pending.alert_id, pending.origin_unit,
        pending.receipt_status, pending.facts)
    assert {"alert_id": ALERT, "unit": "MA-CMN-BNPJ", "status": "positive",
            "note": "arrested at gate 4"} == {k: v for k, v in body.items() if k != "at"}
    assert ["receipt"] == committed


async def test_a_receipt_without_a_note_has_no_note():
    store = Store(UNITS)
    store.store(ALERT, passenger_alert())
    await publisher(store).receipt(principal("MA-CMN-BNPJ", "MA"), ReceiptFrame("r", ALERT, "received", None))
    assert "note" not in orjson.loads(store.submitted[0].body_json)


@pytest.mark.parametrize(("who", "error"), [
    (principal("SN-DSS-DOUANE", "SN"), Forbidden),          # not an addressee
    (principal("MA-CMN-BNPJ", "MA", ("audit",)), Forbidden),  # may not send receipts
])
async def test_a_receipt_from_a_unit_the_alert_was_not_sent_to_is_forbidden(who, error):
    store = Store(UNITS)
    store.store(ALERT, passenger_alert())
    with pytest.raises(error):
        await publisher(store).receipt(who, ReceiptFrame("r", ALERT, "received", None))
    assert [] == store.submitted


async def test_a_receipt_for_no_stored_alert_is_not_found():
    store = Store(UNITS)
    with pytest.raises(NotFound) as refused:
        await publisher(store).receipt(principal("MA-CMN-BNPJ", "MA"),
                                       ReceiptFrame("r", ALERT, "received", None))
    assert ["alert_id"] == [p.field for p in refused.value.details]


async def test_receipts_are_rate_limited_like_publishes():
    store = Store(UNITS)
    store.store(ALERT, passenger_alert())
    relay = publisher(store, rate=1.0, burst=1)
    partner = principal("MA-CMN-BNPJ", "MA")
    await relay.receipt(partner, ReceiptFrame("r1", ALERT, "received", None))
    with pytest.raises(RateLimited):
        await relay.receipt(partner, ReceiptFrame("r2", ALERT, "received", None))


async def test_a_receipt_from_a_unit_reached_through_a_region_is_accepted():
    """An alert to the MAGHREB region may be answered by a unit in Algeria, and the
    refusal of a stranger names it."""
    store = Store(UNITS)
    store.store(ALERT, seizure_alert(distribution={"regions": ["MAGHREB"]}))
    await publisher(store).receipt(principal("DZ-ALG-DOUANE", "DZ"),
                                   ReceiptFrame("r", ALERT, "received", None))
    with pytest.raises(Forbidden, match="was not distributed to SN-DSS-DOUANE"):
        await publisher(store).receipt(principal("SN-DSS-DOUANE", "SN"),
                                       ReceiptFrame("r2", ALERT, "received", None))
    assert ["DZ-ALG-DOUANE"] == [p.unit_id for p in store.submitted]


async def test_refusals_name_the_unit_and_the_reason():
    """The messages of forbidden and rate-limited refusals name the unit."""
    store = Store(UNITS)
    with pytest.raises(Forbidden, match="unit SN-DSS-DOUANE may not publish alerts"):
        await publisher(store).publish(principal("SN-DSS-DOUANE", "SN", ("subscribe",)), "k", {})
    relay = publisher(store, rate=1.0, burst=0)
    with pytest.raises(RateLimited, match="unit ML-BKO-JAITF is publishing too fast"):
        await relay.publish(principal(), "k", passenger_alert())


async def test_a_receipt_carries_its_commit_time_and_both_bodies():
    """The receipt's "at" is the relay's clock (UTC, milliseconds) and its MessagePack
    body is the same map as its JSON body."""
    import msgpack

    store = Store(UNITS)
    store.store(ALERT, passenger_alert())
    await publisher(store).receipt(principal("MA-CMN-BNPJ", "MA"), ReceiptFrame("r", ALERT, "received", None))
    [pending] = store.submitted
    body = orjson.loads(pending.body_json)
    assert body == msgpack.unpackb(pending.body_msgpack)
    assert body["at"] == pending.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
