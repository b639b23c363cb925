"""Citizen 360 (C360) entry points: thin. Parse, authorise, call the service, commit, answer.

- ``citizen_http``: ``GET /v1/citizens?source=&local_id=`` (which golden record a source record belongs to)
  and ``GET /v1/citizens/{citizen_id}`` (the golden record with its source links); Knative Service
  ``pic-citizen``.
- ``citizen_events``: ``es.madrid.pic.citizen.record.upserted.v1`` from the area systems (Knative Service
  ``pic-citizen-events``): resolve the record to a golden record and announce ``citizen.updated``.
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

from events.citizen import CitizenRecordUpserted
from functions.citizen import service
from functions.citizen.storage import DynamoCitizenStore
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import InvalidEventError, ValidationError
from functions.core.http import HttpFunction, Reply, RequestContext, Route
from functions.core.outbox import stage_event
from functions.core.policy import Policy, get_policy
from functions.core.policy import authorize as policy_authorize
from functions.core.store import UnitOfWork

UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Deps:
    store: DynamoCitizenStore
    policy: Policy


@lru_cache(maxsize=1)
def deps() -> Deps:
    """The real adapters, built once per process."""
    return Deps(store=DynamoCitizenStore(), policy=get_policy())


def now() -> datetime:
    return datetime.now(UTC)


class CitizenRef(BaseModel):
    citizen_id: str


def authorize(ctx: RequestContext, citizen_id: str) -> None:
    """``policies/authz`` action ``citizen.read``: agents and internal systems; a citizen, their own record."""
    policy_authorize(deps().policy, ctx.subject.as_policy_input(), "citizen.read", citizen_id)


def find_citizen(ctx: RequestContext) -> Reply:
    """The golden record a source record (``source`` + ``local_id``) is linked to.

    The policy is asked with the id found (or a placeholder), so a citizen learns nothing about others.
    """
    args = ctx.request.args
    missing = [name for name in ("source", "local_id") if not args.get(name)]
    if missing:
        raise ValidationError(
            "source and local_id are required query parameters",
            errors=[{"field": name, "message": "required"} for name in missing],
        )
    found = deps().store.fetch_citizen_of(args["source"], args["local_id"])
    authorize(ctx, found[0] if found else UNKNOWN)
    if found is None:
        raise service.CitizenNotFoundError(f"no golden record links {args['source']}#{args['local_id']}")
    return Reply(200, CitizenRef(citizen_id=found[0]))


def get_citizen(ctx: RequestContext, citizen_id: str) -> Reply:
    authorize(ctx, citizen_id)
    golden = deps().store.fetch_golden(citizen_id)
    if golden is None:
        raise service.CitizenNotFoundError(f"no golden record {citizen_id}")
    return Reply(200, service.golden_view(golden, deps().store.fetch_links(citizen_id)))


ROUTES = [
    Route(
        "/v1/citizens",
        "GET",
        find_citizen,
        "The golden record id a source record (?source, ?local_id) belongs to",
        response_model=CitizenRef,
    ),
    Route("/v1/citizens/<citizen_id>", "GET", get_citizen, "The golden record with its source links"),
]

http_api = HttpFunction("pic-citizen", ROUTES)


@functions_framework.http
def citizen_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_record_upserted(ctx: EventContext, data: Any) -> UnitOfWork:
    """Resolve an area system's record (the event ``source`` is the system) and stage the result."""
    assert isinstance(data, CitizenRecordUpserted)
    if not ctx.source.startswith("/") or "#" in ctx.source:
        raise InvalidEventError(f"source {ctx.source!r} is not an area system's URI such as /legacy/padron")
    store = deps().store
    existing = store.fetch_link(ctx.source, data.local_id)
    document = service.document_of(data)  # an unknown type is a 422 problem: dead-lettered with the reason
    owner = store.fetch_document_owner(document)
    target = service.target_citizen(existing, owner)
    golden = store.fetch_golden(target) if target else None
    links = store.fetch_links(target) if target else []
    at = now()
    outcome = service.resolve(
        ctx.source, data, existing=existing, document_owner=owner, golden=golden, other_links=links, now=at
    )
    uow = UnitOfWork()
    if outcome.event is not None:
        store.stage_resolution(uow, outcome.link, outcome.golden, outcome.claim_document)
        stage_event(uow, outcome.event, subject=outcome.link.citizen_id, traceparent=ctx.traceparent, now=at)
    return uow


event_api = EventFunction("pic-citizen-events", {"es.madrid.pic.citizen.record.upserted.v1": on_record_upserted})


@functions_framework.cloud_event
def citizen_events(event: CloudEvent) -> None:
    event_api(event)
