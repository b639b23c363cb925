"""Interaction log (INTX) entry points: thin. Parse, map to a command, call the use case, answer.

- ``interaction_http``: ``POST /v1/interactions`` (agents' desktops and channels record an interaction),
  ``GET /v1/interactions/{id}`` and ``GET /v1/citizens/{citizen_id}/interactions`` (the citizen's timeline,
  newest first, a page at a time); Knative Service ``pic-interaction``.
- ``interaction_events``: ``es.madrid.pic.interaction.recorded.v1`` from the queue manager and other
  back-offices, C360's links (``citizen.updated``: an interaction recorded against an area system's record is
  attached to the golden record it is linked to) and data-subject requests (``rgpd.request.opened``); Knative
  Service ``pic-interaction-events``.
Both paths run the same use case, ``handlers.record_interaction``: the interaction stored once and
``es.madrid.pic.interaction.logged.v1`` announced through the outbox. The use cases are in ``handlers.py``;
the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.citizen import CitizenUpdated
from events.interaction import InteractionRecorded
from events.rgpd import RgpdRequestOpened
from functions.core import paging
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_body
from functions.core.store import UnitOfWork
from functions.interaction import handlers, service
from functions.interaction.bootstrap import ports

NAME = "pic-interaction"


def citizen_of_body(ctx: RequestContext, params: dict[str, str]) -> str:
    """The person the interaction to record concerns (its ``citizen_id``, or its source record)."""
    body = parse_body(ctx.request, InteractionRecorded)
    assert isinstance(body, InteractionRecorded)
    return service.subject_of(body)


def post_interaction(ctx: RequestContext, body: InteractionRecorded) -> Reply:
    """Record an interaction; sending it again answers the first record (200), other content a 422."""
    cmd = handlers.RecordInteraction(body, recorder=f"{ctx.subject.role}:{ctx.subject.id}")

    def reply(done: handlers.Recorded) -> Reply:
        location = {"Location": f"/v1/interactions/{done.stored.id}"}
        return Reply(201 if done.created else 200, service.view(done.stored), location)

    return ctx.run(lambda: handlers.record_interaction(cmd, ports(), ctx.traceparent), reply)


def citizen_of_interaction(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whom the interaction is about (the kernel decides on it): the golden record it is attached to, else
    the record it names; the handler reuses what was read."""
    stored = handlers.find_interaction(params["interaction_id"], ports())
    ctx.resource = stored
    return stored.citizen_id or service.subject_of(stored.interaction)


def get_interaction(ctx: RequestContext, interaction_id: str) -> Reply:
    """One stored interaction, to whom ``policies/authz`` allows; agents state a purpose; the read is logged."""
    stored: service.Stored = ctx.resource
    return Reply(200, service.view(stored))


def interaction_summary(view: dict[str, Any]) -> dict[str, Any]:
    """When, where and how: not what was talked about."""
    keys = ("id", "area", "outcome", "started_at", "ended_at")
    return {**{k: view.get(k) for k in keys}, "channel": view["channel"]["kind"], "view": "summary"}


def get_timeline(ctx: RequestContext, citizen_id: str) -> Reply:
    """The citizen's recorded interactions, newest first (``?limit=1..100&cursor=``): when, where and how."""
    query = paging.ReadTimeline.from_args(citizen_id, ctx.request.args)
    page = handlers.citizen_timeline(query, ports())
    return Reply(200, page.body())


def timeline_summary(page: dict[str, Any]) -> dict[str, Any]:
    """A timeline's items already say only when, where and how (``interaction_summary``'s fields)."""
    return {**page, "view": "summary"}


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
    Route(
        "/v1/citizens/<citizen_id>/interactions",
        "GET",
        get_timeline,
        "The citizen's recorded interactions, newest first (?limit=1..100&cursor=): when, where and how",
        action="interaction.read",
        reads=Reads("interactions", ("interactions",), timeline_summary),
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
    cmd = handlers.RecordInteraction(data, recorder=ctx.source)
    return handlers.record_interaction(cmd, ports(), ctx.traceparent).unit


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360 linked (or moved) a source record: its interactions are attached to the golden record."""
    assert isinstance(data, CitizenUpdated)
    return handlers.project_link(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the interaction log, erasures in the same unit."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-interaction-events",
    {
        "es.madrid.pic.interaction.recorded.v1": on_recorded,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def interaction_events(event: CloudEvent) -> None:
    event_api(event)
