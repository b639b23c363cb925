"""Access log (audit) entry points: thin.

- ``audit_events``: data-subject requests (``rgpd.request.opened``, Knative Service ``pic-audit-events``): the
  log is exported, and kept on erasure (``rights.answer``). Every function appends to the log itself,
  through the HTTP kernel (``functions.core.audit``, ADR 0010);
- ``audit_http``: ``GET /v1/citizens/{citizen_id}/access-log`` ("who looked at my data"): the citizen, or a
  compliance officer of the Data Protection Officer's office stating a purpose, as ``policies/authz``
  (``access-log.read``) decides (Knative Service ``pic-audit``).
  Reading the log is itself a read of personal data, and is logged the same way.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.rgpd import RgpdRequestOpened
from functions.audit import rights
from functions.audit.storage import DynamoAuditStore
from functions.core.audit import AccessRecord
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.policy import Policy, get_policy
from functions.core.store import UnitOfWork

NAME = "pic-audit"


@dataclass(frozen=True)
class Deps:
    store: DynamoAuditStore
    policy: Policy


@lru_cache(maxsize=1)
def deps() -> Deps:
    return Deps(store=DynamoAuditStore(), policy=get_policy())


def entry_view(record: AccessRecord) -> dict[str, Any]:
    """One log entry as the citizen reads it: who (role, level, area, id), why, what, and the decision."""
    return record.model_dump(mode="json", exclude={"citizen_id"})


def get_access_log(ctx: RequestContext, citizen_id: str) -> Reply:
    """A page of the log, newest first (``?limit=1..200&cursor=``)."""
    try:
        limit = min(max(int(ctx.request.args.get("limit", "50")), 1), 200)
    except ValueError as exc:
        raise ValidationError("limit must be an integer 1-200") from exc
    try:
        records, cursor = deps().store.fetch_page(citizen_id, limit, ctx.request.args.get("cursor"))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not one this API gave") from exc
    return Reply(200, {"citizen_id": citizen_id, "entries": [entry_view(r) for r in records], "next_cursor": cursor})


ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/access-log",
        "GET",
        get_access_log,
        "Who read this citizen's personal data, when, why, what they saw and the decision (newest first)",
        action="access-log.read",
        reads=Reads("access-log", ("access-log",), lambda page: {**page, "view": "summary"}),
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def audit_http(request: Request) -> Response:
    return http_api(request)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the access log (``rights.answer``): exported, or kept by law."""
    assert isinstance(data, RgpdRequestOpened)
    store = deps().store
    result = rights.answer(data, store, deps().policy, datetime.now(UTC))
    return result.unit(ctx.traceparent, lambda uow, plan: plan.stage(uow, store.stage_erase))


event_api = EventFunction(
    "pic-audit-events",
    {
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def audit_events(event: CloudEvent) -> None:
    event_api(event)
