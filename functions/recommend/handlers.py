"""Recommendations (REC) use cases: the projection of other domains' events into one profile per citizen (and the
agenda's events by district), the question "which suggestions for this citizen now" (decided by
``policies/recommend``), and the citizen's feedback. Nothing here knows HTTP, CloudEvents or DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.agenda import AgendaEventPublished, ZonesChanged
from events.booking import BookingConfirmed
from events.citizen import CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged
from events.payment import DirectDebitCancelled, DirectDebitSigned, TaxReceiptIssued, TaxReceiptPaid
from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from events.wallet import CardIssued, CardRevoked
from events.zbe import VehicleRegistered
from functions.core.clock import MADRID, Clock
from functions.core.policy import Decision, Policy
from functions.core.store import Staged, UnitOfWork
from functions.recommend import rights, service
from functions.recommend.service import AgendaEvent, Profile, RecommendStore, Suggestion


@dataclass(frozen=True)
class RecommendPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: RecommendStore
    policy: Policy
    clock: Clock


# ---- the projection ---------------------------------------------------------------------------------------


def _project(citizen_id: str, ports: RecommendPorts, change: Callable[[Profile], Profile | None]) -> UnitOfWork:
    """One event's change to a citizen's profile, staged under the version read; nothing if nothing changes."""
    uow = UnitOfWork()
    held = ports.store.fetch_profile(citizen_id)
    changed = change(held)
    if changed is not None and changed != held:
        ports.store.stage_profile(uow, changed)
    return uow


def on_consent_changed(data: ConsentChanged, ports: RecommendPorts) -> UnitOfWork:
    """Every consent change carries the citizen's mode (a: no personalisation; b: proactive), the latest wins.

    The withdrawals an erasure makes (``capture_channel`` ``rgpd-erasure``) change nothing: this domain's own
    answer to the erasure deleted the profile, and without one the person is in mode a already; projecting them
    would keep a profile of an erased person."""
    if data.capture_channel == ERASURE_CAPTURE_CHANNEL:
        return UnitOfWork()
    return _project(data.citizen_id, ports, lambda p: service.with_mode(p, data.mode, data.changed_at))


def on_flags_changed(data: RgpdFlagsChanged, ports: RecommendPorts) -> UnitOfWork:
    return _project(data.citizen_id, ports,
                    lambda p: service.with_flags(p, data.restricted, data.objections, data.changed_at))  # fmt: skip


def on_citizen_updated(data: CitizenUpdated, ports: RecommendPorts) -> UnitOfWork:
    """C360's Padrón facts: birth date, district and barrio (the senior card, residence)."""
    profile = data.profile
    if profile is None:
        return UnitOfWork()
    return _project(data.citizen_id, ports, lambda p: service.with_profile(
        p, profile.birth_date, profile.district, profile.barrio, data.updated_at))  # fmt: skip


def on_receipt_issued(data: TaxReceiptIssued, ports: RecommendPorts) -> UnitOfWork:
    """An IBI receipt of a golden record: its period, object and whether a direct debit already covers it."""
    if data.tax != "IBI" or data.citizen_id is None:
        return UnitOfWork()
    debit = data.direct_debit.status == "active"
    return _project(data.citizen_id, ports, lambda p: service.with_receipt(
        p, data.receipt_id, tax="IBI", period=data.period, object=data.object.reference, debit=debit))  # fmt: skip


def on_receipt_paid(data: TaxReceiptPaid, ports: RecommendPorts) -> UnitOfWork:
    """How a receipt was paid (card, Bizum, bank): only IBI receipts count, so a payment whose receipt REC has not
    seen issued is kept with its method and counts once the receipt arrives (either order)."""
    known = service.ibi_receipt_number(data.receipt_id)
    return _project(data.citizen_id, ports, lambda p: service.with_receipt(
        p, data.receipt_id, method=data.method, paid_at=data.paid_at.isoformat(), **known))  # fmt: skip


def on_debit_signed(data: DirectDebitSigned, ports: RecommendPorts) -> UnitOfWork:
    at = datetime.combine(data.mandate.signed_on, datetime.min.time(), MADRID)
    return _project(data.citizen_id, ports, lambda p: service.with_debit(
        p, data.object.reference, True, list(data.taxes), at))  # fmt: skip


def on_debit_cancelled(data: DirectDebitCancelled, ports: RecommendPorts) -> UnitOfWork:
    at = datetime.combine(data.cancelled_on, datetime.max.time(), MADRID)
    return _project(data.citizen_id, ports, lambda p: service.with_debit(p, data.object.reference, False, [], at))


def on_vehicle_registered(data: VehicleRegistered, ports: RecommendPorts) -> UnitOfWork:
    """A vehicle held by a golden record (an area record without one is not a person REC knows)."""
    if data.citizen_id is None:
        return UnitOfWork()
    return _project(data.citizen_id, ports, lambda p: service.with_vehicle(p, data.plate, data.district, data.as_of))


def on_card_issued(data: CardIssued, ports: RecommendPorts) -> UnitOfWork:
    return _project(data.citizen_id, ports, lambda p: service.with_card(p, data.card_id, data.card_type, True))


def on_card_revoked(data: CardRevoked, ports: RecommendPorts) -> UnitOfWork:
    return _project(data.citizen_id, ports, lambda p: service.with_card(p, data.card_id, data.card_type, False))


def on_booking_confirmed(data: BookingConfirmed, ports: RecommendPorts) -> UnitOfWork:
    return _project(data.citizen_id, ports, lambda p: service.with_booking(p, data.booking_id, data.category))


def on_zones_changed(data: ZonesChanged, ports: RecommendPorts) -> UnitOfWork:
    zones = [z.model_dump(mode="json", include={"kind", "label", "district", "barrio"}) for z in data.zones]
    return _project(data.citizen_id, ports, lambda p: service.with_zones(p, zones, data.changed_at))


def on_agenda_event(data: AgendaEventPublished, ports: RecommendPorts) -> UnitOfWork:
    """The agenda's event, kept under its district (the zones' key); a withdrawn one is kept as withdrawn."""
    uow = UnitOfWork()
    held = ports.store.fetch_event(data.event_id)
    event = AgendaEvent(data.event_id, data.title, data.category, data.district, data.barrio,
                        tuple(sorted(data.next_dates)), data.withdrawn)  # fmt: skip
    if event != held:
        ports.store.stage_event(uow, event, held)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: RecommendPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasure in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )


# ---- the questions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Suggestions for a citizen, or none and why (the policy's reasons, es/en)."""

    allowed: bool
    reasons: list[Any]  # the policy's: each {key, met, es, en}
    suggestions: list[Suggestion]

    def view(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reasons": self.reasons,
            "suggestions": [s.view() for s in self.suggestions],
        }


def decide(
    profile: Profile, ports: RecommendPorts, events: list[AgendaEvent] | None = None
) -> tuple[Decision, list[AgendaEvent]]:
    """The policy's decision over the profile's compact facts, and the agenda events it read for the zones."""
    now = ports.clock.now()
    limit = 50  # events counted for the policy: enough to know "at least one"; the rule shows its own maximum
    if events is None:
        districts = service.zone_districts(profile)
        events = ports.store.fetch_events(districts) if districts and profile.bookings and profile.mode == "b" else []
    matches = len(service.matching_events(profile, events, now, limit))
    today = now.astimezone(MADRID).date()
    return ports.policy.decide(service.POLICY, service.policy_input(profile, today, matches)), events


def suggestions_for(profile: Profile, ports: RecommendPorts, events: list[AgendaEvent] | None = None) -> Answer:
    """What REC suggests to this person now: nothing unless the policy allows (mode b, no objection or restriction),
    otherwise every fired rule's suggestions less those the person marked not useful."""
    decision, events = decide(profile, ports, events)
    if not decision.allow:
        return Answer(False, decision.reasons, [])
    now = ports.clock.now()
    fired = list(decision.result.get("suggest") or [])
    found = service.suggestions(fired, profile, now.astimezone(MADRID).date(), events, now)
    return Answer(True, decision.reasons, found)


def citizen_suggestions(citizen_id: str, ports: RecommendPorts) -> Answer:
    return suggestions_for(ports.store.fetch_profile(citizen_id), ports)


@dataclass(frozen=True)
class GiveFeedback:
    citizen_id: str
    suggestion_id: str
    feedback: str


def give_feedback(cmd: GiveFeedback, ports: RecommendPorts) -> Staged[dict[str, Any]]:
    """Feedback on a suggestion the person is shown now (else 404): recorded in the profile under its version."""
    service.check_suggestion_id(cmd.suggestion_id)
    profile = ports.store.fetch_profile(cmd.citizen_id)
    shown = {s.id: s for s in suggestions_for(profile, ports).suggestions}
    suggestion = shown.get(cmd.suggestion_id)
    if suggestion is None:
        raise service.SuggestionNotFoundError(f"no suggestion {cmd.suggestion_id!r} is shown to this citizen now")
    changed = service.with_feedback(profile, suggestion.id, suggestion.rule, cmd.feedback)
    uow = UnitOfWork()
    if changed != profile:
        ports.store.stage_profile(uow, changed)
    return Staged(uow, {"suggestion_id": suggestion.id, "rule": suggestion.rule, "feedback": cmd.feedback})
