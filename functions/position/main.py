"""Global position (POS) entry points: thin. Parse, map to a question or event, call the use case, answer.

- ``position_http``: ``GET /v1/citizens/{citizen_id}/position`` (Knative Service ``pic-position``): every
  section with its sources and freshness, shaped per viewer by ``policies/position``; agents state an
  ``Access-Purpose``; every read, allowed or refused, goes to the access log (the kernel records it).
- ``position_events``: the projections (Knative Service ``pic-position-events``) from area systems' facts
  (``position.item.upserted``), C360's links (``citizen.updated``), consents (``consent.changed``) and
  interactions (``interaction.logged``). The read path never calls a legacy system. It also answers
  data-subject requests (``rgpd.request.opened``), projects the restriction flag (``rgpd.flags.changed``)
  that the read path passes to the policy, and, once an erasure completed (``rgpd.request.completed``),
  drops the copies made in between (ADR 0012).
The use cases are in ``handlers.py``; the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel

from events.case import CaseUpdated
from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.interaction import InteractionLogged
from events.payment import FinePaid, TaxReceiptPaid
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from events.wallet import CardIssued, CardReinstated, CardRevoked, CardSuspended
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork
from functions.position import handlers, service
from functions.position.bootstrap import ports

NAME = "pic-position"


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


def get_position(ctx: RequestContext, citizen_id: str) -> Reply:
    """The position as ``policies/position`` lets this viewer see it, section by section.

    The kernel has already asked ``policies/authz`` (role, level, purpose) and records what this answer
    shows (``ctx.shown_sections``) in the access log before it leaves; a refusal here is recorded too.
    """
    query = handlers.ReadPosition(citizen_id, ctx.subject.as_policy_input(), ctx.purpose)
    read = handlers.read_position(query, ports())
    ctx.shown_sections = read.shown_sections
    return Reply(200, read.body)


ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/position",
        "GET",
        get_position,
        "The citizen's global position, per section, as policies/position lets the caller see it",
        response_model=PositionView,
        action="position.read",
        app="position",
        reads=Reads("position", service.SECTIONS),
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def position_http(request: Request) -> Response:
    return http_api(request)


# ---- the projections and data-subject rights ---------------------------------------------------------


def on_item_upserted(ctx: EventContext, data: Any) -> UnitOfWork:
    """An area system's fact; the event ``source`` is the system."""
    assert isinstance(data, PositionItemUpserted)
    return handlers.project_fact(ctx.source, data, ports())


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CitizenUpdated)
    return handlers.project_link(data, ports())


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ConsentChanged)
    return handlers.project_consent(data, ports())


def on_interaction_logged(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, InteractionLogged)
    return handlers.project_interaction(data, ports())


def on_debt_paid(ctx: EventContext, data: Any) -> UnitOfWork:
    """A fine or a tax receipt paid through PIC (PAY)."""
    assert isinstance(data, FinePaid | TaxReceiptPaid)
    return handlers.project_paid(data, ports())


def on_case_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """A case opened or changed (CASE): the citizen sees it, its state and its links."""
    assert isinstance(data, CaseUpdated)
    return handlers.project_case(data, ports())


def on_card(ctx: EventContext, data: Any) -> UnitOfWork:
    """A wallet card issued or its status changed (WAL): the citizen sees it in the wallet section."""
    assert isinstance(data, CardIssued | CardRevoked | CardSuspended | CardReinstated)
    return handlers.project_card(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


def on_rgpd_request_completed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestCompleted)
    return handlers.sweep_erasure(data, ports())


def on_rgpd_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdFlagsChanged)
    return handlers.project_flags(data, ports())


event_api = EventFunction(
    "pic-position-events",
    {
        "es.madrid.pic.position.item.upserted.v1": on_item_upserted,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.consent.changed.v1": on_consent_changed,
        "es.madrid.pic.interaction.logged.v1": on_interaction_logged,
        "es.madrid.pic.fine.paid.v1": on_debt_paid,
        "es.madrid.pic.tax.receipt.paid.v1": on_debt_paid,
        "es.madrid.pic.case.updated.v1": on_case_updated,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
        "es.madrid.pic.card.issued.v1": on_card,
        "es.madrid.pic.card.revoked.v1": on_card,
        "es.madrid.pic.card.suspended.v1": on_card,
        "es.madrid.pic.card.reinstated.v1": on_card,
        "es.madrid.pic.rgpd.flags.changed.v1": on_rgpd_flags_changed,
        "es.madrid.pic.rgpd.request.completed.v1": on_rgpd_request_completed,
    },
)


@functions_framework.cloud_event
def position_events(event: CloudEvent) -> None:
    event_api(event)
