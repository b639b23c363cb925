"""Global position (POS) entry points: thin. Read the projections, ask the policy, record the read, answer.

- ``position_http``: ``GET /v1/citizens/{citizen_id}/position`` (Knative Service ``pic-position``): every
  section with its sources and freshness, shaped per viewer by ``policies/position``; agents state an
  ``Access-Purpose``; every read, allowed or refused, goes to the access log (``functions.core.audit``).
- ``position_events``: the projections (Knative Service ``pic-position-events``) from area systems' facts
  (``position.item.upserted``), C360's links (``citizen.updated``), consents (``consent.changed``) and
  interactions (``interaction.logged``). The read path never calls a legacy system. It also answers
  data-subject requests (``rgpd.request.opened``, ``rights.answer``) and projects the restriction flag
  (``rgpd.flags.changed``) that the read path passes to the policy. After a person's erasure, the
  projections of facts about them (links, consents, interactions) honour its marker (ADR 0012).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel

from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.interaction import InteractionLogged
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ForbiddenError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.policy import Policy, get_policy
from functions.core.store import UnitOfWork
from functions.position import rights, service
from functions.position.storage import DynamoPositionStore, citizen_pk

NAME = "pic-position"
POLICY = "position"


@dataclass(frozen=True)
class Deps:
    store: DynamoPositionStore
    policy: Policy


@lru_cache(maxsize=1)
def deps() -> Deps:
    """The real adapters, built once per process."""
    return Deps(store=DynamoPositionStore(), policy=get_policy())


# ---- the read path ---------------------------------------------------------------------------------


class SourceFreshness(BaseModel):
    source: str
    as_of: datetime


class SectionSummary(BaseModel):
    count: int
    amount_eur: str
    next_date: str | None


class SectionOut(BaseModel):
    section: str
    view: str
    as_of: datetime | None
    sources: list[SourceFreshness]
    summary: SectionSummary
    items: list[dict[str, Any]]
    reasons: list[str]


class PositionView(BaseModel):
    citizen_id: str
    viewer: dict[str, Any]
    purpose: str | None
    reasons: list[str]
    sections: list[SectionOut]
    generated_at: datetime


def policy_input(
    ctx: RequestContext, citizen_id: str, purpose: str | None, parts: list[service.Part], restricted: bool = False
) -> dict[str, Any]:
    """What ``policies/position`` decides on; ``restricted``: the RGPD art. 18 flag as last projected."""
    return {
        "subject": ctx.subject.as_policy_input(),
        "purpose": purpose,
        "resource": {
            "citizen_id": citizen_id,
            "parts": [{"section": p.section, "area": p.area, "special_category": p.special_category} for p in parts],
            "restricted": restricted,
        },
    }


def get_position(ctx: RequestContext, citizen_id: str) -> Reply:
    """The position as ``policies/position`` lets this viewer see it, section by section.

    The kernel has already asked ``policies/authz`` (role, level, purpose) and records what this answer
    shows (``ctx.shown_sections``) in the access log before it leaves; a refusal here is recorded too.
    """
    items, flags = deps().store.fetch_view(citizen_id)
    parts = service.parts_of(items)
    decision = deps().policy.decide(POLICY, policy_input(ctx, citizen_id, ctx.purpose, parts, flags.restricted))
    if not decision.allow:
        raise ForbiddenError("; ".join(decision.reasons) or "the policy does not allow this", reasons=decision.reasons)
    decided = {
        service.Part(p["section"], p["area"], bool(p["special_category"])): (str(p["view"]), str(p["reason"]))
        for p in decision.result.get("parts", [])
    }
    at = datetime.now(UTC)
    sections = service.build_view(items, decided, at.date())
    ctx.shown_sections = service.shown_sections(sections)
    body = {
        "citizen_id": citizen_id,
        "viewer": ctx.subject.as_policy_input(),
        "purpose": ctx.purpose,
        "reasons": decision.reasons,
        "sections": sections,
        "generated_at": at.isoformat(),
    }
    return Reply(200, body)


ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/position",
        "GET",
        get_position,
        "The citizen's global position, per section, as policies/position lets the caller see it",
        response_model=PositionView,
        action="position.read",
        reads=Reads("position", service.SECTIONS),
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def position_http(request: Request) -> Response:
    return http_api(request)


# ---- the projections -------------------------------------------------------------------------------


def _stage_fact(pk: str, item: service.Item) -> UnitOfWork:
    """The fact, if it is newer than what the partition holds (else an empty unit: a stale or repeated fact)."""
    store = deps().store
    uow = UnitOfWork()
    if service.newer(item.order, store.fetch_fact_order(pk, item)):
        store.stage_fact(uow, pk, item)
    return uow


def _fold_into_record(source: str, local_id: str, item: service.Item) -> UnitOfWork:
    """The record's facts with this one folded in (an empty unit if it changes nothing: stale or repeated).

    Two facts about one record folded at once: the second's version condition fails, it answers 409 and its
    redelivery folds it into what the first wrote.
    """
    store = deps().store
    facts, version = store.fetch_bundle(source, local_id)
    uow = UnitOfWork()
    if service.fold(facts, item):
        store.stage_bundle(uow, source, local_id, facts, version)
    return uow


def on_item_upserted(ctx: EventContext, data: Any) -> UnitOfWork:
    """An area system's fact, kept with the system's record of the person (``source`` + ``local_id``)."""
    assert isinstance(data, PositionItemUpserted)
    return _fold_into_record(ctx.source, data.local_id, service.area_item(ctx.source, data))


def _erased_before(citizen_id: str, at: datetime, domain: str) -> bool:
    """Whether the person's erasure covers a fact of ``domain`` as of ``at``: its event must not re-create it."""
    return service.erased_before(deps().store.fetch_marker(citizen_id), at, domain)


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360 (re)linked a source record: the latest ``updated_at`` wins; the membership moves with it. A link
    from before the person's erasure is not made again."""
    assert isinstance(data, CitizenUpdated)
    link = service.Link(data.link.source, data.link.local_id, data.citizen_id, data.updated_at)
    store = deps().store
    uow = UnitOfWork()
    if _erased_before(data.citizen_id, data.updated_at, service.LINK_DOMAIN):
        return uow
    previous = store.fetch_link(link.source, link.local_id)
    if service.newer(link.order, previous.order if previous else None):
        store.stage_link(uow, link, previous)
    return uow


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    """A consent as of the change; after an erasure, older changes are dropped, and the erasure's own
    withdrawals only delete what an older change showed (they never create an item)."""
    assert isinstance(data, ConsentChanged)
    if _erased_before(data.citizen_id, data.changed_at, "consent"):
        return UnitOfWork()
    pk, item = citizen_pk(data.citizen_id), service.consent_item(data)
    if not service.erasure_withdrawal(data):
        return _stage_fact(pk, item)
    store = deps().store
    uow = UnitOfWork()
    held = store.fetch_fact_order(pk, item)
    if held is not None and service.newer(item.order, held):
        store.stage_fact_deleted(uow, pk, item)
    return uow


def on_interaction_logged(ctx: EventContext, data: Any) -> UnitOfWork:
    """An interaction, under the golden record it names (unless the person's erasure covers it) or the
    source record it names."""
    assert isinstance(data, InteractionLogged)
    about = data.interaction
    item = service.interaction_item(data)
    if about.citizen_id:
        if _erased_before(about.citizen_id, data.recorded_at, "interaction"):
            return UnitOfWork()
        return _stage_fact(citizen_pk(about.citizen_id), item)
    assert about.record is not None  # the model requires one of the two
    return _fold_into_record(about.record.source, about.record.local_id, item)


# ---- data-subject rights (RGPD): the position's answer and its projection of the restriction flag ------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for this domain (``rights.answer``), with its erasures in one unit."""
    assert isinstance(data, RgpdRequestOpened)
    store = deps().store
    result = rights.answer(data, store, deps().policy, datetime.now(UTC))
    return result.unit(ctx.traceparent, lambda uow, plan: rights.stage_erasure(uow, data.citizen_id, plan, store))


def on_rgpd_request_completed(ctx: EventContext, data: Any) -> UnitOfWork:
    """A completed erasure says when each domain erased: drop the copies made in between (``rights.sweep``)."""
    assert isinstance(data, RgpdRequestCompleted)
    return rights.sweep(data, deps().store)


def on_rgpd_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    """Project the restriction flag that the read path passes to ``policies/position``."""
    assert isinstance(data, RgpdFlagsChanged)
    return rights.project_flags(data, deps().store)


event_api = EventFunction(
    "pic-position-events",
    {
        "es.madrid.pic.position.item.upserted.v1": on_item_upserted,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.consent.changed.v1": on_consent_changed,
        "es.madrid.pic.interaction.logged.v1": on_interaction_logged,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
        "es.madrid.pic.rgpd.flags.changed.v1": on_rgpd_flags_changed,
        "es.madrid.pic.rgpd.request.completed.v1": on_rgpd_request_completed,
    },
)


@functions_framework.cloud_event
def position_events(event: CloudEvent) -> None:
    event_api(event)
