"""Consent & preferences use cases: one function per command, event or question, over the domain's ports.

A command handler reads what it needs through the ``ConsentStore`` port, decides with the pure rules of
``service``, and stages the state, its proof and its event in one unit of work, which it returns
(``Staged``): the entry point commits it with the request's idempotency record and runs the handler again if
the commit lost a race (``functions.core.retry``). Nothing here knows HTTP, CloudEvents or DynamoDB; the unit
tests run these handlers against in-memory fakes of the ports (``tests/unit/consent/test_handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from events.consent import Actor, Preferences
from functions.consent import service
from functions.consent.service import ConsentState, ConsentStore, RgpdFlags, Subscription
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms

if TYPE_CHECKING:  # the RGPD models load with the first RGPD event, off the HTTP function's cold start
    from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened


@dataclass(frozen=True)
class ConsentPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: ConsentStore
    policy: Policy
    terms: Terms
    clock: Clock


# ---- commands ---------------------------------------------------------------------------------------


def change_consent(cmd: service.ChangeConsent, ports: ConsentPorts, traceparent: str | None) -> Staged[ConsentState]:
    """Give or withdraw consent for a purpose (API or a back-office's event): proof, state and
    ``consent.changed`` in one unit; the same decision again stages nothing."""
    at = ports.clock.now()
    outcome = service.change_consent(cmd, ports.store.fetch_state(cmd.citizen_id), ports.terms, at)
    uow = UnitOfWork()
    if outcome.proof and outcome.event:
        ports.store.stage_consent_change(uow, outcome.state, outcome.proof, at)
        stage_event(uow, outcome.event, subject=cmd.citizen_id, traceparent=traceparent, now=at)
    return Staged(uow, outcome.state)


def change_preferences(
    citizen_id: str, preferences: Preferences, actor: Actor, ports: ConsentPorts, traceparent: str | None
) -> Staged[Preferences]:
    """Replace the citizen's language, channels and quiet hours; an unchanged value stages nothing."""
    before, version = ports.store.fetch_preferences(citizen_id)
    at = ports.clock.now()
    event = service.change_preferences(citizen_id, before, preferences, actor, ports.terms, at)
    uow = UnitOfWork()
    if event:
        ports.store.stage_preferences(uow, citizen_id, preferences, version, at)
        stage_event(uow, event, subject=citizen_id, traceparent=traceparent, now=at)
    return Staged(uow, preferences)


@dataclass(frozen=True)
class Subscribed:
    subscription: Subscription
    created: bool  # False: the citizen was already subscribed to this topic and zone


def subscribe(
    citizen_id: str, topic: str, zone: str, actor: Actor, ports: ConsentPorts, traceparent: str | None
) -> Staged[Subscribed]:
    """Subscribe to alerts of a topic in a zone; subscribing again answers the existing subscription."""
    sub, event = service.new_subscription(citizen_id, topic, zone, actor, ports.terms, ports.clock.now())
    uow = UnitOfWork()
    existing = ports.store.fetch_subscription(citizen_id, sub.id)
    if existing:
        return Staged(uow, Subscribed(existing, created=False))
    ports.store.stage_subscription(uow, sub)
    stage_event(uow, event, subject=citizen_id, traceparent=traceparent)
    return Staged(uow, Subscribed(sub, created=True))


def unsubscribe(
    citizen_id: str, subscription_id: str, actor: Actor, ports: ConsentPorts, traceparent: str | None
) -> Staged[None]:
    """Remove a subscription; one that does not exist (or was just removed) is ``SubscriptionNotFoundError``."""
    sub = ports.store.fetch_subscription(citizen_id, subscription_id)
    if sub is None:
        raise service.SubscriptionNotFoundError(f"{citizen_id} has no subscription {subscription_id!r}")
    uow = UnitOfWork()
    ports.store.stage_unsubscribe(uow, sub)
    stage_event(
        uow, service.removed_subscription(sub, actor, ports.clock.now()), subject=citizen_id, traceparent=traceparent
    )
    return Staged(uow, None)


# ---- questions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactAnswer:
    """``policies/consent`` for one citizen, purpose and channel, now."""

    state: ConsentState
    allow: bool
    defer: bool
    defer_until: datetime | None
    legal_basis: str
    reasons: list[str]
    decided_at: datetime


def contact_decision(
    citizen_id: str, purpose: str, channel: str, message: dict[str, str] | None, ports: ConsentPorts
) -> ContactAnswer:
    """May the council contact this citizen for ``purpose`` on ``channel`` now: what notifications honour."""
    state = ports.store.fetch_state(citizen_id)
    preferences, _ = ports.store.fetch_preferences(citizen_id)
    flags = ports.store.fetch_flags(citizen_id)
    at = ports.clock.now()
    question = service.contact_question(state, preferences, purpose, channel, at, message, flags=flags)
    decision = ports.policy.decide("consent", question)
    defer = bool(decision.result.get("defer"))
    return ContactAnswer(
        state=state,
        allow=decision.allow,
        defer=defer,
        defer_until=service.quiet_hours_end(preferences, at) if defer else None,
        legal_basis=str(decision.result.get("legal_basis", "")),
        reasons=decision.reasons,
        decided_at=at,
    )


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: ConsentPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request: export, erasure (proofs kept by law), flags."""
    from functions.consent import rights

    at = ports.clock.now()
    result = rights.answer(data, ports.store, ports.policy, ports.terms, at)
    return result.unit(
        traceparent,
        lambda uow, plan: rights.stage_erasure(uow, data.citizen_id, plan, ports.store, traceparent, at),
    )


def project_flags(data: RgpdFlagsChanged, ports: ConsentPorts) -> UnitOfWork:
    """Keep the restriction/objection flags that ``policies/consent`` honours (the latest change wins)."""
    from functions.consent import rights

    return rights.project_flags(data, ports.store)


def flags_of(citizen_id: str, ports: ConsentPorts) -> RgpdFlags:
    return ports.store.fetch_flags(citizen_id)


def views_of(state: ConsentState, ports: ConsentPorts) -> list[dict[str, Any]]:
    """The consent entries of ``state`` as the API shows them (purpose, channel, basis, text version)."""
    return service.consent_entries(state, ports.terms)
