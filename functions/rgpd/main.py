"""Data-subject rights (RGPD) entry points: thin. Parse, map to a command, run the use case, answer.

- ``rgpd_http``: the channel API (Knative Service ``pic-rgpd``): open a request, follow it, extend its
  deadline, download the export, read the restriction/objection flags.
- ``rgpd_events``: ``es.madrid.pic.rgpd.domain.answered.v1`` from every domain holding personal data
  (Knative Service ``pic-rgpd-events``): record the answer as proof and fold the request's status; the
  answer that completes a request emits ``rgpd.request.completed`` (so the person can be told).

The kernel authorises every route from its declaration (ADR 0009); the use cases are in ``handlers.py`` and
the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.rgpd import RgpdDomainAnswered
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork
from functions.rgpd import handlers, service
from functions.rgpd.bootstrap import ports

# ---- request and response bodies (also the OpenAPI schemas) -------------------------------------


class RgpdRequestPost(BaseModel):
    """``right`` plus that right's own fields (see ``service.DETAILS``): rectification ``fields``,
    restriction ``grounds`` (and ``lift``), objection ``purposes`` (and ``grounds``, ``withdraw``),
    erasure ``grounds``; every right accepts a ``note``. Any other field is an error."""

    model_config = ConfigDict(extra="allow")

    right: Literal["access", "portability", "rectification", "erasure", "restriction", "objection"]


class RgpdRequestAccepted(BaseModel):
    request_id: str
    citizen_id: str
    right: str
    status: str
    opened_at: datetime
    due_at: datetime
    domains: list[str]
    location: str


class ExtensionPost(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=10, max_length=1000, description="why two more months are needed (art. 12.3)")


class FlagsView(BaseModel):
    citizen_id: str
    restricted: bool
    objections: list[str]
    changed_at: datetime | None


# ---- who asks, and which request ------------------------------------------------------------------


def requester(ctx: RequestContext) -> service.Requester:
    """The citizen for themselves, or an agent on their behalf with the purpose they stated (the kernel
    asked ``policies/authz``; anyone else never gets here)."""
    subject = ctx.subject
    if ctx.on_behalf:
        return service.Requester("agent", subject.id, subject.level, ctx.purpose)
    return service.Requester("citizen", subject.id)


def citizen_of_request(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose request ``request_id`` is: the route acts on that citizen's data (the request read is kept for
    the handler, ``ctx.resource``)."""
    request = handlers.request_of(params["request_id"], ports())
    ctx.resource = request
    return request.citizen_id


# ---- requests --------------------------------------------------------------------------------------


def post_request(ctx: RequestContext, body: RgpdRequestPost, citizen_id: str) -> Reply:
    """Open a request: validate the right's fields, set the deadline, fan out, change the flags."""
    cmd = service.OpenRequest(citizen_id, body.right, body.model_extra or {}, requester(ctx))

    def accepted(request: service.RgpdRequest) -> Reply:
        location = f"/v1/rgpd-requests/{request.request_id}"
        view = RgpdRequestAccepted(
            request_id=request.request_id,
            citizen_id=request.citizen_id,
            right=request.right,
            status=request.status,
            opened_at=request.opened_at,
            due_at=request.due_at,
            domains=list(request.domains),
            location=location,
        )
        return Reply(202, view.model_dump(mode="json"), {"Location": location})

    return ctx.run(lambda: handlers.open_request(cmd, ports(), ctx.traceparent), accepted)


def get_request(ctx: RequestContext, request_id: str) -> Reply:
    return Reply(200, handlers.view_request(ctx.resource, ports()))


def request_summary(view: dict[str, Any]) -> dict[str, Any]:
    """The request's state and deadline, not what each domain exported, erased or kept."""
    keys = ("request_id", "citizen_id", "right", "status", "opened_at", "due_at", "overdue", "completed_at")
    return {**{k: view[k] for k in keys}, "view": "summary"}


def list_requests(ctx: RequestContext, citizen_id: str) -> Reply:
    return Reply(200, {"citizen_id": citizen_id, "requests": handlers.requests_of(citizen_id, ports())})


FAN_IN_ATTEMPTS = 8  # up to 2.5 s of jittered backoff in all: longer than the answers' burst on a loaded node


def post_extension(ctx: RequestContext, body: ExtensionPost, request_id: str) -> Reply:
    """Extend the deadline by two further months (art. 12.3): an agent decides it, with the reason that the
    person is told; recorded on the request."""
    cmd = service.ExtendDeadline(request_id, body.reason, ctx.subject.id)
    # the open request's item takes every domain's answer as it arrives (nine domains at once): an extension
    # made meanwhile may lose several races in a row, so it decides again more often than a quiet write
    extend = lambda: handlers.extend_deadline(cmd, ports(), ctx.traceparent)  # noqa: E731
    return ctx.run(extend, lambda view: Reply(200, view), attempts=FAN_IN_ATTEMPTS)


def get_export(ctx: RequestContext, request_id: str) -> Reply:
    """The zip of an access or portability request once every domain has answered: to the data subject
    (``policies/authz`` ``rgpd.export``), never to an agent who opened it on their behalf."""
    made = handlers.assemble_export(ctx.resource, ports())
    headers = {"Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{made.filename}"'}
    return Reply(200, made.body, headers)


def get_flags(ctx: RequestContext, citizen_id: str) -> Reply:
    flags = handlers.flags_of(citizen_id, ports())
    view = FlagsView(
        citizen_id=citizen_id,
        restricted=flags.restricted,
        objections=list(flags.objections),
        changed_at=flags.changed_at,
    )
    return Reply(200, view)


CITIZEN = "/v1/citizens/<citizen_id>"
REQUEST = "/v1/rgpd-requests/<request_id>"
REQUEST_READ = Reads("rgpd-request", ("rgpd-requests",), request_summary)
ROUTES = [
    Route(
        f"{CITIZEN}/rgpd-requests",
        "POST",
        post_request,
        "Exercise a data-subject right (RGPD arts. 15-21); answers the request id",
        request_model=RgpdRequestPost,
        response_model=RgpdRequestAccepted,
        status=202,
        idempotent_writes=True,
        links={"request_id": "/request_id"},
        action="rgpd.request",
        app="my-data",
    ),
    Route(
        f"{CITIZEN}/rgpd-requests",
        "GET",
        list_requests,
        "The citizen's data-subject requests, newest first",
        action="rgpd.read",
        app="my-data",
        reads=Reads("rgpd-requests", ("rgpd-requests",), lambda page: {**page, "view": "summary"}),
    ),
    Route(
        f"{CITIZEN}/rgpd-flags",
        "GET",
        get_flags,
        "Restriction (art. 18) and objection (art. 21) flags",
        response_model=FlagsView,
        action="rgpd.read",
        app="my-data",
        reads=Reads("rgpd-flags", ("rgpd-flags",), lambda flags: {**flags, "view": "summary"}),
    ),
    Route(
        REQUEST,
        "GET",
        get_request,
        "A request's status, deadline and, per domain, what was done and why",
        action="rgpd.read",
        app="my-data",
        citizen=citizen_of_request,
        reads=REQUEST_READ,
    ),
    Route(
        f"{REQUEST}/extension",
        "POST",
        post_extension,
        "Extend the deadline by two further months with a reason (art. 12.3)",
        request_model=ExtensionPost,
        idempotent_writes=True,
        action="rgpd.extend",
        citizen=citizen_of_request,
        reads=REQUEST_READ,
    ),
    Route(
        f"{REQUEST}/export",
        "GET",
        get_export,
        "The access/portability export: a zip of JSON and CSV (to the data subject)",
        action="rgpd.export",
        app="my-data",
        citizen=citizen_of_request,
        reads=Reads("rgpd-export", ("export",)),
    ),
]

http_api = HttpFunction("pic-rgpd", ROUTES)


@functions_framework.http
def rgpd_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_domain_answered(ctx: EventContext, data: Any) -> UnitOfWork:
    """Record a domain's answer with its proof and fold the request's status (``handlers.record_answer``)."""
    assert isinstance(data, RgpdDomainAnswered)
    return handlers.record_answer(data, ctx.source, ctx.id, ports(), ctx.traceparent)


event_api = EventFunction("pic-rgpd-events", {"es.madrid.pic.rgpd.domain.answered.v1": on_domain_answered})


@functions_framework.cloud_event
def rgpd_events(event: CloudEvent) -> None:
    event_api(event)
