"""Surveys' use cases: one function per command, question or event, over the domain's ports.

Commands return ``Staged`` (the unit of work and the result); the entry point commits it with the request's
idempotency record, or the event's dedupe record, and runs the handler again if the commit lost a race (a second
editor, two answers at once: the second is decided again on what the first wrote, so two *new* responses of one
person or link can never both be written). Invitations leave as ``notification.batch.requested`` through this
domain's outbox (contracts §1, §6): NOT checks the consent for purpose ``surveys``, chooses the channel and fills
``unsubscribe_url``; this domain only makes the personal link and says which template.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events.case import CaseUpdated
from events.contact import TicketServed
from events.notification import BatchRecipient, NotificationBatchRequested, NotificationStatusChanged
from events.payment import PaymentSucceeded
from events.rgpd import RgpdRequestOpened
from functions.core import signed_links
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.survey import results as results_
from functions.survey import rights, service
from functions.survey.service import (
    Cause,
    Channel,
    Invitation,
    Language,
    Pending,
    Registry,
    Survey,
    SurveyInput,
    SurveyStore,
)

PRODUCER = "pic-survey"
MAX_TRIGGERED = 20  # open surveys with triggers at once: a cause event's unit stays within one transaction
BATCH = 500  # contracts §1: recipients per batch event
MAX_INVITATIONS = 1000
RELEASE_PAGE = 25


@dataclass(frozen=True)
class SurveyPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: SurveyStore
    policy: Policy
    clock: Clock
    api_url: str  # PIC_API_URL: the invitation links point at the citizen app there


class SurveyExistsError(service.SurveyExistsError):
    pass


# ---- editors --------------------------------------------------------------------------------------------------


def find(survey_id: str, ports: SurveyPorts) -> Survey:
    survey = ports.store.fetch_survey(survey_id)
    if survey is None:
        raise service.SurveyNotFoundError(f"no survey {survey_id[:64]!r}")
    return survey


def listing(ports: SurveyPorts) -> list[dict[str, Any]]:
    now = ports.clock.now()
    found = sorted(ports.store.fetch_all(), key=lambda s: s.created_at, reverse=True)
    return [{"id": s.id, "title": s.definition.title.model_dump(), "state": s.state_at(now), "mode":
             s.definition.mode, "version": s.version, "revision": s.revision} for s in found]  # fmt: skip


def create(survey_id: str, definition: SurveyInput, author: str, ports: SurveyPorts) -> Staged[Survey]:
    """A new survey, a draft; the same id again is refused (409)."""
    if ports.store.fetch_survey(survey_id) is not None:
        raise SurveyExistsError(f"survey {survey_id!r} exists: edit its draft")
    survey = service.new_survey(survey_id, definition, author, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_survey(uow, survey, None)
    return Staged(uow, survey)


def edit(survey_id: str, definition: SurveyInput, revision: int, ports: SurveyPorts) -> Staged[Survey]:
    """The draft's next version (versioned while a draft); refused if it changed since read, or if it is open."""
    survey = find(survey_id, ports)
    changed = service.edited(survey, definition, revision)
    uow = UnitOfWork()
    ports.store.stage_survey(uow, changed, survey.revision)
    return Staged(uow, changed)


def open_survey(survey_id: str, revision: int, ports: SurveyPorts) -> Staged[Survey]:
    """Open for answers; a survey with triggers joins the registry the cause events read."""
    survey = find(survey_id, ports)
    changed = service.opened(survey, revision, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_survey(uow, changed, survey.revision)
    if changed.definition.triggers:
        registry = ports.store.fetch_registry()
        live = _live(registry, ports)
        if len(live) >= MAX_TRIGGERED:
            raise service.SurveyStateError(f"{MAX_TRIGGERED} open surveys have triggers already: close one first")
        ports.store.stage_registry(uow, Registry(live | {survey_id}, registry.revision))
    return Staged(uow, changed)


def close_survey(survey_id: str, revision: int, at: datetime | None, ports: SurveyPorts) -> Staged[Survey]:
    """Close now, or at a later instant; closed now, it leaves the triggers' registry."""
    survey = find(survey_id, ports)
    now = ports.clock.now()
    changed = service.closed(survey, revision, at, now)
    uow = UnitOfWork()
    ports.store.stage_survey(uow, changed, survey.revision)
    registry = ports.store.fetch_registry()
    if survey_id in registry.surveys and not changed.is_open(now):
        ports.store.stage_registry(uow, Registry(registry.surveys - {survey_id}, registry.revision))
    return Staged(uow, changed)


def _live(registry: Registry, ports: SurveyPorts) -> frozenset[str]:
    """The registry's surveys still open now (one scheduled to close has closed by itself meanwhile)."""
    now = ports.clock.now()
    return frozenset(s.id for s in ports.store.fetch_surveys(registry.surveys) if s.is_open(now))


# ---- answering ----------------------------------------------------------------------------------------------


def invitation_of(token: str | None) -> Invitation | None:
    """The verified link's claims (``link-invalid`` 404, ``link-expired`` 410), or None without a token."""
    if not token:
        return None
    return Invitation.of_claims(signed_links.verify("survey", token, service.LINK_MAX_AGE))


def _respondent(survey: Survey, token: str | None, signed_in: str | None) -> service.Respondent:
    return service.respondent_of(survey, invitation_of(token), signed_in)


def read_form(
    survey_id: str, token: str | None, signed_in: str | None, language: Language, ports: SurveyPorts
) -> dict[str, Any]:
    """The survey in the person's language with their current answers (and the revision to edit them)."""
    survey = find(survey_id, ports)
    if survey.state == "draft":
        raise service.SurveyNotFoundError(f"no survey {survey_id!r} is open")
    who = _respondent(survey, token, signed_in)
    existing = ports.store.fetch_response(survey.id, who.response_key)
    answers = existing.answers if existing else {}
    body = service.form(survey, language, answers, ports.clock.now())
    return {**body, "response": {"revision": existing.revision} if existing else None}


@dataclass(frozen=True)
class Respond:
    survey_id: str
    token: str | None
    signed_in: str | None  # the signed-in citizen, if any
    answers: dict[str, Any]
    revision: int | None
    channel: Channel


def respond(cmd: Respond, ports: SurveyPorts, traceparent: str | None) -> Staged[service.Answered]:
    """Record a new response or an edit, with ``survey.answered`` (contracts §5) in the same unit."""
    survey = find(cmd.survey_id, ports)
    who = _respondent(survey, cmd.token, cmd.signed_in)
    existing = ports.store.fetch_response(survey.id, who.response_key)
    now = ports.clock.now()
    done = service.answer(survey, who, existing, cmd.answers, cmd.revision, cmd.channel, now)
    uow = UnitOfWork()
    ports.store.stage_response(uow, done.response)
    if done.respondent_key is not None and who.invited is not None:  # anonymous: who answered, kept apart
        ports.store.stage_respondent(uow, survey.id, done.respondent_key, who.invited)
    subject = who.citizen_id or None
    stage_event(uow, done.event, subject=subject, traceparent=traceparent, now=now, producer=PRODUCER)
    return Staged(uow, done)


# ---- invitations ------------------------------------------------------------------------------------------------


def link(ports: SurveyPorts, survey_id: str, citizen_id: str, district: str | None) -> str:
    """A personal invitation link (contracts §6): a fresh random nonce each."""
    claims = {"s": survey_id, "c": citizen_id, "n": secrets.token_urlsafe(16), "d": district, "cmp": None}
    return service.survey_url(ports.api_url, survey_id, signed_links.sign("survey", claims))


def _batch(
    ports: SurveyPorts, survey: Survey, batch_id: str, people: Iterable[tuple[str, str | None]]
) -> NotificationBatchRequested:
    recipients = [
        BatchRecipient(citizen_id=c, personalisation={"survey_url": link(ports, survey.id, c, d)},
                       tags={"survey": survey.id, **({"district": d} if d else {})})
        for c, d in people
    ]  # fmt: skip
    return NotificationBatchRequested(batch_id=batch_id, template=survey.definition.invitation_template,
                                      recipients=recipients, reference=f"survey:{survey.id}")  # fmt: skip


def _emit(
    uow: UnitOfWork, event: NotificationBatchRequested, subject: str | None, tp: str | None, now: datetime
) -> None:
    stage_event(uow, event, subject=subject, traceparent=tp, now=now, producer=PRODUCER)


@dataclass(frozen=True)
class Invited:
    survey_id: str
    invited: int
    batches: list[str]


def invite(survey_id: str, citizen_ids: list[str], ports: SurveyPorts, traceparent: str | None) -> Staged[Invited]:
    """Invite up to 1,000 citizens at once (an agent, with a purpose): pages of 500 to NOT. The same list again
    stages nothing (its marker); NOT derives each notification's id from the batch id and the citizen."""
    survey = find(survey_id, ports)
    now = ports.clock.now()
    if not survey.is_open(now):
        raise service.SurveyStateError(f"survey {survey_id!r} is {survey.state_at(now)}: invitations need it open")
    people = sorted(set(citizen_ids))
    digest = hashlib.sha256("\n".join(people).encode()).hexdigest()[:24]
    uow = UnitOfWork()
    if ports.store.fetch_invitation(survey.id, f"list-{digest}"):
        return Staged(uow, Invited(survey.id, 0, []))
    ports.store.stage_invitation(uow, survey.id, f"list-{digest}", "", len(people))
    batches = []
    for page, start in enumerate(range(0, len(people), BATCH)):
        batch_id = service.batch_id(survey.id, f"list-{digest}-{page}")
        _emit(uow, _batch(ports, survey, batch_id, ((c, None) for c in people[start : start + BATCH])), None,
              traceparent, now)  # fmt: skip
        batches.append(batch_id)
    return Staged(uow, Invited(survey.id, len(people), batches))


def cause_of_case(data: CaseUpdated) -> Cause | None:
    if data.state != "closed" or data.merged_into:
        return None
    return Cause("case.closed", data.citizen_id, data.area, f"case-{data.case_id}", data.updated_at)


def cause_of_payment(data: PaymentSucceeded) -> Cause:
    return Cause("payment.succeeded", data.citizen_id, None, f"payment-{data.payment_id}", data.finished_at)


def cause_of_visit(data: TicketServed) -> Cause | None:
    if data.citizen_id is None:  # nobody known at the kiosk: nobody to invite
        return None
    key = f"visit-{data.office}-{data.ticket}-{data.issued_at.strftime('%Y%m%d%H%M%S')}"
    return Cause("office.visit", data.citizen_id, data.area, key, data.at)


def on_campaign_invitation(data: NotificationStatusChanged, ports: SurveyPorts) -> UnitOfWork:
    """A campaign's invitation to a survey that NOT accepted for sending (its recipient tagged with the survey; a
    campaign names its run): one more invited, once per notification, so a survey sent to a segment has its
    response rate. This domain's own invitations carry no campaign: they were counted when handed to NOT."""
    uow = UnitOfWork()
    survey_id = (data.tags or {}).get("survey")
    if not data.campaign_id or not survey_id or ports.store.fetch_survey(survey_id) is None:
        return uow
    key = f"not-{data.notification_id}"
    if not ports.store.fetch_invitation(survey_id, key):
        ports.store.stage_invitation(uow, survey_id, key, "", 1)
    return uow


def on_cause(cause: Cause | None, ports: SurveyPorts, traceparent: str | None) -> UnitOfWork:
    """A cause event: each open survey with a trigger that applies invites the citizen — now, or at the delay's
    end (a pending invitation the release pass sends). Once per cause (anonymous) or per citizen (identified),
    whatever redelivers or re-announces the cause."""
    uow = UnitOfWork()
    if cause is None:
        return uow
    registry = ports.store.fetch_registry()
    if not registry.surveys:
        return uow
    now = ports.clock.now()
    for survey in ports.store.fetch_surveys(registry.surveys):
        trigger = next((t for t in survey.definition.triggers if service.applies(t, cause)), None)
        if trigger is None or not survey.is_open(now):
            continue
        key = service.invitation_key(survey, cause.citizen_id, cause.key)
        if ports.store.fetch_invitation(survey.id, key):
            continue
        if trigger.delay_minutes:
            due = cause.at + timedelta(minutes=trigger.delay_minutes)
            ports.store.stage_invitation(uow, survey.id, key, cause.citizen_id, 0)
            ports.store.stage_pending(uow, Pending(survey.id, cause.citizen_id, key, max(due, now)))
            continue
        ports.store.stage_invitation(uow, survey.id, key, cause.citizen_id, 1)
        batch = _batch(ports, survey, service.batch_id(survey.id, key), [(cause.citizen_id, None)])
        _emit(uow, batch, cause.citizen_id, traceparent, now)
    return uow


def release_due(ports: SurveyPorts, traceparent: str | None = None) -> list[UnitOfWork]:
    """The pending invitations whose delay ended: one unit each (its pending item goes, its batch leaves, the
    invited count grows); a survey closed meanwhile drops its pending invitations without sending."""
    now = ports.clock.now()
    units = []
    for pending in ports.store.fetch_due(now, RELEASE_PAGE):
        uow = UnitOfWork()
        ports.store.stage_release(uow, pending)
        survey = ports.store.fetch_survey(pending.survey_id)
        if survey is not None and survey.is_open(now):
            ports.store.stage_invitation(uow, survey.id, None, pending.citizen_id, 1)
            batch = _batch(ports, survey, service.batch_id(survey.id, pending.key), [(pending.citizen_id, None)])
            _emit(uow, batch, pending.citizen_id, traceparent, now)
        units.append(uow)
    return units


# ---- results ---------------------------------------------------------------------------------------------------


def results(survey_id: str, language: Language, ports: SurveyPorts) -> dict[str, Any]:
    survey = find(survey_id, ports)
    responses = ports.store.fetch_responses(survey.id)
    return results_.compute(survey, responses, ports.store.fetch_invited(survey.id), language)


# ---- data-subject rights -------------------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: SurveyPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    found = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return found.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, item: rights.stage_erasure(u, item, ports.store))
    )
