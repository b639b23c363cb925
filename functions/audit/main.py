"""Access log (audit) entry points: thin.

- ``audit_events``: data-subject requests (``rgpd.request.opened``, Knative Service ``pic-audit-events``): the
  log is exported, and kept on erasure (``rights.answer``). Every function appends to the log itself,
  through the HTTP kernel (``functions.core.audit``, ADR 0010);
- ``audit_http``: ``GET /v1/citizens/{citizen_id}/access-log`` ("who looked at my data"): the citizen, or a
  compliance officer of the Data Protection Officer's office stating a purpose, as ``policies/authz``
  (``access-log.read``) decides (Knative Service ``pic-audit``).
  Reading the log is itself a read of personal data, and is logged the same way.
The use cases are in ``handlers.py``; the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.rgpd import RgpdRequestOpened
from functions.audit import handlers, service
from functions.audit.bootstrap import ports
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork

NAME = "pic-audit"


def get_access_log(ctx: RequestContext, citizen_id: str) -> Reply:
    """A page of the log, newest first (``?limit=1..200&cursor=``)."""
    try:
        limit = int(ctx.request.args.get("limit", str(service.DEFAULT_PAGE)))
    except ValueError as exc:
        raise ValidationError(f"limit must be an integer 1-{service.MAX_PAGE}") from exc
    query = handlers.ReadAccessLog(citizen_id, limit, ctx.request.args.get("cursor"))
    page = handlers.read_access_log(query, ports())
    return Reply(200, {"citizen_id": page.citizen_id, "entries": page.entries, "next_cursor": page.next_cursor})


ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/access-log",
        "GET",
        get_access_log,
        "Who read this citizen's personal data, when, why, what they saw and the decision (newest first)",
        action="access-log.read",
        app="my-data",
        reads=Reads("access-log", ("access-log",), lambda page: {**page, "view": "summary"}),
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def audit_http(request: Request) -> Response:
    return http_api(request)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the access log: exported, or kept by law."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-audit-events",
    {
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def audit_events(event: CloudEvent) -> None:
    event_api(event)
