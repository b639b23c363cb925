"""Bookings' use cases on fakes (the real ``policies/booking``, an in-memory store over the Ledger, a fixed clock):
book, the waiting list and its promotion, holds paid through PAY or expired, cancel, no-shows, the rules' refusals,
the last place under a race, the Padrón projection and the data-subject answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from events.citizen import CitizenUpdated
from events.payment import TaxReceiptPaid
from events.rgpd import RgpdRequestOpened
from functions.booking import handlers, service
from functions.booking.handlers import BookingPorts
from functions.booking.service import Person
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.store import Staged
from tests.unit.booking.fakes import FakeBookingStore
from tests.unit.fakes import FixedClock, events_in

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Monday, 11:00 in Madrid
POOL = "piscina-barcelo.202612081900"  # Tuesday 19:00 local: 32 hours ahead, 6 places, 4.50 EUR
COURT = "padel-casa-de-campo.202612081800"  # one place, 11.80 EUR
CONCERT = "concierto-centro-cultural-galileo.202612111930"  # free, 80 places, no age band
ANA, BEA, CARLOS = "c-ana", "c-bea", "c-carlos"


@pytest.fixture
def store() -> FakeBookingStore:
    s = FakeBookingStore()
    for who, born in ((ANA, date(1985, 5, 1)), (BEA, date(1990, 1, 2)), (CARLOS, date(1979, 9, 9))):
        s.items[f"person#{who}"] = Person(who, birth_date=born, district="01")
        s.ledger.versions[f"person#{who}"] = 1
    return s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeBookingStore, policy: EmbeddedPolicy, clock: FixedClock) -> BookingPorts:
    return BookingPorts(store=store, policy=policy, clock=clock)


def commit(store: FakeBookingStore, staged: Staged[Any]) -> Any:
    store.commit(staged.unit)
    return staged.result


def book(ports: BookingPorts, store: FakeBookingStore, who: str, slot: str, waitlist: bool = False) -> Any:
    return commit(store, handlers.book(handlers.Book(who, slot, waitlist), ports, None))


def types(staged_unit: Any) -> list[str]:
    return [t.removeprefix("es.madrid.pic.") for t, _ in events_in(staged_unit)]


def paid(b: service.Booking) -> TaxReceiptPaid:
    return TaxReceiptPaid(
        debt_id=f"receipt-{b.receipt_id}", receipt_id=b.receipt_id, citizen_id=b.citizen_id,
        amount_cents=b.price_cents, stage="voluntary", legal_source="LGT art. 62.3",
        payment_id="pay-" + "0" * 32, method="card", paid_at=T0,
    )  # fmt: skip


def test_a_free_place_is_confirmed_at_once_and_announced(ports: BookingPorts, store: FakeBookingStore) -> None:
    staged = handlers.book(handlers.Book(ANA, CONCERT), ports, "00-trace-01")
    assert types(staged.unit) == [
        "booking.confirmed.v1", "position.item.upserted.v1", "notification.requested.v1",
    ]  # fmt: skip
    confirmed = dict(events_in(staged.unit))["es.madrid.pic.booking.confirmed.v1"]
    assert {k: confirmed[k] for k in ("citizen_id", "kind", "category", "district", "via")} == {
        "citizen_id": ANA, "kind": "cultural-activity", "category": "musica", "district": "07", "via": "free",
    }  # fmt: skip
    position = dict(events_in(staged.unit))["es.madrid.pic.position.item.upserted.v1"]
    assert (position["local_id"], position["section"], position["status"]) == (ANA, "appointments", "confirmed")
    b = commit(store, staged)
    assert b.state == "confirmed" and store.fetch_slot(CONCERT).taken[0].booking_id == b.booking_id


def test_a_paid_place_is_held_as_a_precio_publico_for_pay(ports: BookingPorts, store: FakeBookingStore) -> None:
    staged = handlers.book(handlers.Book(ANA, POOL), ports, None)
    assert types(staged.unit) == ["tax.receipt.issued.v1", "position.item.upserted.v1"]
    receipt = dict(events_in(staged.unit))["es.madrid.pic.tax.receipt.issued.v1"]
    b = commit(store, staged)
    assert b.state == "held" and b.held_until == datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    assert receipt["receipt_id"] == f"BK-{b.booking_id}" and receipt["tax"] == "precio-publico"
    assert receipt["amount_cents"] == 450 and receipt["object"]["kind"] == "other"
    assert receipt["voluntary_period"] == {"start": "2026-12-07", "end": "2026-12-07"}
    assert service.view(b, T0)["payment"] == {"debt_id": f"receipt-BK-{b.booking_id}", "amount_cents": 450}


def test_pay_confirms_the_held_place_once(ports: BookingPorts, store: FakeBookingStore) -> None:
    b = book(ports, store, ANA, POOL)
    unit = handlers.on_receipt_paid(paid(b), ports, None)
    assert types(unit) == ["booking.confirmed.v1", "position.item.upserted.v1", "notification.requested.v1"]
    store.commit(unit)
    done = store.fetch_booking(b.booking_id)
    assert done is not None and done.state == "confirmed" and done.held_until is None
    assert store.fetch_slot(POOL).taken[0].held_until is None  # the place no longer expires
    assert len(handlers.on_receipt_paid(paid(b), ports, None)) == 0  # a replay changes nothing
    other = paid(b).model_copy(update={"receipt_id": "IBI-2026-1", "debt_id": "receipt-IBI-2026-1"})
    assert len(handlers.on_receipt_paid(other, ports, None)) == 0  # another system's receipt


def test_the_last_place_is_taken_once_and_the_loser_is_told_it_is_full(
    ports: BookingPorts, store: FakeBookingStore
) -> None:
    first = handlers.book(handlers.Book(ANA, COURT), ports, None)
    second = handlers.book(handlers.Book(BEA, COURT), ports, None)  # decided on the same (empty) slot
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    with pytest.raises(service.SlotFullError):  # decided again (what retry_on_conflict does): full
        handlers.book(handlers.Book(BEA, COURT), ports, None)
    assert len(store.fetch_slot(COURT).taken) == 1


def test_a_full_slot_takes_a_waiting_list_entry_and_a_cancel_promotes_it(
    ports: BookingPorts, store: FakeBookingStore, clock: FixedClock
) -> None:
    ana = book(ports, store, ANA, COURT)
    bea = book(ports, store, BEA, COURT, waitlist=True)
    assert bea.state == "waiting" and store.fetch_slot(COURT).waiting[0].booking_id == bea.booking_id
    store.commit(handlers.on_receipt_paid(paid(ana), ports, None))
    staged = handlers.cancel(handlers.Cancel(ANA, ana.booking_id), ports, None)
    events = events_in(staged.unit)
    cancelled = dict(events)["es.madrid.pic.booking.cancelled.v1"]
    assert cancelled["was"] == "confirmed" and cancelled["refund_due"] is True  # a paid place given up
    notices = [d for t, d in events if t.endswith("notification.requested.v1")]
    assert [n["template"] for n in notices] == ["pic-booking-promoted-pay"] and notices[0]["recipient"][
        "citizen_id"
    ] == BEA
    assert any(t.endswith("tax.receipt.issued.v1") and d["citizen_id"] == BEA for t, d in events)
    commit(store, staged)
    promoted = store.fetch_booking(bea.booking_id)
    assert promoted is not None and promoted.state == "held" and promoted.held_until is not None
    assert store.fetch_slot(COURT).waiting == ()
    again = handlers.cancel(handlers.Cancel(ANA, ana.booking_id), ports, None)  # cancelled again: as it is
    assert len(again.unit) == 0 and again.result.state == "cancelled"


def test_an_expired_hold_is_released_to_the_waiting_list_by_the_next_write(
    ports: BookingPorts, store: FakeBookingStore, clock: FixedClock
) -> None:
    ana = book(ports, store, ANA, COURT)
    bea = book(ports, store, BEA, COURT, waitlist=True)
    clock.advance(minutes=31)
    assert service.view(store.fetch_booking(ana.booking_id), clock.now())["state"] == "expired"  # type: ignore[arg-type]
    carlos = handlers.book(handlers.Book(CARLOS, COURT, True), ports, None)
    kinds = types(carlos.unit)
    assert "booking.cancelled.v1" in kinds and kinds.count("tax.receipt.issued.v1") == 1  # Bea's, promoted
    commit(store, carlos)
    assert store.fetch_booking(ana.booking_id).state == "expired"  # type: ignore[union-attr]
    assert store.fetch_booking(bea.booking_id).state == "held"  # type: ignore[union-attr]
    assert [h.citizen_id for h in store.fetch_slot(COURT).waiting] == [CARLOS]
    late = handlers.on_receipt_paid(paid(ana), ports, None)  # Ana pays after her hold went: a refund is due
    store.commit(late)
    assert store.fetch_booking(ana.booking_id).refund_due  # type: ignore[union-attr]


def test_the_sweep_releases_a_hold_nobody_else_touches(
    ports: BookingPorts, store: FakeBookingStore, clock: FixedClock
) -> None:
    ana = book(ports, store, ANA, COURT)
    book(ports, store, BEA, COURT, waitlist=True)
    assert handlers.due_slots(ports) == []
    clock.advance(minutes=30)
    assert handlers.due_slots(ports) == [COURT]
    store.commit(handlers.sweep_slot(COURT, ports))
    assert store.fetch_booking(ana.booking_id).state == "expired"  # type: ignore[union-attr]
    assert handlers.due_slots(ports) == []
    assert len(handlers.sweep_slot(COURT, ports)) == 0  # nothing more to do: nothing staged


def test_the_rules_refuse_naming_each_unmet_one(ports: BookingPorts, store: FakeBookingStore) -> None:
    store.items[f"person#{ANA}"] = Person(ANA, birth_date=date(2015, 1, 1), district=None)
    with pytest.raises(service.BookingNotAllowedError) as refused:
        handlers.book(handlers.Book(ANA, "piscina-barcelo.202612131000"), ports, None)  # Sunday: 6 days ahead
    assert {r["key"] for r in refused.value.extra["reasons"]} == {"window", "age"}
    with pytest.raises(service.BookingNotAllowedError):
        handlers.book(handlers.Book(CARLOS, "natacion-infantil-vicente-del-bosque.202612121000"), ports, None)


def test_the_weekly_limit_counts_the_persons_places_of_a_kind(ports: BookingPorts, store: FakeBookingStore) -> None:
    for slot in (POOL, "piscina-barcelo.202612082000", "padel-casa-de-campo.202612081000"):
        book(ports, store, ANA, slot)
    with pytest.raises(service.BookingNotAllowedError) as refused:
        handlers.book(handlers.Book(ANA, "tenis-aluche.202612090900"), ports, None)
    assert [r["key"] for r in refused.value.extra["reasons"]] == ["weekly"]
    book(ports, store, ANA, CONCERT)  # another kind: its own limit


def test_bad_slots_and_a_second_entry_are_refused(ports: BookingPorts, store: FakeBookingStore) -> None:
    for bad in ("nope", "piscina-barcelo.202612081930", "no-such-thing.202612081900", "piscina-barcelo.202613401900"):
        with pytest.raises(service.SlotNotFoundError):
            handlers.book(handlers.Book(ANA, bad), ports, None)
    with pytest.raises(service.SlotNotBookableError):
        handlers.book(handlers.Book(ANA, "piscina-barcelo.202612070800"), ports, None)  # this morning: started
    book(ports, store, ANA, POOL)
    with pytest.raises(service.AlreadyBookedError):
        handlers.book(handlers.Book(ANA, POOL, True), ports, None)
    with pytest.raises(service.BookingNotFoundError):
        handlers.cancel(handlers.Cancel(BEA, "bk-0000000000000000"), ports, None)


def test_a_no_show_is_recorded_and_three_suspend(
    ports: BookingPorts, store: FakeBookingStore, clock: FixedClock
) -> None:
    b = book(ports, store, ANA, CONCERT)
    with pytest.raises(service.BookingStateError):  # not started yet
        handlers.mark_no_show(handlers.NoShow(ANA, b.booking_id, "agent:ag-1"), ports, None)
    clock.advance(days=4, hours=8, minutes=45)
    staged = handlers.mark_no_show(handlers.NoShow(ANA, b.booking_id, "agent:ag-1"), ports, None)
    no_show = dict(events_in(staged.unit))["es.madrid.pic.booking.no-show.v1"]
    assert no_show["no_shows"] == 1 and no_show["marked_by"] == "agent:ag-1"
    commit(store, staged)
    person = store.fetch_person(ANA)
    store.items[f"person#{ANA}"] = replace(person, no_shows=(*person.no_shows, clock.now(), clock.now()))
    with pytest.raises(service.BookingNotAllowedError) as refused:
        handlers.book(handlers.Book(ANA, "concierto-centro-cultural-galileo.202612181930"), ports, None)
    assert [r["key"] for r in refused.value.extra["reasons"]] == ["no_shows"]


def test_the_padron_projection_makes_a_resident_the_latest_wins(ports: BookingPorts, store: FakeBookingStore) -> None:
    def updated(at: datetime, district: str | None) -> CitizenUpdated:
        return CitizenUpdated.model_validate({
            "citizen_id": "c-new", "updated_at": at.isoformat(),
            "link": {"source": "/legacy/padron", "local_id": "P1", "change": "added"},
            "match": {"method": "new", "score": 1.0, "evidence": []},
            "profile": {"birth_date": "1960-02-03", "district": district},
        })  # fmt: skip

    store.commit(handlers.project_citizen(updated(T0, "14"), ports))
    assert store.fetch_person("c-new").resident
    assert len(handlers.project_citizen(updated(datetime(2026, 1, 1, tzinfo=UTC), None), ports)) == 0


def test_rights_export_and_erase_the_facts_keeping_the_bookings(ports: BookingPorts, store: FakeBookingStore) -> None:
    book(ports, store, ANA, CONCERT)
    request = {"request_id": "rgpd-1", "citizen_id": ANA, "opened_at": T0.isoformat(), "due_at": T0.isoformat()}
    export = handlers.answer_rights(RgpdRequestOpened.model_validate({**request, "right": "access"}), ports, None)
    answered = dict(events_in(export))["es.madrid.pic.rgpd.domain.answered.v1"]
    assert len(answered["export"]["bookings"]) == 1 and answered["export"]["facts"]["district"] == "01"
    erase = handlers.answer_rights(RgpdRequestOpened.model_validate({**request, "right": "erasure"}), ports, None)
    store.commit(erase)
    assert f"person#{ANA}" not in store.items and store.fetch_bookings(ANA)


def test_the_notices_fit_their_platform_templates_exactly(
    ports: BookingPorts, store: FakeBookingStore, clock: FixedClock
) -> None:
    from functions.notification import templates  # NOT takes exactly a template's fields (else: dead letter)

    shipped = templates.platform_templates()
    notices = [d for t, d in events_in(handlers.book(handlers.Book(ANA, CONCERT), ports, None).unit)
               if t.endswith("notification.requested.v1")]  # fmt: skip
    ana = book(ports, store, ANA, COURT)
    book(ports, store, BEA, COURT, waitlist=True)
    notices += [d for t, d in events_in(handlers.cancel(handlers.Cancel(ANA, ana.booking_id), ports, None).unit)
                if t.endswith("notification.requested.v1")]  # fmt: skip
    table = "tenis-de-mesa-moratalaz.202612081800"  # free, one place: a free promotion
    carlos = book(ports, store, CARLOS, table)
    book(ports, store, ANA, table, waitlist=True)
    notices += [d for t, d in events_in(handlers.cancel(handlers.Cancel(CARLOS, carlos.booking_id), ports, None).unit)
                if t.endswith("notification.requested.v1")]  # fmt: skip
    assert {n["template"] for n in notices} == {"pic-booking-confirmed", "pic-booking-promoted-pay",
                                                "pic-booking-promoted"}  # fmt: skip
    for notice in notices:
        fields = shipped[notice["template"]].fields
        templates.check_personalisation(fields, notice["personalisation"])
        for lang in ("es", "en"):
            rendered = templates.render(shipped[notice["template"]], notice["personalisation"], lang)
            assert notice["personalisation"]["centre"] in rendered.body
