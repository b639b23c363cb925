"""Unit: after a person's erasure the position's projections honour its marker (ADR 0012) — the event handlers
of ``functions.position.main`` over an in-memory store (the real one is DynamoDB: the functional test
tests/functional/test_rgpd_erasure_sticks.py scans it after a real erasure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.citizen import CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged
from events.interaction import InteractionLogged
from events.rgpd import RgpdRequestCompleted
from functions.core.cloudevent import EventContext
from functions.core.store import UnitOfWork
from functions.position import main, service
from functions.position.service import Flags, Held, Item, Link, Marker

ERASED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"
CTX = EventContext("/pic/consent", "e-1", "es.madrid.pic.consent.changed.v1", CITIZEN, "00-trace", "k")


@dataclass
class FakeStore:
    marker: Marker | None = None
    facts: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # (pk, section#key) -> order
    links: dict[tuple[str, str], Link] = field(default_factory=dict)
    staged: list[tuple[str, Any]] = field(default_factory=list)

    def fetch_marker(self, citizen_id: str) -> Marker | None:
        return self.marker

    def fetch_fact_order(self, pk: str, item: Item) -> tuple[int, str] | None:
        return self.facts.get((pk, f"{item.section}#{item.key}"))

    def stage_fact(self, uow: UnitOfWork, pk: str, item: Item) -> None:
        self.staged.append(("fact", (pk, item.key, item.body["status"])))

    def stage_fact_deleted(self, uow: UnitOfWork, pk: str, item: Item) -> None:
        self.staged.append(("deleted", (pk, item.key)))

    def fetch_link(self, source: str, local_id: str) -> Link | None:
        return self.links.get((source, local_id))

    def stage_link(self, uow: UnitOfWork, link: Link, previous: Link | None) -> None:
        self.staged.append(("link", (link.source, link.local_id, link.citizen_id)))


@dataclass(frozen=True)
class FakeDeps:
    store: FakeStore


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    """A person erased at ``ERASED_AT`` by request rgpd-1."""
    fake = FakeStore(marker=Marker("rgpd-1", ERASED_AT))
    monkeypatch.setattr(main, "deps", lambda: FakeDeps(fake))
    return fake


def consent(granted: bool, at: datetime, capture_channel: str = "app") -> ConsentChanged:
    before, after = {"granted": not granted, "channels": []}, {"granted": granted, "channels": ["email"] * granted}
    return ConsentChanged.model_validate(
        {"citizen_id": CITIZEN, "purpose": "campaigns", "before": before, "after": after, "mode": "a",
         "proof_id": "p-1", "actor": {"kind": "system", "id": "pic-rgpd"}, "capture_channel": capture_channel,
         "language": "es", "text_sha256": None, "changed_at": at.isoformat()}
    )  # fmt: skip


def linked(at: datetime) -> CitizenUpdated:
    return CitizenUpdated.model_validate(
        {"citizen_id": CITIZEN, "link": {"source": "/legacy/multas", "local_id": "MUL1", "change": "added"},
         "match": {"method": "document", "score": 1.0, "evidence": ["DNI"]}, "updated_at": at.isoformat()}
    )  # fmt: skip


def logged(at: datetime) -> InteractionLogged:
    return InteractionLogged.model_validate(
        {"id": "intx-1", "recorded_by": "agente", "recorded_at": at.isoformat(),
         "interaction": {"interaction_id": "GC-1", "citizen_id": CITIZEN, "area": "hacienda", "topic": "IBI",
                         "channel": {"kind": "call", "direction": "inbound", "line": "010"},
                         "started_at": at.isoformat()}}
    )  # fmt: skip


def test_a_consent_change_from_before_the_erasure_delivered_after_it_is_not_projected(store: FakeStore) -> None:
    # GIVEN a consent given a minute before the erasure, whose event arrives after it (late, retried, replayed)
    # WHEN the position receives it
    main.on_consent_changed(CTX, consent(True, ERASED_AT - timedelta(minutes=1)))

    # THEN nothing is written: it is part of what the erasure erased
    assert store.staged == []


def test_the_erasures_own_withdrawal_never_creates_a_consent_item(store: FakeStore) -> None:
    # GIVEN nothing held about the consent (the erasure deleted it)
    # WHEN the consent domain's erasure withdrawal arrives, after the position's erasure
    main.on_consent_changed(CTX, consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL))

    # THEN no "not-granted" item is re-created
    assert store.staged == []


def test_the_erasures_own_withdrawal_deletes_a_consent_given_after_the_position_erased(store: FakeStore) -> None:
    # GIVEN a consent given after the position erased but before the consent domain did (so it was projected)
    grant = consent(True, ERASED_AT + timedelta(seconds=1))
    item = service.consent_item(grant)
    store.facts[(f"cit#{CITIZEN}", f"consents#{item.key}")] = item.order

    # WHEN the consent domain's erasure withdraws it
    main.on_consent_changed(CTX, consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL))

    # THEN the item goes, and nothing takes its place
    assert store.staged == [("deleted", (f"cit#{CITIZEN}", "campaigns"))]


def test_the_erasures_withdrawal_leaves_a_consent_given_after_it(store: FakeStore) -> None:
    # GIVEN a consent the person gave again after the whole erasure
    grant = consent(True, ERASED_AT + timedelta(minutes=5))
    item = service.consent_item(grant)
    store.facts[(f"cit#{CITIZEN}", f"consents#{item.key}")] = item.order

    # WHEN the erasure's withdrawal (older) is redelivered THEN the new consent stays
    main.on_consent_changed(CTX, consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL))
    assert store.staged == []


def test_a_consent_given_after_the_erasure_is_new_processing_and_projected(store: FakeStore) -> None:
    main.on_consent_changed(CTX, consent(True, ERASED_AT + timedelta(days=1)))
    assert store.staged == [("fact", (f"cit#{CITIZEN}", "campaigns", "granted"))]


def test_a_withdrawal_that_is_no_erasure_is_shown_as_any_change(store: FakeStore) -> None:
    main.on_consent_changed(CTX, consent(False, ERASED_AT + timedelta(days=1)))
    assert store.staged == [("fact", (f"cit#{CITIZEN}", "campaigns", "not-granted"))]


def test_a_link_from_before_the_erasure_is_not_made_again_and_a_new_one_is(store: FakeStore) -> None:
    # GIVEN C360's announcement of a link from before the erasure, arriving after it
    main.on_citizen_updated(CTX, linked(ERASED_AT - timedelta(seconds=1)))
    assert store.staged == []

    # WHEN a new fine's record is linked after the erasure (the Multas system sent it: new processing)
    main.on_citizen_updated(CTX, linked(ERASED_AT + timedelta(days=3)))

    # THEN the position links it: the erasure erased what was held, it does not forbid what comes after
    assert store.staged == [("link", ("/legacy/multas", "MUL1", CITIZEN))]


def test_an_interaction_from_before_the_erasure_is_not_projected_and_a_later_one_is(store: FakeStore) -> None:
    main.on_interaction_logged(CTX, logged(ERASED_AT))
    assert store.staged == []
    main.on_interaction_logged(CTX, logged(ERASED_AT + timedelta(hours=1)))
    assert store.staged == [("fact", (f"cit#{CITIZEN}", "intx-1", "resolved"))]


def test_without_an_erasure_every_change_is_projected(store: FakeStore) -> None:
    store.marker = None
    main.on_consent_changed(CTX, consent(True, ERASED_AT - timedelta(days=1)))
    main.on_citizen_updated(CTX, linked(ERASED_AT - timedelta(days=1)))
    assert [kind for kind, _ in store.staged] == ["fact", "link"]


def test_the_marker_orders_by_time_then_request() -> None:
    assert service.erased_before(Marker("rgpd-1", ERASED_AT), ERASED_AT)
    assert not service.erased_before(Marker("rgpd-1", ERASED_AT), ERASED_AT + timedelta(microseconds=1))
    assert not service.erased_before(None, ERASED_AT)
    assert Marker("rgpd-2", ERASED_AT + timedelta(seconds=1)).order > Marker("rgpd-1", ERASED_AT).order


# ---- the erasure completed: copies made between this projection's erasure and the domains' ---------------


@dataclass
class SweepStore(FakeStore):
    held: Held = field(default_factory=Held)
    units: list[UnitOfWork] = field(default_factory=list)

    def fetch_held(self, citizen_id: str) -> Held:
        return self.held

    def fetch_flags(self, citizen_id: str) -> Flags:
        return self.held.flags

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: Flags) -> None:
        raise AssertionError("the sweep never writes flags")

    def erasure_rows(self, citizen_id: str, held: Held) -> list[Any]:
        return [("item", i.key) for i in held.own] + [("record", key) for key in held.records]

    def stage_erase(self, uow: UnitOfWork, row: Any) -> None:
        self.staged.append(("erase", row))

    def stage_marker(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        raise AssertionError("the sweep keeps the erasure's marker, with the domains' times")

    def stage_marker_sources(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        self.staged.append(("marker", marker))
        self.marker = marker


def completed(request_id: str = "rgpd-1", right: str = "erasure", **answered: datetime) -> RgpdRequestCompleted:
    return RgpdRequestCompleted.model_validate(
        {"request_id": request_id, "citizen_id": CITIZEN, "right": right, "completed_at": ERASED_AT.isoformat(),
         "due_at": (ERASED_AT + timedelta(days=30)).isoformat(), "overdue": False, "answered": answered}
    )  # fmt: skip


@pytest.fixture
def swept(monkeypatch: pytest.MonkeyPatch) -> SweepStore:
    """The position erased at ``ERASED_AT``; then, before the other domains erased, it projected a consent
    given, an interaction logged and a record linked a second later."""
    later = ERASED_AT + timedelta(seconds=1)
    grant, call = service.consent_item(consent(True, later)), service.interaction_item(logged(later))
    store = SweepStore(
        marker=Marker("rgpd-1", ERASED_AT), held=Held(own=[grant, call], records={("/legacy/multas", "MUL1"): []})
    )
    store.links[("/legacy/multas", "MUL1")] = Link("/legacy/multas", "MUL1", CITIZEN, later)
    monkeypatch.setattr(main, "deps", lambda: FakeDeps(store))
    return store


def test_a_completed_erasure_drops_what_each_domain_erased_after_the_position_did(swept: SweepStore) -> None:
    # WHEN the request completes: the consent domain and C360 erased two seconds after the position, the
    # interaction log half a second after it (before the call was logged: the call is new, and stays)
    answered = {"consent": ERASED_AT + timedelta(seconds=2), "interaction": ERASED_AT + timedelta(seconds=0.5),
                "citizen": ERASED_AT + timedelta(seconds=2), "position": ERASED_AT}  # fmt: skip
    main.on_rgpd_request_completed(CTX, completed(**answered))

    # THEN the consent and the link go; the call stays; the marker keeps when each domain erased
    assert ("erase", ("item", "campaigns")) in swept.staged and (
        "erase",
        ("record", ("/legacy/multas", "MUL1")),
    ) in swept.staged
    assert ("erase", ("item", "intx-1")) not in swept.staged
    assert swept.marker == Marker("rgpd-1", ERASED_AT, answered)

    # AND a consent change from before the consent domain's erasure, arriving even later, is dropped
    swept.staged.clear()
    main.on_consent_changed(CTX, consent(True, ERASED_AT + timedelta(seconds=1.5)))
    assert swept.staged == []


@pytest.mark.parametrize("event", [completed(right="access"), completed(request_id="rgpd-0")])
def test_only_the_completion_of_the_erasure_the_marker_records_sweeps(swept: SweepStore, event: Any) -> None:
    main.on_rgpd_request_completed(CTX, event)
    assert swept.staged == []
