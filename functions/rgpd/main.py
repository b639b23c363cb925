"""Data-subject rights (RGPD) entry points: thin. Parse, authorise, call the service, commit, answer.

- ``rgpd_http``: the channel API (Knative Service ``pic-rgpd``): open a request, follow it, extend its
  deadline, download the export, read the restriction/objection flags.
- ``rgpd_events``: ``es.madrid.pic.rgpd.domain.answered.v1`` from every domain holding personal data
  (Knative Service ``pic-rgpd-events``): record the answer as proof and fold the request's status; the
  answer that completes a request emits ``rgpd.request.completed`` (so the person can be told).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.rgpd import RgpdDomainAnswered
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ConflictError, InvalidEventError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.outbox import stage_event
from functions.core.policy import Policy, get_policy
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.core.terms import load_terms
from functions.rgpd import export, service
from functions.rgpd.storage import DynamoRgpdStore

CONFLICT_RETRIES = 4


@dataclass(frozen=True)
class Deps:
    store: DynamoRgpdStore
    policy: Policy
    terms: service.PurposeTerms


def load_purpose_terms() -> service.PurposeTerms:
    """The purposes the published terms declare (``functions.core.terms``): objections name them."""
    purposes = load_terms().purposes
    return service.PurposeTerms(
        purposes=frozenset(purposes),
        legal_obligations=frozenset(p for p, v in purposes.items() if v.legal_obligation),
    )


@lru_cache(maxsize=1)
def deps() -> Deps:
    """The real adapters, built once per process."""
    return Deps(store=DynamoRgpdStore(), policy=get_policy(), terms=load_purpose_terms())


def now() -> datetime:
    return datetime.now(UTC)


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
    """Whose request ``request_id`` is: the route acts on that citizen's data."""
    request = deps().store.fetch_request(params["request_id"])
    if request is None:
        raise service.RgpdRequestNotFoundError(f"no data-subject request {params['request_id']}")
    ctx.resource = request
    return request.citizen_id


# ---- requests --------------------------------------------------------------------------------------


def post_request(ctx: RequestContext, body: RgpdRequestPost, citizen_id: str) -> Reply:
    """Open a request: validate the right's fields, set the deadline, fan out, change the flags."""
    details = service.validate_details(body.right, body.model_extra or {}, deps().terms)
    for attempt in range(CONFLICT_RETRIES):
        at = now()
        request, event = service.open_request(citizen_id, body.right, details, requester(ctx), at)
        uow = UnitOfWork()
        deps().store.stage_request(uow, request)
        stage_event(uow, event, subject=citizen_id, traceparent=ctx.traceparent, now=at)
        flags = service.flags_after(deps().store.fetch_flags(citizen_id), body.right, details, at)
        if flags is not None:
            deps().store.stage_flags(uow, flags)
            stage_event(uow, service.flags_event(flags), subject=citizen_id, traceparent=ctx.traceparent, now=at)
        location = f"/v1/rgpd-requests/{request.request_id}"
        accepted = RgpdRequestAccepted(
            request_id=request.request_id,
            citizen_id=citizen_id,
            right=request.right,
            status=request.status,
            opened_at=request.opened_at,
            due_at=request.due_at,
            domains=list(request.domains),
            location=location,
        ).model_dump(mode="json")
        try:
            return ctx.commit(uow, Reply(202, accepted, {"Location": location}))
        except ConflictError:  # the flags changed meanwhile (another restriction or objection)
            if attempt == CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")


def get_request(ctx: RequestContext, request_id: str) -> Reply:
    request: service.RgpdRequest = ctx.resource
    answers = deps().store.fetch_answers(request_id)
    return Reply(200, service.request_view(request, answers, now()))


def request_summary(view: dict[str, Any]) -> dict[str, Any]:
    """The request's state and deadline, not what each domain exported, erased or kept."""
    keys = ("request_id", "citizen_id", "right", "status", "opened_at", "due_at", "overdue", "completed_at")
    return {**{k: view[k] for k in keys}, "view": "summary"}


def list_requests(ctx: RequestContext, citizen_id: str) -> Reply:
    at = now()
    requests = deps().store.fetch_requests_of(citizen_id)
    return Reply(200, {"citizen_id": citizen_id, "requests": [service.summary_view(r, at) for r in requests]})


def post_extension(ctx: RequestContext, body: ExtensionPost, request_id: str) -> Reply:
    """Extend the deadline by two further months (art. 12.3): an agent decides it, with the reason that the
    person is told; recorded on the request."""
    request: service.RgpdRequest = ctx.resource
    at = now()
    extended = service.extend(request, body.reason, ctx.subject.id, at)
    uow = UnitOfWork()
    deps().store.stage_request(uow, extended)
    event = service.extended_event(extended)
    stage_event(uow, event, subject=request.citizen_id, traceparent=ctx.traceparent, now=at)
    reply = Reply(200, service.request_view(extended, deps().store.fetch_answers(request_id), now()))
    return ctx.commit(uow, reply)


def get_export(ctx: RequestContext, request_id: str) -> Reply:
    """The zip of an access or portability request once every domain has answered: to the data subject
    (``policies/authz`` ``rgpd.export``), never to an agent who opened it on their behalf."""
    request: service.RgpdRequest = ctx.resource
    if request.right not in service.EXPORT_RIGHTS:
        raise service.ExportNotReadyError(f"request {request_id} is a {request.right} request: it has no export")
    answers = deps().store.fetch_answers(request_id)
    at = now()
    state = service.fold(request, answers, at)
    if state.status != "completed":
        raise service.ExportNotReadyError(
            f"request {request_id} is {state.status}; pending: {', '.join(state.pending) or 'none'}, "
            f"failed: {', '.join(state.failed) or 'none'}"
        )
    exports: dict[str, dict[str, Any]] = {}
    for answer in answers:
        if answer.export_chunks:
            data = export.join_chunks(deps().store.fetch_export(request_id, answer.domain), answer.export_sha256)
            exports[answer.domain] = data if isinstance(data, dict) else {"data": data}
    exports["rgpd"] = _own_data(request.citizen_id, at)
    document = {
        "request_id": request.request_id,
        "citizen_id": request.citizen_id,
        "right": request.right,
        "opened_at": request.opened_at,
        "completed_at": state.completed_at,
        "generated_at": at,
        "format": "RGPD art. 15.3 and art. 20.1: JSON of everything held, and one CSV per domain and table",
        "domains": {
            **{
                a.domain: {"answered_at": a.answered_at, "actions": a.actions, "data": exports.get(a.domain)}
                for a in sorted(answers, key=lambda a: a.domain)
            },
            "rgpd": {"answered_at": at, "actions": [], "data": exports["rgpd"]},
        },
    }
    body = export.build_zip(document, exports, at)
    filename = f"pic-rgpd-{request.right}-{request.request_id}.zip"
    return Reply(
        200, body, {"Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _own_data(citizen_id: str, at: datetime) -> dict[str, Any]:
    """What this domain holds about the person: their requests (kept as evidence, RGPD art. 5.2) and flags."""
    flags = deps().store.fetch_flags(citizen_id)
    held = {
        "requests": [service.summary_view(r, at) for r in deps().store.fetch_requests_of(citizen_id)],
        "flags": {"restricted": flags.restricted, "objections": list(flags.objections), "changed_at": flags.changed_at},
    }
    return dict(json.loads(json.dumps(held, default=str)))


def get_flags(ctx: RequestContext, citizen_id: str) -> Reply:
    flags = deps().store.fetch_flags(citizen_id)
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
    ),
    Route(
        f"{CITIZEN}/rgpd-requests",
        "GET",
        list_requests,
        "The citizen's data-subject requests, newest first",
        action="rgpd.read",
        reads=Reads("rgpd-requests", ("rgpd-requests",), lambda page: {**page, "view": "summary"}),
    ),
    Route(
        f"{CITIZEN}/rgpd-flags",
        "GET",
        get_flags,
        "Restriction (art. 18) and objection (art. 21) flags",
        response_model=FlagsView,
        action="rgpd.read",
        reads=Reads("rgpd-flags", ("rgpd-flags",), lambda flags: {**flags, "view": "summary"}),
    ),
    Route(
        REQUEST,
        "GET",
        get_request,
        "A request's status, deadline and, per domain, what was done and why",
        action="rgpd.read",
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
    """Record a domain's answer with its proof (event source and id, when) and fold the request's status.

    An answer to no known request, from a domain that need not answer, or from a source that is not the
    domain is refused (dead-lettered with the reason); a second answer after a final one changes nothing.
    """
    assert isinstance(data, RgpdDomainAnswered)
    store = deps().store
    request = store.fetch_request(data.request_id)
    if request is None:
        raise InvalidEventError(f"no data-subject request {data.request_id}")
    answers = {a.domain: a for a in store.fetch_answers(data.request_id)}
    uow = UnitOfWork()
    if not service.accept_answer(request, answers, data, ctx.source, get_settings().event_source_base):
        return uow
    export_text = export.canonical_json(data.export) if data.export is not None else None
    answer = service.DomainAnswer(
        domain=data.domain,
        outcome=data.outcome,
        actions=[a.model_dump(mode="json") for a in data.actions],
        answered_at=data.answered_at,
        received_at=now(),
        event_source=ctx.source,
        event_id=ctx.id,
        reason=data.reason,
        export_sha256=export.sha256(export_text) if export_text is not None else None,
    )
    every = list({**answers, answer.domain: answer}.values())
    state = service.fold(request, every, answer.received_at)
    store.stage_answer(uow, request.request_id, answer, export_text)
    store.stage_request(uow, replace(request, status=state.status, completed_at=state.completed_at))
    completed = service.completed_event(request, state, every)
    if completed is not None:
        stage_event(uow, completed, subject=request.citizen_id, traceparent=ctx.traceparent, now=answer.received_at)
    return uow


event_api = EventFunction("pic-rgpd-events", {"es.madrid.pic.rgpd.domain.answered.v1": on_domain_answered})


@functions_framework.cloud_event
def rgpd_events(event: CloudEvent) -> None:
    event_api(event)
