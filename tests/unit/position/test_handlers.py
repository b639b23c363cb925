"""The position use cases (``functions.position.handlers``) on in-memory fakes of their ports: projections that
converge whatever the order and redelivery, a lost race folded again, an erasure that sticks, and the read
question with the real ``policies/position`` deciding part by part. No DynamoDB, no broker: milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.base import EventData
from events.citizen import CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged
from events.interaction import InteractionLogged
from events.payment import FinePaid
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged
from functions.core.auth import Subject
from functions.core.errors import ConflictError, ForbiddenError
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.core.retry import retry_on_conflict
from functions.core.store import UnitOfWork
from functions.position import handlers
from functions.position.handlers import PositionPorts, ReadPosition
from functions.position.service import Marker
from tests.unit.conftest import ROOT
from tests.unit.fakes import FixedClock, events_in
from tests.unit.position.fakes import FakePositionStore
from tests.unit.position.samples import CITIZEN, TRIBUTOS, consent, fact, linked, logged
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
TRB1 = (TRIBUTOS, "TRB1")
ANSWERED = "es.madrid.pic.rgpd.domain.answered.v1"
CLERK = Subject("agent-7", "agent", 2, "hacienda")
POLICY = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))  # module-wide: hypothesis runs many examples


def ports_on(store: FakePositionStore) -> PositionPorts:
    return PositionPorts(store=store, policy=POLICY, clock=FixedClock(NOW))


@pytest.fixture
def store() -> FakePositionStore:
    return FakePositionStore()


@pytest.fixture
def ports(store: FakePositionStore) -> PositionPorts:
    return ports_on(store)


def deliver(event: tuple[str, EventData], ports: PositionPorts) -> UnitOfWork:
    """What the event function does with one delivery: the handler of its type (``source``, data)."""
    source, data = event
    if isinstance(data, PositionItemUpserted):
        return handlers.project_fact(source, data, ports)
    if isinstance(data, CitizenUpdated):
        return handlers.project_link(data, ports)
    if isinstance(data, ConsentChanged):
        return handlers.project_consent(data, ports)
    assert isinstance(data, InteractionLogged)
    return handlers.project_interaction(data, ports)


def delivered(store: FakePositionStore, *events: tuple[str, EventData]) -> None:
    ports = ports_on(store)
    for event in events:
        store.commit(deliver(event, ports))


def read(ports: PositionPorts, viewer: Subject, purpose: str | None = "EXP-2026-1") -> handlers.PositionRead:
    return handlers.read_position(ReadPosition(CITIZEN, viewer.as_policy_input(), purpose), ports)


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in body["sections"] if s["section"] == name)


# ---- the projections converge -------------------------------------------------------------------------

# A person's week: a receipt issued then paid, a fine's receipt later withdrawn, the record linked to the golden
# record, a call logged against the record, a consent given then withdrawn.
HISTORY: list[tuple[str, EventData]] = [
    (TRIBUTOS, fact(T0)),
    (TRIBUTOS, fact(T0 + timedelta(hours=2), status="paid")),
    (TRIBUTOS, fact(T0, item_id="IBI-2")),
    (TRIBUTOS, fact(T0 + timedelta(hours=3), item_id="IBI-2", removed=True)),
    ("/pic/citizen", linked(T0, *TRB1)),
    ("/pic/interaction", logged(T0 + timedelta(hours=1), record=TRB1)),
    ("/pic/consent", consent(True, T0 + timedelta(minutes=30))),
    ("/pic/consent", consent(False, T0 + timedelta(minutes=40))),
]


def final_state(store: FakePositionStore) -> dict[str, Any]:
    held = store.fetch_held(CITIZEN)
    return {
        "own": sorted((i.key, i.body["status"]) for i in held.own),
        "records": {
            r: sorted((i.key, i.body["status"], i.removed) for i in items) for r, items in held.records.items()
        },
        "links": {r: link.citizen_id for r, link in store.links.items()},
    }


EXPECTED = {
    "own": [("campaigns", "not-granted")],
    "records": {
        TRB1: [
            ("/legacy/tributos#IBI-1", "paid", False),
            ("/legacy/tributos#IBI-2", "pending", True),
            ("intx-1", "resolved", False),
        ]
    },
    "links": {TRB1: CITIZEN},
}


@settings(max_examples=60, deadline=None)
@given(st.permutations(HISTORY), st.lists(st.sampled_from(HISTORY), max_size=4))
def test_the_projections_converge_whatever_the_order_and_redelivery(
    order: list[tuple[str, EventData]], again: list[tuple[str, EventData]]
) -> None:
    # GIVEN a person's facts, links, calls and consents delivered in any order, some of them twice
    store = FakePositionStore()
    delivered(store, *order, *again)

    # THEN the position holds the same: the latest of each fact (a withdrawal kept as a tombstone), the link
    assert final_state(store) == EXPECTED


def test_a_repeated_or_stale_fact_stages_nothing(ports: PositionPorts, store: FakePositionStore) -> None:
    delivered(store, (TRIBUTOS, fact(T0 + timedelta(hours=1), status="paid")))
    assert (
        store.ledger.staged(handlers.project_fact(TRIBUTOS, fact(T0 + timedelta(hours=1), status="paid"), ports)) == []
    )
    assert store.ledger.staged(handlers.project_fact(TRIBUTOS, fact(T0), ports)) == []


def test_two_facts_of_one_record_at_once_the_second_loses_the_race_and_is_folded_again(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN two receipts of one record decided on the same bundle (two deliveries at once)
    first = handlers.project_fact(TRIBUTOS, fact(T0), ports)
    second = handlers.project_fact(TRIBUTOS, fact(T0, item_id="IBI-2"), ports)
    store.commit(first)

    # WHEN the second commits THEN it lost the race and wrote nothing
    with pytest.raises(ConflictError):
        store.commit(second)
    assert list(store.bundles[TRB1]) == ["taxes#/legacy/tributos#IBI-1"]

    # AND decided again (the kernel's retry), both receipts are in the record
    retry_on_conflict(
        lambda: store.commit(handlers.project_fact(TRIBUTOS, fact(T0, item_id="IBI-2"), ports)), backoff=0
    )
    assert len(store.bundles[TRB1]) == 2


def test_a_fact_from_a_source_that_is_no_systems_uri_is_refused(ports: PositionPorts) -> None:
    with pytest.raises(Exception, match="not an area system's URI"):
        handlers.project_fact("tributos", fact(T0), ports)


def test_a_pic_domains_fact_is_the_golden_records_own_and_an_erasure_drops_an_older_one(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN a booking PIC's booking domain announces about the golden record itself (no C360 link needed)
    booking = fact(T0, item_id="bk-1", local_id=CITIZEN, section="appointments", status="booked", area="deportes")
    delivered(store, ("/pic/booking", booking))

    # THEN it is the person's own fact, and its redelivery stages nothing
    assert final_state(store)["own"] == [("/pic/booking#bk-1", "booked")]
    assert store.ledger.staged(handlers.project_fact("/pic/booking", booking, ports)) == []

    # AND after the person's erasure, a fact from before it arriving late is dropped
    store.commit(handlers.answer_rights(rgpd_request("erasure", CITIZEN, NOW), ports, traceparent=None))
    late = fact(NOW - timedelta(minutes=1), item_id="bk-2", local_id=CITIZEN, section="appointments")
    assert store.ledger.staged(handlers.project_fact("/pic/booking", late, ports)) == []


def test_a_relink_moves_the_membership_and_an_older_link_does_not_undo_it(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN the record linked to Lucía, then (a merge corrected) to another golden record
    delivered(
        store,
        ("/pic/citizen", linked(T0, *TRB1)),
        ("/pic/citizen", linked(T0 + timedelta(hours=1), *TRB1, citizen_id="c-otro")),
    )
    # WHEN the older link is redelivered THEN it changes nothing
    assert store.ledger.staged(handlers.project_link(linked(T0, *TRB1), ports)) == []
    assert store.members == {CITIZEN: set(), "c-otro": {TRB1}}


# ---- erasure sticks -----------------------------------------------------------------------------------


def test_after_an_erasure_a_late_consent_change_is_dropped(ports: PositionPorts, store: FakePositionStore) -> None:
    # GIVEN a person with a receipt, a linked record and a consent
    delivered(store, *HISTORY)

    # WHEN the position answers their erasure (at the clock's time) and it commits
    unit = handlers.answer_rights(rgpd_request("erasure", CITIZEN, NOW), ports, traceparent=None)
    ((kind, answer),) = events_in(unit)
    assert (
        kind == ANSWERED
        and answer["outcome"] == "done"
        and answer["answered_at"] == NOW.isoformat().replace("+00:00", "Z")
    )
    store.commit(unit)
    assert final_state(store) == {"own": [], "records": {}, "links": {}}
    assert store.markers[CITIZEN] == Marker("rgpd-1", NOW)

    # THEN a consent given before the erasure, delivered late, is dropped, and so is the link's redelivery
    late = consent(True, NOW - timedelta(minutes=5))
    assert store.ledger.staged(handlers.project_consent(late, ports)) == []
    assert store.ledger.staged(handlers.project_link(linked(T0, *TRB1), ports)) == []

    # AND the erasure's own withdrawal, arriving after, creates nothing
    withdrawal = consent(False, NOW + timedelta(seconds=1), ERASURE_CAPTURE_CHANNEL)
    assert store.ledger.staged(handlers.project_consent(withdrawal, ports)) == []


def test_an_access_request_exports_what_the_projections_hold(ports: PositionPorts, store: FakePositionStore) -> None:
    delivered(store, *HISTORY)
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, NOW), ports, None))
    assert answer["outcome"] == "done"
    assert {row["item_id"] for row in answer["export"]["items"]} == {"IBI-1", "campaigns", "intx-1"}
    assert answer["export"]["records"] == [{"source": TRIBUTOS, "local_id": "TRB1"}]


# ---- the restriction flag -----------------------------------------------------------------------------


def test_the_latest_flag_wins_and_a_restriction_hides_the_position_from_agents(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    delivered(store, *HISTORY)
    restrict = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=True, changed_at=T0 + timedelta(hours=5))
    older = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=False, changed_at=T0 + timedelta(hours=4))
    store.commit(handlers.project_flags(restrict, ports))
    assert store.ledger.staged(handlers.project_flags(older, ports)) == []

    # WHEN a clerk reads it THEN nothing is shown, with the reason; the citizen still sees everything
    clerk = read(ports, CLERK)
    assert clerk.shown_sections == [] and any("RGPD art. 18" in r for r in clerk.body["reasons"])
    assert read(ports, Subject(CITIZEN, "citizen")).shown_sections == [
        "taxes:full",
        "consents:full",
        "interactions:full",
    ]


# ---- the read question ---------------------------------------------------------------------------------


def test_the_read_asks_the_policy_part_by_part(ports: PositionPorts, store: FakePositionStore) -> None:
    # GIVEN a receipt of Hacienda, a fine of Movilidad and a Servicios Sociales case (a special category)
    delivered(
        store,
        ("/pic/citizen", linked(T0, *TRB1)),
        (TRIBUTOS, fact(T0)),
        (TRIBUTOS, fact(T0, item_id="MUL-9", section="fines", area="movilidad", amount_eur="90.00")),
        (TRIBUTOS, fact(T0, item_id="SS-1", section="cases", area="servicios-sociales", special_category=True)),
    )

    # WHEN a level-2 Hacienda clerk reads it, stating a purpose
    answer = read(ports, CLERK)

    # THEN their own area's receipt in detail (no expert attributes), the other area's fine as a summary, the
    # special category of another area not even counted; what was shown is what the access log records
    taxes, fines, cases = (section(answer.body, name) for name in ("taxes", "fines", "cases"))
    assert taxes["view"] == "detail" and "attributes" not in taxes["items"][0]
    assert fines["view"] == "summary" and fines["items"] == [] and fines["summary"]["amount_eur"] == "90.00"
    assert cases["summary"]["count"] == 0 and cases["items"] == []
    assert answer.shown_sections == ["taxes:detail", "fines:summary"]
    assert answer.body["generated_at"] == NOW.isoformat() and answer.body["purpose"] == "EXP-2026-1"


def test_a_clerk_without_a_purpose_is_refused_with_the_policys_reasons(ports: PositionPorts) -> None:
    with pytest.raises(ForbiddenError) as refused:
        read(ports, CLERK, purpose=None)
    assert any("Access-Purpose" in reason for reason in refused.value.extra["reasons"])


def test_the_citizen_sees_their_whole_position_with_upcoming_dates_from_the_clock(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    delivered(
        store,
        ("/pic/citizen", linked(T0, *TRB1)),
        (TRIBUTOS, fact(T0, due_date="2026-03-01")),
        (TRIBUTOS, fact(T0, item_id="IBI-2", due_date="2026-06-30")),
    )
    taxes = section(read(ports, Subject(CITIZEN, "citizen"), purpose=None).body, "taxes")
    # the clock says 3 March: the receipt due on 1 March is past, the next date is June's
    assert taxes["view"] == "full" and taxes["summary"] == {
        "count": 2,
        "amount_eur": "200.00",
        "next_date": "2026-06-30",
    }
    assert taxes["items"][0]["attributes"] == {"cadastral_reference": "9872023VK"}


# ---- debts paid through PIC (PAY) ---------------------------------------------------------------------------


def fine_paid(at: datetime, fine_id: str = "MUL-2026-7") -> FinePaid:
    return FinePaid(
        debt_id=f"fine-{fine_id}", fine_id=fine_id, citizen_id=CITIZEN, amount_cents=10000, stage="early-payment",
        legal_source="RDL 6/2015, art. 94", payment_id="pay-" + "a" * 32, method="bizum", paid_at=at,
    )  # fmt: skip


def test_a_fine_paid_through_pic_shows_paid_in_fines_once(ports: PositionPorts, store: FakePositionStore) -> None:
    # GIVEN the fine paid, delivered twice (a redelivery)
    paid = fine_paid(T0)
    store.commit(handlers.project_paid(paid, ports))
    again = handlers.project_paid(paid, ports)

    # THEN the redelivery stages nothing, and the person's fines show it paid, at what was charged
    assert len(again) == 0
    (item,) = section(read(ports, Subject(CITIZEN, "citizen")).body, "fines")["items"]
    assert (item["status"], item["amount_eur"], item["title"]) == ("paid", "100", "Multa MUL-2026-7 pagada")
    assert item["attributes"]["legal_source"] == "RDL 6/2015, art. 94"
