"""ZBE (low-emission zone access authorisations, issue 18) entry points: thin. Parse, map to a command, call the
use case, answer.

- ``zbe_http`` (Knative Service ``pic-zbe``): a person's applications (apply, list: micro-app ``zbe``), the
  desk's review queue and an agent's decision, and the plate list the enforcement cameras read (a system caller).
- ``zbe_events`` (``pic-zbe-events``): Movilidad's ``vehicle.registered`` (label and holder of a plate) and
  data-subject requests (``rgpd.request.opened``).
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.rgpd import RgpdRequestOpened
from events.zbe import VehicleRegistered
from functions.core import csvfile
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, Several
from functions.core.store import UnitOfWork
from functions.zbe import handlers, service
from functions.zbe.bootstrap import ports

NAME = "pic-zbe"
REVIEW_QUEUE = "(zbe review queue)"
PLATE_LIST = "(zbe plate list)"


class ApplicationBody(BaseModel):
    """An application: the plate as written on the vehicle, the zone and the category claimed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    plate: str = Field(min_length=1, max_length=16, examples=["1234 BCD", "M-1234-AB"])
    zone: Literal["madrid", "distrito-centro", "plaza-eliptica"]
    category: Literal["residente", "invitado", "comercio", "servicios", "pmr", "garaje"]
    note: str | None = Field(None, max_length=500, description="what the agent should know (the host, the premises…)")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["approve", "refuse"]
    reason: str = Field(min_length=3, max_length=300)


def post_application(ctx: RequestContext, citizen_id: str, body: ApplicationBody) -> Reply:
    """Apply for an authorisation: 201 with the state the rules leave it in (granted, refused or awaiting review)
    and why; a plate in no Spanish format or unknown to Movilidad is a 422 problem and nothing is stored."""
    cmd = handlers.Apply(citizen_id, body.plate, body.zone, body.category, body.note)

    def reply(app: service.Application) -> Reply:
        return Reply(201, service.view(app), {"Location": f"/v1/citizens/{citizen_id}/zbe/applications"})

    return ctx.run(lambda: handlers.apply(cmd, ports(), ctx.traceparent), reply)


def get_applications(ctx: RequestContext, citizen_id: str) -> Reply:
    """The person's applications, newest first, each with its state, reasons and validity."""
    return Reply(200, {"applications": [service.view(a) for a in handlers.citizen_applications(citizen_id, ports())]})


def applications_summary(body: dict[str, Any]) -> dict[str, Any]:
    """Which zones and states, not the plates or the reasons."""
    keys = ("id", "zone", "category", "state", "valid_until")
    return {"applications": [{k: a[k] for k in keys} for a in body["applications"]], "view": "summary"}


def get_review_queue(ctx: RequestContext) -> Reply:
    """Applications awaiting an agent's review, oldest first (``?limit=1..100``); each person shown is recorded."""
    limit_text = ctx.request.args.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= handlers.MAX_QUEUE:
        raise ValidationError("invalid query parameters", errors=[{"field": "limit", "message": "1 to 100"}])
    queue = handlers.review_queue(ports(), int(limit_text))
    ctx.shown_citizens = sorted({a.citizen_id for a in queue})
    return Reply(200, {"applications": [service.view(a) for a in queue]})


def citizen_of_application(ctx: RequestContext, params: dict[str, str]) -> str:
    app = handlers.find(params["application_id"], ports())
    ctx.resource = app
    return app.citizen_id


def post_decision(ctx: RequestContext, application_id: str, body: DecisionBody) -> Reply:
    """An agent (with a purpose) approves or refuses an application awaiting review, giving the reason."""
    cmd = handlers.Review(application_id, body.decision == "approve", body.reason, ctx.subject.id, ctx.purpose)
    first_read = iter([ctx.resource])  # the resolver's read serves the first attempt; a retry reads again

    def step() -> Any:
        return handlers.review(cmd, ports(), ctx.traceparent, read=next(first_read, None))

    return ctx.run(step, lambda app: Reply(200, service.view(app)))


def get_plates(ctx: RequestContext) -> Reply:
    """The plates authorised today, for the enforcement cameras: JSON, or CSV with ``Accept: text/csv``. One
    access record per read (who, when), under the list's own key: the list names no person."""
    rows = handlers.plate_list(ports())
    ctx.shown_citizens = [PLATE_LIST]
    if "text/csv" in (ctx.header("Accept") or ""):
        return Reply(
            200, to_csv(rows).encode(), {"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store"}
        )
    return Reply(200, {"columns": list(service.PLATE_COLUMNS), "count": len(rows), "plates": rows},
                 {"Cache-Control": "no-store"})  # fmt: skip


def to_csv(rows: list[dict[str, str]]) -> str:
    """RFC 4180 CSV (CRLF line ends, a header row) of the plate list's columns, through the kernel's one writer
    (``functions.core.csvfile``: no cell a spreadsheet would run; a plate, a zone or a date never starts so)."""
    return csvfile.to_csv(rows, service.PLATE_COLUMNS)


ROUTES = [
    Route("/v1/citizens/<citizen_id>/zbe/applications", "POST", post_application,
          "Apply for a low-emission zone (ZBE) access authorisation for a vehicle", request_model=ApplicationBody,
          status=201, idempotent_writes=True, action="zbe.apply", app="zbe"),
    Route("/v1/citizens/<citizen_id>/zbe/applications", "GET", get_applications,
          "The citizen's ZBE applications: state, reasons, validity", action="zbe.read",
          reads=Reads("zbe", ("permits",), applications_summary), app="zbe"),
    Route("/v1/zbe/review-queue", "GET", get_review_queue,
          "ZBE applications awaiting an agent's review, oldest first (agents, with a purpose)", action="zbe.review",
          citizen=Several(REVIEW_QUEUE), reads=Reads("zbe-review", ("permits",))),
    Route("/v1/zbe/applications/<application_id>/decision", "POST", post_decision,
          "Approve or refuse a ZBE application awaiting review (agents, with a purpose and a reason)",
          request_model=DecisionBody, idempotent_writes=True, action="zbe.decide", citizen=citizen_of_application),
    Route("/v1/zbe/plates", "GET", get_plates,
          "The plates authorised today in each zone, for the enforcement cameras (JSON, or CSV)", action="zbe.plates",
          citizen=Several(PLATE_LIST), reads=Reads("zbe-plates", ("permits",), view="full")),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def zbe_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_vehicle_registered(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, VehicleRegistered)
    return handlers.project_vehicle(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-zbe-events",
    {
        "es.madrid.pic.vehicle.registered.v1": on_vehicle_registered,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def zbe_events(event: CloudEvent) -> None:
    event_api(event)
