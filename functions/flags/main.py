"""Flags (FLAG) entry points: thin. Parse, map to a command, call the use case, answer.

- ``flags_http`` (Knative Service ``pic-flags``): ``GET /v1/flags``, the snapshot every function polls (public:
  micro-app names, district codes and shares, no personal data; ``ETag``/``If-None-Match``);
  ``PUT /v1/flags/{flag}`` and ``GET /v1/flags/{flag}/history`` (platform administrators);
  ``GET/PUT /v1/citizens/{citizen_id}/apps`` (the citizen's home: apps on for them, pinned, hidden).
- ``flags_events`` (``pic-flags-events``): data-subject requests (``rgpd.request.opened``).
The use cases are in ``handlers.py``; the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.flags import AppsArrangement, FlagChange
from events.rgpd import RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork
from functions.flags import handlers, service
from functions.flags.bootstrap import ports

NAME = "pic-flags"


def who(ctx: RequestContext) -> str:
    return f"{ctx.subject.role}:{ctx.subject.id}"


def get_flags(ctx: RequestContext) -> Reply:
    """The snapshot; a 304 when the caller's ``If-None-Match`` names the current revision."""
    snapshot = handlers.snapshot(ports())
    etag = f'"{snapshot["revision"]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in [tag.strip() for tag in (ctx.header("If-None-Match") or "").split(",")]:
        return Reply(304, None, headers)
    return Reply(200, snapshot, headers)


def put_flag(ctx: RequestContext, body: FlagChange, flag: str) -> Reply:
    """Switch a micro-app (a new version, audited); the same rules again answer the flag unchanged."""
    cmd = handlers.ChangeFlag(flag, body, who(ctx))
    catalogue = ports().catalogue
    return ctx.run(
        lambda: handlers.change_flag(cmd, ports(), ctx.traceparent),
        lambda done: Reply(200, service.view_flag(done.flag, catalogue)),
    )


def get_flag_history(ctx: RequestContext, flag: str) -> Reply:
    return Reply(200, {"flag": flag, "changes": handlers.flag_history(flag, ports())})


def get_apps(ctx: RequestContext, citizen_id: str) -> Reply:
    return Reply(200, handlers.citizen_home(citizen_id, ports()))


def put_apps(ctx: RequestContext, body: AppsArrangement, citizen_id: str) -> Reply:
    cmd = handlers.ArrangeApps(citizen_id, body, who(ctx))
    return ctx.run(lambda: handlers.arrange_apps(cmd, ports(), ctx.traceparent), lambda home: Reply(200, home))


def home_summary(home: dict[str, Any]) -> dict[str, Any]:
    """Which micro-apps the citizen sees, without their own arrangement."""
    return {"citizen_id": home["citizen_id"], "apps": [a["app"] for a in home["apps"]], "view": "summary"}


HOME_APPS = Reads("home-apps", ("preferences",), home_summary)

ROUTES = [
    Route("/v1/flags", "GET", get_flags, "The micro-apps' flags (the snapshot every function polls)", public=True),
    Route(
        "/v1/flags/<flag>",
        "PUT",
        put_flag,
        "Switch a micro-app on or off globally, per district or for a share of citizens (audited)",
        request_model=FlagChange,
        idempotent_writes=True,
        action="flags.change",
    ),
    Route(
        "/v1/flags/<flag>/history",
        "GET",
        get_flag_history,
        "Every change of a micro-app's flag: who, when, before, after, why",
        action="flags.history",
    ),
    Route(
        "/v1/citizens/<citizen_id>/apps",
        "GET",
        get_apps,
        "The micro-apps on for the citizen, in their order, with their pins and hides",
        action="apps.read",
        reads=HOME_APPS,
    ),
    Route(
        "/v1/citizens/<citizen_id>/apps",
        "PUT",
        put_apps,
        "Pin and hide micro-apps on the citizen's home",
        request_model=AppsArrangement,
        idempotent_writes=True,
        action="apps.write",
        reads=HOME_APPS,
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def flags_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the flags domain (a citizen's home arrangement)."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction("pic-flags-events", {"es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened})


@functions_framework.cloud_event
def flags_events(event: CloudEvent) -> None:
    event_api(event)
