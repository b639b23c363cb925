"""Recommendations' use cases on fakes (the real ``policies/recommend``, an in-memory store over the Ledger, a fixed
clock): each rule fires from the events it projects and explains itself; mode a, an objection or a restriction gets
nothing; feedback hides a suggestion or a rule; events in any order; the RGPD answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.agenda import AgendaEventPublished, ZonesChanged
from events.booking import BookingConfirmed
from events.citizen import CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged
from events.payment import DirectDebitSigned, TaxReceiptIssued, TaxReceiptPaid
from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from events.wallet import CardIssued, CardRevoked
from events.zbe import VehicleRegistered
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.recommend import handlers, service
from functions.recommend.handlers import RecommendPorts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.recommend.fakes import FakeRecommendStore

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
CID = "c-ana"


@pytest.fixture
def store() -> FakeRecommendStore:
    return FakeRecommendStore()


@pytest.fixture
def ports(store: FakeRecommendStore, policy: EmbeddedPolicy) -> RecommendPorts:
    return RecommendPorts(store=store, policy=policy, clock=FixedClock(T0))


def apply(ports: RecommendPorts, uow: UnitOfWork) -> None:
    assert isinstance(ports.store, FakeRecommendStore)
    ports.store.commit(uow)


def consent(mode: str, at: datetime = T0 - timedelta(days=1), cid: str = CID) -> ConsentChanged:
    return ConsentChanged.model_validate({
        "citizen_id": cid, "purpose": "personalisation", "before": {"granted": mode == "a"},
        "after": {"granted": mode == "b"}, "mode": mode, "proof_id": "p1", "actor": {"kind": "citizen", "id": cid},
        "capture_channel": "app", "language": "es", "text_sha256": None, "changed_at": at.isoformat(),
    })  # fmt: skip


def citizen(birth: str, district: str | None = "02", at: datetime = T0 - timedelta(days=2)) -> CitizenUpdated:
    return CitizenUpdated.model_validate({
        "citizen_id": CID, "link": {"source": "/legacy/padron", "local_id": "P1", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": at.isoformat(),
        "profile": {"birth_date": birth, "district": district, "barrio": f"{district}1" if district else None},
    })  # fmt: skip


def issued(year: int, debit: bool = False, ref: str = "9872023VH5797S0001WX") -> TaxReceiptIssued:
    return TaxReceiptIssued.model_validate({
        "citizen_id": CID, "receipt_id": f"IBI-{year}-0001", "tax": "IBI", "object": {"kind": "cadastral-reference",
        "reference": ref}, "period": str(year), "amount_cents": 40000,
        "voluntary_period": {"start": f"{year}-04-01", "end": f"{year}-06-30"},
        "direct_debit": {"status": "active" if debit else "none"},
    })  # fmt: skip


def paid(year: int, method: str = "card", receipt_id: str | None = None) -> TaxReceiptPaid:
    rid = receipt_id or f"IBI-{year}-0001"
    return TaxReceiptPaid.model_validate({
        "debt_id": f"receipt-{rid}", "citizen_id": CID, "amount_cents": 40000, "stage": "voluntary",
        "legal_source": "LGT art. 62", "payment_id": "pay-" + "0" * 32, "method": method,
        "paid_at": f"{year}-05-02T10:00:00+00:00", "receipt_id": rid,
    })  # fmt: skip


def vehicle(district: str | None = "01", plate: str = "1234KLM") -> VehicleRegistered:
    return VehicleRegistered.model_validate(
        {"plate": plate, "label": "C", "citizen_id": CID, "district": district, "as_of": T0.isoformat()}
    )


def card(card_type: str, card_id: str = "card-" + "a" * 32) -> dict[str, Any]:
    return {"card_id": card_id, "citizen_id": CID, "card_type": card_type}


def flags(restricted: bool = False, objections: list[str] | None = None) -> RgpdFlagsChanged:
    return RgpdFlagsChanged(citizen_id=CID, restricted=restricted, objections=objections or [], changed_at=T0)


def feed(ports: RecommendPorts, *events: Any) -> None:
    table: dict[Any, Any] = {
        ConsentChanged: handlers.on_consent_changed, CitizenUpdated: handlers.on_citizen_updated,
        TaxReceiptIssued: handlers.on_receipt_issued, TaxReceiptPaid: handlers.on_receipt_paid,
        VehicleRegistered: handlers.on_vehicle_registered, RgpdFlagsChanged: handlers.on_flags_changed,
        CardIssued: handlers.on_card_issued, CardRevoked: handlers.on_card_revoked,
        BookingConfirmed: handlers.on_booking_confirmed, ZonesChanged: handlers.on_zones_changed,
        AgendaEventPublished: handlers.on_agenda_event, DirectDebitSigned: handlers.on_debit_signed,
    }  # fmt: skip
    for event in events:
        apply(ports, table[type(event)](event, ports))


def rules(ports: RecommendPorts) -> list[str]:
    return [s.rule for s in handlers.citizen_suggestions(CID, ports).suggestions]


def ibi_card_payer(ports: RecommendPorts) -> None:
    feed(ports, consent("b"), issued(2024), paid(2024), issued(2025), paid(2025))


# ---- each rule, explained --------------------------------------------------------------------------------------


def test_ibi_paid_by_card_every_year_without_a_debit_suggests_the_direct_debit_bonus(ports: RecommendPorts) -> None:
    ibi_card_payer(ports)
    answer = handlers.citizen_suggestions(CID, ports)
    (s,) = answer.suggestions
    assert answer.allowed and s.rule == "ibi-direct-debit" and s.id == "ibi-direct-debit.9872023VH5797S0001WX"
    assert "2024, 2025" in s.reason["es"] and "3,25 %" in s.reason["es"] and "70 €" in s.reason["es"]
    assert "3.25 %" in s.reason["en"] and "Ordenanza Fiscal" in s.legal_source and s.link == "/app/pay/taxes"
    assert {u["key"]: u["value"] for u in s.used}["ibi_paid_by_card"] == ["2024", "2025"]
    assert all(u["from"].startswith("es.madrid.pic.") for u in s.used)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([issued(2023), paid(2023, "bank")], id="one-year-at-the-bank"),
        pytest.param([issued(2026, debit=True)], id="already-domiciled-by-tributos"),
    ],
)
def test_ibi_not_every_year_by_card_or_domiciled_suggests_nothing(ports: RecommendPorts, extra: list[Any]) -> None:
    ibi_card_payer(ports)
    feed(ports, *extra)
    assert "ibi-direct-debit" not in rules(ports)


def test_a_direct_debit_signed_through_pic_stops_the_ibi_suggestion(ports: RecommendPorts) -> None:
    ibi_card_payer(ports)
    signed = DirectDebitSigned.model_validate({
        "citizen_id": CID, "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
        "taxes": ["IBI"], "modality": "fraccionado-bonificado", "by": f"citizen:{CID}",
        "mandate": {"reference": "M1", "creditor_id": "ES12000P2807900B", "iban": "ES9121000418450200051332",
                    "holder": "Ana", "signed_on": "2026-05-01"},
    })  # fmt: skip
    feed(ports, signed)
    assert rules(ports) == []


def test_payments_before_their_receipts_count_in_either_order(ports: RecommendPorts) -> None:
    feed(ports, consent("b"), paid(2025), paid(2024), issued(2025), issued(2024))
    assert rules(ports) == ["ibi-direct-debit"]


def test_a_vehicle_in_a_ser_district_without_a_resident_card_suggests_the_card(ports: RecommendPorts) -> None:
    feed(ports, consent("b"), vehicle("01"), vehicle("08", plate="9999BBB"))
    (s,) = handlers.citizen_suggestions(CID, ports).suggestions
    assert s.id == "ser-resident-card.1234KLM" and "1234KLM" in s.reason["es"] and "Centro" in s.reason["es"]
    assert "Movilidad Sostenible" in s.legal_source
    apply(ports, handlers.on_card_issued(CardIssued.model_validate({
        **card("ser-residente"), "vct": "urn:x", "copies": 1, "issued_at": T0.isoformat(),
        "expires_at": (T0 + timedelta(days=365)).isoformat()}), ports))  # fmt: skip
    assert rules(ports) == []


def test_the_senior_card_at_65_resident_and_not_held_and_again_once_revoked(ports: RecommendPorts) -> None:
    feed(ports, consent("b"), citizen("1961-05-31"))
    (s,) = handlers.citizen_suggestions(CID, ports).suggestions
    assert s.rule == "madrid-mayor" and "65" in s.reason["es"] and s.link == "/app/wallet"
    issued_card = CardIssued.model_validate({**card("madrid-mayor"), "vct": "urn:x", "copies": 1,
        "issued_at": T0.isoformat(), "expires_at": (T0 + timedelta(days=365)).isoformat()})  # fmt: skip
    feed(ports, issued_card)
    assert rules(ports) == []
    feed(ports, CardRevoked.model_validate({**card("madrid-mayor"), "reason": "error", "revoked_at": T0.isoformat()}))
    assert rules(ports) == ["madrid-mayor"]


def test_a_day_before_65_or_not_registered_no_senior_card(ports: RecommendPorts) -> None:
    feed(ports, consent("b"), citizen("1961-06-02"))
    assert rules(ports) == []
    feed(ports, citizen("1950-01-01", district=None, at=T0 - timedelta(hours=1)))
    assert rules(ports) == []


def agenda(event_id: str, category: str, district: str | None, days: int = 3, **more: Any) -> AgendaEventPublished:
    return AgendaEventPublished.model_validate({
        "event_id": event_id, "title": f"Evento {event_id}", "category": category, "district": district, "free": True,
        "next_dates": [(T0 + timedelta(days=days)).isoformat()], **more,
    })  # fmt: skip


def test_coming_events_in_the_zones_matching_past_bookings_soonest_first(ports: RecommendPorts) -> None:
    booked = T0 - timedelta(days=30)
    booking = BookingConfirmed(
        booking_id="bk-0000000000000001", citizen_id=CID, resource_id="conde-duque-coro", slot_id="conde-duque-coro.1",
        kind="class", category="musica", district="05", starts_at=booked, ends_at=booked + timedelta(hours=1),
        centre="Centro Cultural Conde Duque", price_cents=0, via="free", confirmed_at=booked - timedelta(days=2),
    )  # fmt: skip
    zones = ZonesChanged.model_validate({"citizen_id": CID, "changed_at": T0.isoformat(), "zones": [
        {"kind": "home", "label": "Casa", "district": "02", "lat": 40.40, "lon": -3.70, "radius_m": 1000},
        {"kind": "work", "label": "Oficina", "district": "04", "lat": 40.43, "lon": -3.68, "radius_m": 1000},
    ]})  # fmt: skip
    feed(ports, consent("b"), booking, zones, agenda("e-late", "musica", "02", days=9),
         agenda("e-soon", "musica", "04"), agenda("e-past", "musica", "02", days=-1),
         agenda("e-theatre", "teatro", "02"), agenda("e-far", "musica", "11"),
         agenda("e-gone", "musica", "02", withdrawn=True))  # fmt: skip
    found = handlers.citizen_suggestions(CID, ports).suggestions
    assert [s.id for s in found] == ["agenda-events.e-soon", "agenda-events.e-late"]
    assert found[0].title["es"] == "Evento e-soon" and "Oficina" in found[0].reason["es"]
    assert "Salamanca" in found[0].reason["es"] and "musica" in found[0].reason["en"]


# ---- never without consent, an objection or a restriction -----------------------------------------------------


def everything(ports: RecommendPorts) -> None:
    ibi_card_payer(ports)
    feed(ports, citizen("1950-01-01"), vehicle("01"))


def test_mode_a_gets_nothing_and_says_why(ports: RecommendPorts) -> None:
    everything(ports)
    feed(ports, consent("a", at=T0))
    answer = handlers.citizen_suggestions(CID, ports)
    assert not answer.allowed and answer.suggestions == []
    mode = next(r for r in answer.reasons if r["key"] == "mode")
    assert mode["met"] is False and "modo a" in mode["es"]


def test_a_citizen_never_asked_is_mode_a(ports: RecommendPorts) -> None:
    feed(ports, citizen("1950-01-01"), vehicle("01"))
    assert not handlers.citizen_suggestions(CID, ports).allowed


def test_an_older_consent_event_does_not_undo_a_newer_one(ports: RecommendPorts) -> None:
    everything(ports)
    feed(ports, consent("a", at=T0), consent("b", at=T0 - timedelta(hours=1)))
    assert rules(ports) == []


BLOCKING = [flags(objections=["personalisation"]), flags(objections=["profiling"]), flags(restricted=True)]


@pytest.mark.parametrize("flag", BLOCKING, ids=["personalisation", "profiling", "restricted"])
def test_an_objection_or_a_restriction_gets_nothing(ports: RecommendPorts, flag: RgpdFlagsChanged) -> None:
    everything(ports)
    assert len(rules(ports)) == 3
    feed(ports, flag)
    assert not handlers.citizen_suggestions(CID, ports).allowed and rules(ports) == []


def test_an_objection_to_surveys_only_blocks_nothing(ports: RecommendPorts) -> None:
    everything(ports)
    feed(ports, flags(objections=["surveys"]))
    assert len(rules(ports)) == 3


# ---- feedback ----------------------------------------------------------------------------------------------------


def test_not_useful_hides_that_suggestion_and_dont_show_again_hides_the_rule(ports: RecommendPorts) -> None:
    everything(ports)
    feed(ports, vehicle("02", plate="5555CCC"))
    assert rules(ports) == ["ibi-direct-debit", "ser-resident-card", "ser-resident-card", "madrid-mayor"]
    given = handlers.give_feedback(handlers.GiveFeedback(CID, "ser-resident-card.1234KLM", "not-useful"), ports)
    apply(ports, given.unit)
    shown = [s.id for s in handlers.citizen_suggestions(CID, ports).suggestions]
    assert "ser-resident-card.1234KLM" not in shown and "ser-resident-card.5555CCC" in shown
    apply(ports, handlers.give_feedback(handlers.GiveFeedback(CID, "madrid-mayor", "dont-show-again"), ports).unit)
    apply(ports, handlers.give_feedback(handlers.GiveFeedback(CID, "ibi-direct-debit.9872023VH5797S0001WX",
                                                              "useful"), ports).unit)  # fmt: skip
    assert rules(ports) == ["ibi-direct-debit", "ser-resident-card"]
    held = ports.store.fetch_profile(CID)
    assert held.hidden_rules == ("madrid-mayor",) and held.useful == ("ibi-direct-debit.9872023VH5797S0001WX",)


@pytest.mark.parametrize("sid", ["madrid-mayor.x", "nope", "../../x", "A" * 200])
def test_feedback_on_a_suggestion_not_shown_is_not_found(ports: RecommendPorts, sid: str) -> None:
    ibi_card_payer(ports)
    with pytest.raises(service.SuggestionNotFoundError):
        handlers.give_feedback(handlers.GiveFeedback(CID, sid, "useful"), ports)


def test_feedback_in_mode_a_is_not_found(ports: RecommendPorts) -> None:
    everything(ports)
    feed(ports, consent("a", at=T0))
    with pytest.raises(service.SuggestionNotFoundError):
        handlers.give_feedback(handlers.GiveFeedback(CID, "madrid-mayor", "useful"), ports)


def test_feedback_that_lost_a_race_is_decided_again(ports: RecommendPorts) -> None:
    everything(ports)
    first = handlers.give_feedback(handlers.GiveFeedback(CID, "madrid-mayor", "dont-show-again"), ports)
    apply(ports, handlers.on_vehicle_registered(vehicle("03", plate="7777DDD"), ports))
    with pytest.raises(LostRaceError):
        apply(ports, first.unit)
    apply(ports, handlers.give_feedback(handlers.GiveFeedback(CID, "madrid-mayor", "dont-show-again"), ports).unit)
    assert "madrid-mayor" not in rules(ports)


def test_a_redelivered_or_older_event_stages_nothing(ports: RecommendPorts, store: FakeRecommendStore) -> None:
    ibi_card_payer(ports)
    feed(ports, vehicle("01"), citizen("1950-01-01"))
    assert store.ledger.staged(handlers.on_receipt_paid(paid(2025), ports)) == []
    assert store.ledger.staged(handlers.on_vehicle_registered(vehicle("01"), ports)) == []
    older = citizen("1990-01-01", at=T0 - timedelta(days=9))
    assert store.ledger.staged(handlers.on_citizen_updated(older, ports)) == []
    assert store.ledger.staged(handlers.on_vehicle_registered(vehicle("05"), ports)) == []  # the same as_of


# ---- RGPD --------------------------------------------------------------------------------------------------------


def rights_request(right: str) -> RgpdRequestOpened:
    return RgpdRequestOpened(request_id="r1", citizen_id=CID, right=right, opened_at=T0,  # type: ignore[arg-type]
                             due_at=T0 + timedelta(days=30))  # fmt: skip


def test_access_exports_the_profile_and_erasure_erases_it(ports: RecommendPorts) -> None:
    everything(ports)
    exported = events_in(handlers.answer_rights(rights_request("access"), ports, None))
    ((kind, answer),) = exported
    assert kind == "es.madrid.pic.rgpd.domain.answered.v1" and answer["domain"] == "recommend"
    assert answer["export"]["mode"] == "b" and answer["export"]["vehicles"]["1234KLM"]["district"] == "01"
    erased = handlers.answer_rights(rights_request("erasure"), ports, None)
    apply(ports, erased)
    assert ports.store.fetch_profile(CID).version is None
    assert rules(ports) == []

    # AND the erasure's own consent withdrawals, arriving after, keep no profile of the person
    withdrawal = consent("a", T0).model_copy(update={"capture_channel": ERASURE_CAPTURE_CHANNEL})
    assert ports.store.ledger.staged(handlers.on_consent_changed(withdrawal, ports)) == []


def test_age_is_counted_on_madrid_s_day() -> None:
    assert service.age_on(date(1961, 6, 1), date(2026, 6, 1)) == 65
    assert service.age_on(date(1961, 6, 2), date(2026, 6, 1)) == 64
