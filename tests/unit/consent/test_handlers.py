"""The consent use cases (``functions.consent.handlers``) on in-memory fakes of their ports: what each stages,
what a second identical command does, a lost race decided again, and the contact decision with the real
policy. No DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.consent import Actor, Preferences, QuietHours
from functions.consent import handlers
from functions.consent.handlers import ConsentPorts
from functions.consent.service import ChangeConsent, SubscriptionNotFoundError
from functions.core.errors import ConflictError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.terms import Terms
from tests.unit.consent.fakes import FakeConsentStore
from tests.unit.fakes import FixedClock, events_in

CITIZEN_ID = "c-0001"
ME = Actor(kind="citizen", id=CITIZEN_ID)
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CHANGED = "es.madrid.pic.consent.changed.v1"


@pytest.fixture
def store() -> FakeConsentStore:
    return FakeConsentStore()


@pytest.fixture
def ports(store: FakeConsentStore, terms: Terms, policy: EmbeddedPolicy) -> ConsentPorts:
    return ConsentPorts(store=store, policy=policy, terms=terms, clock=FixedClock(T0))


def give(purpose: str, channels: tuple[str, ...] = (), granted: bool = True) -> ChangeConsent:
    return ChangeConsent(
        citizen_id=CITIZEN_ID,
        purpose=purpose,
        granted=granted,
        channels=channels,
        text_version="2026-01" if granted else None,
        language="es",
        actor=ME,
        capture_channel="app",
    )


def test_giving_consent_stages_proof_state_and_event_at_the_clocks_time(
    ports: ConsentPorts, store: FakeConsentStore
) -> None:
    # GIVEN a citizen in mode (a) WHEN they consent to personalisation
    staged = handlers.change_consent(give("personalisation"), ports, traceparent=None)

    # THEN the unit holds the state, its proof and one consent.changed; committed, the citizen is in mode (b)
    assert store.ledger.staged(staged.unit)[0] == f"state#{CITIZEN_ID}"
    ((kind, data),) = events_in(staged.unit)
    assert kind == CHANGED and data["after"]["granted"] is True and data["purpose"] == "personalisation"
    store.commit(staged.unit)
    assert store.fetch_state(CITIZEN_ID).mode == "b"
    (proof,) = store.proofs
    assert proof.recorded_at == T0 and proof.actor == ME


def test_the_same_decision_again_stages_nothing(ports: ConsentPorts, store: FakeConsentStore) -> None:
    store.commit(handlers.change_consent(give("campaigns", ("email",)), ports, None).unit)
    again = handlers.change_consent(give("campaigns", ("email",)), ports, None)
    assert len(again.unit) == 0 and events_in(again.unit) == []


def test_a_lost_race_is_decided_again_on_what_the_winner_wrote(ports: ConsentPorts, store: FakeConsentStore) -> None:
    # GIVEN two changes of the same citizen decided on the same state (two purposes at once)
    first = handlers.change_consent(give("personalisation"), ports, None)
    second = handlers.change_consent(give("surveys", ("email",)), ports, None)
    store.commit(first.unit)

    # WHEN the second commits THEN it lost the race: nothing of it is written
    with pytest.raises(ConflictError):
        store.commit(second.unit)
    assert len(store.proofs) == 1

    # AND decided again (the kernel's retry), both consents stand
    def attempt() -> None:
        store.commit(handlers.change_consent(give("surveys", ("email",)), ports, None).unit)

    retry_on_conflict(attempt, backoff=0)
    granted = {p for p, c in store.fetch_state(CITIZEN_ID).purposes.items() if c.granted}
    assert granted == {"personalisation", "surveys"} and len(store.proofs) == 2


def test_unchanged_preferences_stage_nothing_and_changed_ones_emit(
    ports: ConsentPorts, store: FakeConsentStore
) -> None:
    quiet = Preferences(language="es", channels=["email"], quiet_hours=QuietHours(start="22:00", end="08:00"))
    first = handlers.change_preferences(CITIZEN_ID, quiet, ME, ports, None)
    assert [k for k, _ in events_in(first.unit)] == ["es.madrid.pic.preferences.changed.v1"]
    store.commit(first.unit)
    assert len(handlers.change_preferences(CITIZEN_ID, quiet, ME, ports, None).unit) == 0


def test_subscribing_twice_answers_the_first_subscription(ports: ConsentPorts, store: FakeConsentStore) -> None:
    first = handlers.subscribe(CITIZEN_ID, "traffic", "01", ME, ports, None)
    assert first.result.created and first.result.subscription.zone.name == "Centro"
    store.commit(first.unit)
    again = handlers.subscribe(CITIZEN_ID, "traffic", "01", ME, ports, None)
    assert not again.result.created and len(again.unit) == 0


def test_unsubscribing_what_does_not_exist_is_not_found(ports: ConsentPorts) -> None:
    with pytest.raises(SubscriptionNotFoundError):
        handlers.unsubscribe(CITIZEN_ID, "traffic.01", ME, ports, None)


def test_unsubscribing_emits_the_removal(ports: ConsentPorts, store: FakeConsentStore) -> None:
    store.commit(handlers.subscribe(CITIZEN_ID, "traffic", "01", ME, ports, None).unit)
    gone = handlers.unsubscribe(CITIZEN_ID, "traffic.01", ME, ports, None)
    ((kind, data),) = events_in(gone.unit)
    assert kind == "es.madrid.pic.subscription.changed.v1" and data["change"] == "deleted"
    store.commit(gone.unit)
    assert store.fetch_subscriptions(CITIZEN_ID) == []


def test_the_contact_decision_honours_a_withdrawal_with_its_reasons(
    ports: ConsentPorts, store: FakeConsentStore
) -> None:
    # GIVEN campaigns by SMS given, then withdrawn
    store.commit(handlers.change_consent(give("campaigns", ("sms",)), ports, None).unit)
    store.commit(handlers.change_consent(give("campaigns", granted=False), ports, None).unit)

    # WHEN the council asks whether it may send a campaign by SMS (the real policies/consent)
    answer = handlers.contact_decision(CITIZEN_ID, "campaigns", "sms", None, ports)

    # THEN no, and why; a service notification needs no consent
    assert not answer.allow and answer.reasons and answer.decided_at == T0
    assert handlers.contact_decision(CITIZEN_ID, "service-notifications", "sms", None, ports).allow
