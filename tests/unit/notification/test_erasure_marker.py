"""Unit: the notification domain's projections after a person's erasure (ADR 0012), its projection of C360's
contact points (no read of C360's table), and the recipient keys that find what was sent to a person — the
event handlers over a fake profile store, and the pure merges (the real store: the functional tests)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from events.catalog import CATALOG
from events.citizen import CitizenUnmerged, CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged, PreferencesChanged, SubscriptionChanged
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted
from functions.core.blind_index import blind_index
from functions.core.cloudevent import EventContext
from functions.core.store import UnitOfWork
from functions.notification import main, service
from functions.notification.service import citizen_view
from tests.unit.fakes import FixedClock
from tests.unit.notification.fakes import FakeNotificationStore, fake_ports

ROOT = Path(__file__).resolve().parents[3]
ERASED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-1"
CTX = EventContext("/pic/consent", "e-1", "es.madrid.pic.consent.changed.v1", CITIZEN, "00-trace", "k")
MARKER = {service.ERASED: {"value": {"request_id": "rgpd-1"}, "at": ERASED_AT.isoformat()}}


@dataclass
class Projection:
    """The fake store under the events function's entry points, each event's unit committed as the kernel would."""

    store: FakeNotificationStore = field(default_factory=FakeNotificationStore)

    def handle(self, entry: Callable[[EventContext, Any], UnitOfWork], data: Any) -> None:
        self.store.commit(entry(CTX, data))

    @property
    def staged(self) -> int:
        """Writes to profiles and subscriptions so far."""
        return self.store.calls["write:cit"] + self.store.calls["write:sub"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Projection:
    """A person NOT erased at ``ERASED_AT``: only its marker (and no flags) is left."""
    projection = Projection()
    projection.store.profiles[CITIZEN] = dict(MARKER)
    ports = fake_ports(projection.store, FixedClock(ERASED_AT))
    monkeypatch.setattr(main, "ports", lambda: ports)
    return projection


def consent(granted: bool, at: datetime, capture_channel: str = "app") -> ConsentChanged:
    before, after = {"granted": not granted, "channels": []}, {"granted": granted, "channels": ["email"] * granted}
    return ConsentChanged.model_validate(
        {"citizen_id": CITIZEN, "purpose": "campaigns", "before": before, "after": after, "mode": "a",
         "proof_id": "p-1", "actor": {"kind": "system", "id": "pic-rgpd"}, "capture_channel": capture_channel,
         "language": "es", "text_sha256": None, "changed_at": at.isoformat()}
    )  # fmt: skip


def updated(at: datetime, email: str | None = "Ines.Pinilla@Example.org", phone: str | None = "612345678") -> Any:
    return CitizenUpdated.model_validate(
        {"citizen_id": CITIZEN, "link": {"source": "/legacy/padron", "local_id": "PAD1", "change": "changed"},
         "match": {"method": "document", "score": 1.0, "evidence": ["DNI"]}, "updated_at": at.isoformat(),
         "contact": {"email": email, "phone": phone}}
    )  # fmt: skip


# ---- the erasure marker ---------------------------------------------------------------------------------


def test_events_from_before_the_erasure_re_create_nothing(fake: Projection) -> None:
    # GIVEN the person's erasure; WHEN events from before it arrive late (consent, preferences, subscription,
    # contact points)
    before = ERASED_AT - timedelta(seconds=1)
    fake.handle(main.on_consent_changed, consent(True, before))
    prefs = {"citizen_id": CITIZEN, "before": {}, "after": {"channels": ["email"]},
             "actor": {"kind": "citizen", "id": CITIZEN}, "changed_at": before.isoformat()}  # fmt: skip
    fake.handle(main.on_preferences_changed, PreferencesChanged.model_validate(prefs))
    sub = {"citizen_id": CITIZEN, "subscription_id": "traffic.01", "change": "created", "topic": "traffic",
           "zone": "01", "actor": {"kind": "citizen", "id": CITIZEN}, "changed_at": before.isoformat()}  # fmt: skip
    fake.handle(main.on_subscription_changed, SubscriptionChanged.model_validate(sub))
    fake.handle(main.on_citizen_updated, updated(before))

    # THEN nothing is projected again
    assert fake.staged == 0 and fake.store.subscriptions == {}
    assert fake.store.profiles[CITIZEN] == MARKER


def test_the_erasures_own_withdrawal_never_creates_a_consent(fake: Projection) -> None:
    fake.handle(main.on_consent_changed, consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL))
    assert fake.staged == 0


def test_the_erasures_own_withdrawal_removes_a_consent_given_in_between(fake: Projection) -> None:
    # GIVEN a consent given after NOT erased but before the consent domain did
    fake.handle(main.on_consent_changed, consent(True, ERASED_AT + timedelta(seconds=1)))
    assert fake.store.profiles[CITIZEN]["consents"]["value"]["campaigns"]["granted"] is True

    # WHEN the consent domain's erasure withdraws it THEN the projection holds no consent at all
    fake.handle(main.on_consent_changed, consent(False, ERASED_AT + timedelta(seconds=2), ERASURE_CAPTURE_CHANNEL))
    assert fake.store.profiles[CITIZEN] == MARKER


def test_flags_apply_whenever_they_arrive_the_erasure_keeps_them(fake: Projection) -> None:
    flags = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=True, changed_at=ERASED_AT - timedelta(days=1))
    fake.handle(main.on_rgpd_flags_changed, flags)
    assert citizen_view(CITIZEN, fake.store.profiles[CITIZEN]).restricted is True


def test_contact_points_announced_after_the_erasure_are_projected(fake: Projection) -> None:
    # WHEN C360 announces the golden record again after the erasure (the Padrón it keeps sent a change)
    fake.handle(main.on_citizen_updated, updated(ERASED_AT + timedelta(days=2)))

    # THEN the person can be reached again
    view = citizen_view(CITIZEN, fake.store.profiles[CITIZEN])
    assert view.email == "Ines.Pinilla@example.org" and view.phone == "+34612345678"


def test_a_later_erasure_keeps_its_own_marker() -> None:
    later = service.marked_erased(dict(MARKER), "rgpd-2", ERASED_AT + timedelta(days=1))
    assert later[service.ERASED]["value"] == {"request_id": "rgpd-2"}
    earlier = service.marked_erased(later, "rgpd-1", ERASED_AT)
    assert earlier == later


# ---- contact points from C360's events ------------------------------------------------------------------


def test_the_latest_contact_points_win_and_every_address_stays_findable() -> None:
    # GIVEN C360 announced an e-mail, then a new one
    first = service.merge_contacts({}, "ines@example.org", None, ERASED_AT)
    assert first is not None
    second = service.merge_contacts(first, "nueva@example.org", "+34 612 345 678", ERASED_AT + timedelta(days=1))
    assert second is not None

    # WHEN the older announcement is delivered again
    assert service.merge_contacts(second, "ines@example.org", None, ERASED_AT) is None

    # THEN the newest contact points are used, and both addresses' blind indexes are kept (never the raw old one)
    contacts = second["contacts"]["value"]
    assert (contacts["email"], contacts["phone"]) == ("nueva@example.org", "+34612345678")
    assert set(contacts["keys"]) == {
        service.address_key("email", "ines@example.org"),
        service.address_key("email", "nueva@example.org"),
        service.address_key("sms", "+34612345678"),
    }
    assert "ines@example.org" not in str(second)


def test_an_older_announcement_with_an_unknown_address_adds_only_its_key() -> None:
    newer = service.merge_contacts({}, "nueva@example.org", None, ERASED_AT + timedelta(days=1))
    assert newer is not None
    merged = service.merge_contacts(newer, "vieja@example.org", None, ERASED_AT)
    assert merged is not None
    assert merged["contacts"]["value"]["email"] == "nueva@example.org"
    assert service.address_key("email", "vieja@example.org") in merged["contacts"]["value"]["keys"]


def test_an_unmerge_updates_the_remaining_golden_records_contact_points(fake: Projection) -> None:
    fake.store.profiles[CITIZEN] = {}
    unmerged = {"citizen_id": CITIZEN, "restored_citizen_id": "c-2", "links": [], "by": "agente",
                "unmerged_at": ERASED_AT.isoformat(), "contact": {"email": None, "phone": "612345678"}}  # fmt: skip
    fake.handle(main.on_citizen_unmerged, CitizenUnmerged.model_validate(unmerged))
    view = citizen_view(CITIZEN, fake.store.profiles[CITIZEN])
    assert (view.email, view.phone, view.known) == (None, "+34612345678", True)


def test_an_announcement_without_contact_points_changes_nothing(fake: Projection) -> None:
    event = updated(ERASED_AT + timedelta(days=1)).model_copy(update={"contact": None})
    fake.handle(main.on_citizen_updated, event)
    assert fake.staged == 0


def test_the_events_function_consumes_c360s_announcements_and_imports_nothing_of_c360() -> None:
    # GIVEN the types C360 announces contact points in: the events function handles them
    for type_ in ("es.madrid.pic.citizen.updated.v1", "es.madrid.pic.citizen.unmerged.v1"):
        assert type_ in main.event_api.handlers
        assert "pic-notification-events" in CATALOG[type_].consumers

    # THEN no module of the notification domain imports C360's code (its storage, its models)
    imported = {
        name
        for path in (ROOT / "functions/notification").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])]
        )
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert not [name for name in imported if name.startswith("functions.citizen")]


# ---- recipient keys ---------------------------------------------------------------------------------------


def test_a_notification_is_found_by_citizen_id_or_by_its_addresss_blind_index() -> None:
    assert service.recipient_key({"citizen_id": "c-1"}) == "cit#c-1"
    by_mail = service.recipient_key({"email": "Ines@Example.org"})
    assert by_mail == service.recipient_key({"email": "ines@example.org"})  # the same address, any case
    assert by_mail == f"email#{blind_index('email', 'ines@example.org')}" and "ines" not in by_mail
    assert service.recipient_key({"phone": "612 34 56 78"}) == f"phone#{blind_index('phone', '+34612345678')}"


# ---- the erasure completed: copies made between NOT's erasure and the domains' ------------------------------


def test_a_completed_erasure_drops_what_each_domain_erased_after_not_did(fake: Projection) -> None:
    # GIVEN NOT erased at ERASED_AT; a second later it projected a consent, preferences and contact points
    later = ERASED_AT + timedelta(seconds=1)
    fake.handle(main.on_consent_changed, consent(True, later))
    fake.handle(main.on_citizen_updated, updated(later))
    parts = service.merge_part(fake.store.profiles[CITIZEN], "preferences", {"channels": ["sms"]}, later)
    assert parts is not None and {"consents", "contacts", "preferences"} <= set(parts)

    # WHEN the request completes: the consent domain erased two seconds after NOT, C360 half a second after
    answered = {"consent": ERASED_AT + timedelta(seconds=2), "citizen": ERASED_AT + timedelta(seconds=0.5)}
    kept = service.swept(parts, answered)

    # THEN the consent and the preferences (erased by the consent domain after they were given) go; the
    # contact points, announced after C360 erased (a new fact), stay; the marker keeps the domains' times
    assert set(kept) == {service.ERASED, "contacts"}
    assert kept[service.ERASED]["value"]["sources"] == {k: v.isoformat() for k, v in answered.items()}

    # AND a subscription from before the consent domain's erasure, arriving later, is not projected
    fake.store.profiles[CITIZEN] = kept
    sub = {"citizen_id": CITIZEN, "subscription_id": "traffic.01", "change": "created", "topic": "traffic",
           "zone": "01", "actor": {"kind": "citizen", "id": CITIZEN}, "changed_at": later.isoformat()}  # fmt: skip
    fake.handle(main.on_subscription_changed, SubscriptionChanged.model_validate(sub))
    assert fake.store.subscriptions == {}


def test_only_the_erasure_the_marker_records_is_swept(fake: Projection, monkeypatch: pytest.MonkeyPatch) -> None:
    other = {"request_id": "rgpd-0", "citizen_id": CITIZEN, "right": "erasure", "completed_at": ERASED_AT.isoformat(),
             "due_at": ERASED_AT.isoformat(), "overdue": False, "answered": {}}  # fmt: skip
    fake.handle(main.on_rgpd_request_completed, RgpdRequestCompleted.model_validate(other))
    access = {**other, "request_id": "rgpd-1", "right": "access"}
    fake.handle(main.on_rgpd_request_completed, RgpdRequestCompleted.model_validate(access))
    assert fake.staged == 0
