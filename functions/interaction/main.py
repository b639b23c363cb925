"""Interaction log (INTX) entry points: thin. Parse, authorise, call the service, commit, answer.

- ``interaction_http``: ``POST /v1/interactions`` (agents' desktops and channels record an interaction)
  and ``GET /v1/interactions/{id}``; Knative Service ``pic-interaction``.
- ``interaction_events``: ``es.madrid.pic.interaction.recorded.v1`` from the queue manager and other
  back-offices, and data-subject requests (``rgpd.request.opened``, answered by ``rights.answer``);
  Knative Service ``pic-interaction-events``.
Both store the interaction once and announce ``es.madrid.pic.interaction.logged.v1`` through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.interaction import InteractionRecorded
from events.rgpd import RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ConflictError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_body
from functions.core.outbox import stage_event
from functions.core.policy import Policy, get_policy
from functions.core.store import UnitOfWork
from functions.interaction import rights, service
from functions.interaction.storage import DynamoInteractionStore

NAME = "pic-interaction"


@dataclass(frozen=True)
class Deps:
    store: DynamoInteractionStore
    policy: Policy


@lru_cache(maxsize=1)
def deps() -> Deps:
    """The real adapters, built once per process."""
    return Deps(store=DynamoInteractionStore(), policy=get_policy())


def now() -> datetime:
    return datetime.now(UTC)


def _record(
    interaction: InteractionRecorded, recorder: str, traceparent: str | None
) -> tuple[UnitOfWork, service.Stored, bool]:
    """The unit of work that stores and announces one interaction (empty for a replay); ``True`` if new."""
    store = deps().store
    key = service.interaction_key(recorder, interaction.interaction_id)
    stored, event = service.prepare(interaction, recorder, store.fetch(key), now())
    uow = UnitOfWork()
    if event is not None:
        store.stage(uow, stored)
        stage_event(
            uow, event, subject=service.subject_of(interaction), traceparent=traceparent, now=stored.recorded_at
        )
    return uow, stored, event is not None


def citizen_of_body(ctx: RequestContext, params: dict[str, str]) -> str:
    """The person the interaction to record concerns (its ``citizen_id``, or its source record)."""
    body = parse_body(ctx.request, InteractionRecorded)
    assert isinstance(body, InteractionRecorded)
    return service.subject_of(body)


def post_interaction(ctx: RequestContext, body: InteractionRecorded) -> Reply:
    """Record an interaction; sending it again answers the first record (200), other content a 422."""
    recorder = f"{ctx.subject.role}:{ctx.subject.id}"
    uow, stored, new = _record(body, recorder, ctx.traceparent)
    location = {"Location": f"/v1/interactions/{stored.id}"}
    if not new:
        return Reply(200, service.view(stored), location)
    try:
        return ctx.commit(uow, Reply(201, service.view(stored), location))
    except ConflictError:  # the same interaction recorded concurrently: answer what won
        uow, stored, _ = _record(body, recorder, ctx.traceparent)
        return Reply(200, service.view(stored), location)


def citizen_of_interaction(ctx: RequestContext, params: dict[str, str]) -> str:
    stored = deps().store.fetch(params["interaction_id"])
    if stored is None:
        raise service.InteractionNotFoundError(f"no interaction {params['interaction_id']!r}")
    ctx.resource = stored
    return service.subject_of(stored.interaction)


def get_interaction(ctx: RequestContext, interaction_id: str) -> Reply:
    """One stored interaction, to whom ``policies/authz`` allows; agents state a purpose; the read is logged."""
    stored: service.Stored = ctx.resource
    return Reply(200, service.view(stored))


def interaction_summary(view: dict[str, Any]) -> dict[str, Any]:
    """When, where and how: not what was talked about."""
    keys = ("id", "area", "outcome", "started_at", "ended_at")
    return {**{k: view.get(k) for k in keys}, "channel": view["channel"]["kind"], "view": "summary"}


ROUTES = [
    Route(
        "/v1/interactions",
        "POST",
        post_interaction,
        "Record an interaction (office visit, call, chat, WhatsApp, e-mail, app)",
        request_model=InteractionRecorded,
        status=201,
        idempotent_writes=True,
        links={"interaction_id": "/id"},
        action="interaction.record",
        citizen=citizen_of_body,
    ),
    Route(
        "/v1/interactions/<interaction_id>",
        "GET",
        get_interaction,
        "One recorded interaction",
        action="interaction.read",
        citizen=citizen_of_interaction,
        reads=Reads("interaction", ("interactions",), interaction_summary),
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def interaction_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_recorded(ctx: EventContext, data: Any) -> UnitOfWork:
    """A back-office's interaction (the event ``source`` is the recorder): stored once, announced once."""
    assert isinstance(data, InteractionRecorded)
    uow, _, _ = _record(data, ctx.source, ctx.traceparent)
    return uow


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the interaction log (``rights.answer``), erasures in the same unit."""
    assert isinstance(data, RgpdRequestOpened)
    store = deps().store
    result = rights.answer(data, store, deps().policy, now())
    return result.unit(ctx.traceparent, lambda uow, plan: plan.stage(uow, store.stage_erase))


event_api = EventFunction(
    "pic-interaction-events",
    {
        "es.madrid.pic.interaction.recorded.v1": on_recorded,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def interaction_events(event: CloudEvent) -> None:
    event_api(event)
