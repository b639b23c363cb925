"""Unit: after a person's erasure the position's projections honour its marker (ADR 0012) — the event handlers
of ``functions.position.handlers`` over an in-memory store (the real one is DynamoDB: the functional test
tests/functional/rgpd/test_rgpd_erasure_sticks.py scans it after a real erasure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.consent import ERASURE_CAPTURE_CHANNEL
from events.rgpd import RgpdRequestCompleted
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.position import handlers, service
from functions.position.handlers import PositionPorts
from functions.position.service import Held, Link, Marker
from tests.unit.fakes import FixedClock
from tests.unit.position.fakes import FakePositionStore
from tests.unit.position.samples import CITIZEN, consent, linked, logged

ERASED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MULTAS = ("/legacy/multas", "MUL1")


@pytest.fixture
def store() -> FakePositionStore:
    """A person erased at ``ERASED_AT`` by request rgpd-1."""
    return FakePositionStore(markers={CITIZEN: Marker("rgpd-1", ERASED_AT)})


@pytest.fixture
def ports(store: FakePositionStore, policy: EmbeddedPolicy) -> PositionPorts:
    return PositionPorts(store=store, policy=policy, clock=FixedClock(ERASED_AT + timedelta(days=7)))


def apply(store: FakePositionStore, uow: UnitOfWork) -> list[str]:
    """Commit ``uow`` on the fake store; what it wrote (the ledger's keys)."""
    written = store.ledger.staged(uow)
    store.commit(uow)
    return written


def consents_of(store: FakePositionStore) -> dict[str, str]:
    return {item.key: item.body["status"] for item in store.own.get(CITIZEN, {}).values() if item.section == "consents"}


def test_a_consent_change_from_before_the_erasure_delivered_after_it_is_not_projected(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN a consent given a minute before the erasure, whose event arrives after it (late, retried, replayed)
    # WHEN the position receives it
    written = apply(store, handlers.project_consent(consent(True, ERASED_AT - timedelta(minutes=1)), ports))

    # THEN nothing is written: it is part of what the erasure erased
    assert written == [] and consents_of(store) == {}


def test_the_erasures_own_withdrawal_never_creates_a_consent_item(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN nothing held about the consent (the erasure deleted it)
    # WHEN the consent domain's erasure withdrawal arrives, after the position's erasure
    withdrawal = consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL)
    written = apply(store, handlers.project_consent(withdrawal, ports))

    # THEN no "not-granted" item is re-created
    assert written == [] and consents_of(store) == {}


def test_the_erasures_own_withdrawal_deletes_a_consent_given_after_the_position_erased(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN a consent given after the position erased but before the consent domain did (so it was projected)
    apply(store, handlers.project_consent(consent(True, ERASED_AT + timedelta(seconds=1)), ports))
    assert consents_of(store) == {"campaigns": "granted"}

    # WHEN the consent domain's erasure withdraws it
    withdrawal = consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL)
    apply(store, handlers.project_consent(withdrawal, ports))

    # THEN the item goes, and nothing takes its place
    assert consents_of(store) == {}


def test_the_erasures_withdrawal_leaves_a_consent_given_after_it(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN a consent the person gave again after the whole erasure
    apply(store, handlers.project_consent(consent(True, ERASED_AT + timedelta(minutes=5)), ports))

    # WHEN the erasure's withdrawal (older) is redelivered THEN the new consent stays
    withdrawal = consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL)
    assert apply(store, handlers.project_consent(withdrawal, ports)) == []
    assert consents_of(store) == {"campaigns": "granted"}


def test_a_consent_given_after_the_erasure_is_new_processing_and_projected(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    apply(store, handlers.project_consent(consent(True, ERASED_AT + timedelta(days=1)), ports))
    assert consents_of(store) == {"campaigns": "granted"}


def test_a_withdrawal_that_is_no_erasure_is_shown_as_any_change(ports: PositionPorts, store: FakePositionStore) -> None:
    apply(store, handlers.project_consent(consent(False, ERASED_AT + timedelta(days=1)), ports))
    assert consents_of(store) == {"campaigns": "not-granted"}


def test_a_link_from_before_the_erasure_is_not_made_again_and_a_new_one_is(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    # GIVEN C360's announcement of a link from before the erasure, arriving after it
    assert apply(store, handlers.project_link(linked(ERASED_AT - timedelta(seconds=1)), ports)) == []
    assert store.links == {}

    # WHEN a new fine's record is linked after the erasure (the Multas system sent it: new processing)
    apply(store, handlers.project_link(linked(ERASED_AT + timedelta(days=3)), ports))

    # THEN the position links it: the erasure erased what was held, it does not forbid what comes after
    assert store.links[MULTAS].citizen_id == CITIZEN and store.members[CITIZEN] == {MULTAS}


def test_an_interaction_from_before_the_erasure_is_not_projected_and_a_later_one_is(
    ports: PositionPorts, store: FakePositionStore
) -> None:
    assert apply(store, handlers.project_interaction(logged(ERASED_AT), ports)) == []
    apply(store, handlers.project_interaction(logged(ERASED_AT + timedelta(hours=1)), ports))
    (call,) = store.own[CITIZEN].values()
    assert (call.section, call.key, call.body["status"]) == ("interactions", "intx-1", "resolved")


def test_without_an_erasure_every_change_is_projected(ports: PositionPorts, store: FakePositionStore) -> None:
    store.markers.clear()
    apply(store, handlers.project_consent(consent(True, ERASED_AT - timedelta(days=1)), ports))
    apply(store, handlers.project_link(linked(ERASED_AT - timedelta(days=1)), ports))
    assert consents_of(store) == {"campaigns": "granted"} and MULTAS in store.links


def test_the_marker_orders_by_time_then_request() -> None:
    assert service.erased_before(Marker("rgpd-1", ERASED_AT), ERASED_AT)
    assert not service.erased_before(Marker("rgpd-1", ERASED_AT), ERASED_AT + timedelta(microseconds=1))
    assert not service.erased_before(None, ERASED_AT)
    assert Marker("rgpd-2", ERASED_AT + timedelta(seconds=1)).order > Marker("rgpd-1", ERASED_AT).order


# ---- the erasure completed: copies made between this projection's erasure and the domains' ---------------


def completed(request_id: str = "rgpd-1", right: str = "erasure", **answered: datetime) -> RgpdRequestCompleted:
    return RgpdRequestCompleted.model_validate(
        {"request_id": request_id, "citizen_id": CITIZEN, "right": right, "completed_at": ERASED_AT.isoformat(),
         "due_at": (ERASED_AT + timedelta(days=30)).isoformat(), "overdue": False, "answered": answered}
    )  # fmt: skip


@pytest.fixture
def swept(ports: PositionPorts, store: FakePositionStore) -> FakePositionStore:
    """The position erased at ``ERASED_AT``; then, before the other domains erased, it projected a consent
    given, an interaction logged and a record linked a second later."""
    later = ERASED_AT + timedelta(seconds=1)
    apply(store, handlers.project_consent(consent(True, later), ports))
    apply(store, handlers.project_interaction(logged(later), ports))
    apply(store, handlers.project_link(linked(later), ports))
    assert store.fetch_held(CITIZEN) == Held(
        own=[service.consent_item(consent(True, later)), service.interaction_item(logged(later))],
        records={MULTAS: []},
        marker=Marker("rgpd-1", ERASED_AT),
    )
    assert store.links[MULTAS] == Link(*MULTAS, CITIZEN, later)
    return store


def test_a_completed_erasure_drops_what_each_domain_erased_after_the_position_did(
    ports: PositionPorts, swept: FakePositionStore
) -> None:
    # WHEN the request completes: the consent domain and C360 erased two seconds after the position, the
    # interaction log half a second after it (before the call was logged: the call is new, and stays)
    answered = {"consent": ERASED_AT + timedelta(seconds=2), "interaction": ERASED_AT + timedelta(seconds=0.5),
                "citizen": ERASED_AT + timedelta(seconds=2), "position": ERASED_AT}  # fmt: skip
    apply(swept, handlers.sweep_erasure(completed(**answered), ports))

    # THEN the consent and the link go; the call stays; the marker keeps when each domain erased
    held = swept.fetch_held(CITIZEN)
    assert [item.key for item in held.own] == ["intx-1"] and held.records == {} and MULTAS not in swept.links
    assert swept.markers[CITIZEN] == Marker("rgpd-1", ERASED_AT, answered)

    # AND a consent change from before the consent domain's erasure, arriving even later, is dropped
    assert apply(swept, handlers.project_consent(consent(True, ERASED_AT + timedelta(seconds=1.5)), ports)) == []


@pytest.mark.parametrize("event", [completed(right="access"), completed(request_id="rgpd-0")])
def test_only_the_completion_of_the_erasure_the_marker_records_sweeps(
    ports: PositionPorts, swept: FakePositionStore, event: Any
) -> None:
    assert apply(swept, handlers.sweep_erasure(event, ports)) == []
    assert swept.markers[CITIZEN] == Marker("rgpd-1", ERASED_AT)
