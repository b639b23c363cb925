"""Cases (CASE) entry points: thin. Parse, map to a command, call the use case, answer.

- ``case_http`` (Knative Service ``pic-case``): ``POST /v1/cases`` (any channel opens a case),
  ``GET /v1/cases/{id}``, ``GET /v1/citizens/{id}/cases``; the citizen adds information, reopens and rates;
  agents reply, move, escalate, merge and link; ``PUT /v1/agents/me`` (presence, capacity, queues),
  ``POST /v1/agents/me/next`` (pull), ``GET /v1/agents/me/queue``; the areas' configuration
  (``/v1/case-areas/{area}/config``, versioned).
- ``case_events`` (``pic-case-events``): ``es.madrid.pic.case.requested.v1`` (the assistant's hand-over, 010,
  an office, an area system) and data-subject requests.
- ``python -m functions.case.sweep``: the SLA sweep (``sweep.py``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

from events.case import CaseRequested
from events.rgpd import RgpdRequestOpened
from functions.case import handlers, report, service
from functions.case.bootstrap import ports
from functions.case.service import Actor, Case
from functions.core.clock import MADRID
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_body
from functions.core.store import Staged, UnitOfWork

NAME = "pic-case"


def _actor(ctx: RequestContext) -> Actor:
    return Actor(ctx.subject.role, ctx.subject.id, ctx.subject.level, ctx.subject.area)


def _view(ctx: RequestContext, case: Case) -> dict[str, Any]:
    """The citizen's own view, or the agent's: all of it for an agent who may work the case, its summary for
    one above whose level or outside whose area it is."""
    p = ports()
    if ctx.subject.role != "agent":
        return service.view(case, None, p.clock.now(), for_citizen=ctx.subject.role == "citizen")
    try:
        service.check_agent_may_act(case, _actor(ctx))
    except service.CaseLevelError:
        return {**service.summary_item(case), "view": "summary"}
    return service.view(case, handlers.config_of(case.area, p), p.clock.now(), for_citizen=False)


def _reply(ctx: RequestContext, status: int = 200) -> Any:
    def reply(case: Case) -> Reply:
        return Reply(status, _view(ctx, case), {"Location": f"/v1/cases/{case.id}"})

    return reply


# ---- opening and reading ------------------------------------------------------------------------------------


def citizen_of_body(ctx: RequestContext, params: dict[str, str]) -> str:
    body = parse_body(ctx.request, CaseRequested)
    assert isinstance(body, CaseRequested)
    return body.citizen_id


def post_case(ctx: RequestContext, body: CaseRequested) -> Reply:
    """Open a case; the same request again (``request_id`` or ``Idempotency-Key``) answers the case it opened."""
    request_id = body.request_id or ctx.idempotency_key or uuid.uuid4().hex
    cmd = handlers.OpenCase(body, f"{ctx.subject.role}:{ctx.subject.id}", request_id)

    def reply(done: handlers.Opened) -> Reply:
        return Reply(201 if done.created else 200, _view(ctx, done.case), {"Location": f"/v1/cases/{done.case.id}"})

    return ctx.run(lambda: handlers.open_case(cmd, ports(), ctx.traceparent), reply)


def citizen_of_case(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose case it is (the kernel decides on it); the handler reuses what was read."""
    case = handlers.find_case(params["case_id"], ports())
    ctx.resource = case
    return case.citizen_id


def get_case(ctx: RequestContext, case_id: str) -> Reply:
    return Reply(200, _view(ctx, ctx.resource))


def case_summary(view: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "reference", "area", "category", "level", "state", "opened_at", "updated_at")
    return {**{k: view.get(k) for k in keys}, "view": "summary"}


def get_citizen_cases(ctx: RequestContext, citizen_id: str) -> Reply:
    """The person's cases, newest first: what, where and in which state."""
    cases = handlers.citizen_cases(citizen_id, ports())
    return Reply(200, {"citizen_id": citizen_id, "cases": [service.summary_item(c) for c in cases], "view": "summary"})


def cases_summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"citizen_id": body["citizen_id"], "cases": len(body["cases"]), "view": "summary"}


# ---- what the citizen and the agents do ---------------------------------------------------------------------


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    internal: bool = Field(False, description="an agent's internal note, never shown to the citizen")


def post_message(ctx: RequestContext, case_id: str, body: MessageBody) -> Reply:
    """The citizen adds information (a case waiting on them goes back to the agent; a resolved one reopens within
    the window); an agent replies to the citizen or writes an internal note."""
    actor, p = _actor(ctx), ports()
    if actor.role == "citizen":
        window = handlers.window_check(ctx.resource, "add", p)

        def add(case: Case, config: Any, now: Any) -> Case:
            return service.add_information(case, actor, body.text, window, now)

        return ctx.run(lambda: handlers.change(case_id, add, p, ctx.traceparent), _reply(ctx, 201))

    def answer(case: Case, config: Any, now: Any) -> Case:
        return service.reply(case, actor, body.text, internal=body.internal, now=now)

    return ctx.run(lambda: handlers.change(case_id, answer, p, ctx.traceparent), _reply(ctx, 201))


class StateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "waiting-on-citizen", "waiting-on-area", "resolved", "closed"]
    reason: str = Field("", max_length=2000, description="what the citizen reads (the resolution, what is awaited)")


def post_state(ctx: RequestContext, case_id: str, body: StateBody) -> Reply:
    """An agent moves the case (waiting on the citizen pauses its clocks; resolved and closed stop them)."""
    actor = _actor(ctx)

    def act(case: Case, config: Any, now: Any) -> Case:
        return service.move(case, actor, body.state, body.reason, now)

    return ctx.run(lambda: handlers.change(case_id, act, ports(), ctx.traceparent), _reply(ctx))


class EscalationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=2, le=3)
    reason: str = Field(min_length=3, max_length=2000)


def post_escalation(ctx: RequestContext, case_id: str, body: EscalationBody) -> Reply:
    """Up to the area's level 2 or its experts (3), with the reason; back to that level's queue."""
    actor = _actor(ctx)

    def act(case: Case, config: Any, now: Any) -> Case:
        return service.escalate(case, actor, body.level, body.reason, config, now)

    return ctx.run(lambda: handlers.change(case_id, act, ports(), ctx.traceparent), _reply(ctx))


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


def post_reopen(ctx: RequestContext, case_id: str, body: ReasonBody) -> Reply:
    """Reopen a resolved or closed case: the citizen within the window, an agent with a reason."""
    actor, p = _actor(ctx), ports()
    window = handlers.window_check(ctx.resource, "reopen", p) if actor.role == "citizen" else 0

    def act(case: Case, config: Any, now: Any) -> Case:
        return service.reopen(case, actor, body.reason, window if actor.role == "citizen" else 10**6, now)

    return ctx.run(lambda: handlers.change(case_id, act, p, ctx.traceparent), _reply(ctx))


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


def post_rating(ctx: RequestContext, case_id: str, body: RatingBody) -> Reply:
    """The citizen rates the attention once, after resolution, within the window."""
    actor, p = _actor(ctx), ports()
    window = handlers.window_check(ctx.resource, "rate", p)

    def act(case: Case, config: Any, now: Any) -> Case:
        return service.rate(case, actor, body.score, body.comment, window, now)

    return ctx.run(lambda: handlers.change(case_id, act, p, ctx.traceparent), _reply(ctx, 201))


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(pattern=r"^case-[0-9a-f]{24}$")
    reason: str = Field(min_length=3, max_length=2000)


def post_merge(ctx: RequestContext, case_id: str, body: MergeBody) -> Reply:
    """Merge this case (a duplicate) into another of the same citizen; the citizen sees where it went."""
    actor = _actor(ctx)
    return ctx.run(
        lambda: handlers.merge(case_id, body.into, actor, body.reason, ports(), ctx.traceparent), _reply(ctx)
    )


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(pattern=r"^case-[0-9a-f]{24}$", description="the other case")
    kind: Literal["child", "related"] = Field(description="child: this case becomes a child of the other")


def post_link(ctx: RequestContext, case_id: str, body: LinkBody) -> Reply:
    actor = _actor(ctx)
    return ctx.run(
        lambda: handlers.link(case_id, body.case_id, body.kind, actor, ports(), ctx.traceparent), _reply(ctx)
    )


# ---- agents ------------------------------------------------------------------------------------------------------


class PresenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["online", "busy", "away", "offline"]
    capacity: int = Field(5, ge=0, le=50, description="how many cases at once")
    queues: list[str] = Field(default_factory=list, max_length=30, description="<area>-l<level>, e.g. hacienda-l2")


def put_presence(ctx: RequestContext, body: PresenceBody) -> Reply:
    """The agent's presence, capacity and queues; their level and area come from their token."""
    queues = tuple(dict.fromkeys(body.queues)) or (f"{ctx.subject.area}-l{ctx.subject.level}",)
    cmd = handlers.SetPresence(_actor(ctx), body.presence, body.capacity, queues)

    def reply(state: service.AgentState) -> Reply:
        return Reply(200, {"id": state.id, "level": state.level, "area": state.area, "presence": state.presence,
                           "capacity": state.capacity, "load": state.load, "queues": list(state.queues)})  # fmt: skip

    return ctx.run(lambda: handlers.set_presence(cmd, ports()), reply)


def post_next(ctx: RequestContext) -> Reply:
    """Pull: the most urgent case of the agent's queues, assigned to them (its summary: open it with a purpose)."""
    actor = _actor(ctx)

    def reply(case: Case) -> Reply:
        return Reply(200, service.summary_item(case), {"Location": f"/v1/cases/{case.id}"})

    return ctx.run(lambda: handlers.take_next(actor, ports(), ctx.traceparent), reply)


def get_queue(ctx: RequestContext) -> Reply:
    """The agent's open cases and the head of each of their queues, with the SLA clocks."""
    return Reply(200, handlers.queue_view(_actor(ctx), ports()))


# ---- the areas' configuration ---------------------------------------------------------------------------------


class ConfigProposal(RootModel[dict[str, Any]]):
    """An area's configuration (``functions/case/config.py``: office hours, SLA policies, pausing states,
    categories); the version is given by the store."""


def get_config(ctx: RequestContext, area: str) -> Reply:
    found = handlers.config_of(area, ports())
    return Reply(200, found.model_dump(mode="json"))


def put_config(ctx: RequestContext, area: str, body: ConfigProposal) -> Reply:
    """The next version of the area's configuration, refused whole with every error named (the old one stays)."""
    proposed = {k: v for k, v in body.root.items() if k not in ("area", "version")}

    def step() -> Staged[Any]:
        return handlers.put_config(area, proposed, ports())

    return ctx.run(step, lambda config: Reply(200, config.model_dump(mode="json")))


# ---- the SLA report --------------------------------------------------------------------------------------------

MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "png": "image/png", "svg": "image/svg+xml"}


def _report_args(ctx: RequestContext) -> tuple[str, Any, str, str]:
    args = ctx.request.args
    month = args.get("month") or ports().clock.now().astimezone(MADRID).strftime("%Y-%m")
    by, fmt, language = args.get("by", "agent"), args.get("format", "json"), args.get("language", "es")
    errors = [
        {"field": name, "message": message}
        for name, bad, message in (
            ("month", not MONTH.match(month), "a month as YYYY-MM"),
            ("by", by not in report.BY, f"one of {', '.join(report.BY)}"),
            ("format", fmt not in FORMATS, f"one of {', '.join(FORMATS)}"),
            ("language", language not in report.LABELS, "es or en (the plot's words)"),
        )
        if bad
    ]
    if errors:
        raise ValidationError("the report's parameters are not valid", errors=errors)
    return month, by, fmt, language


def get_sla_report(ctx: RequestContext) -> Reply:
    """% SLA met per agent, queue, area or level for the cases resolved in a month (``?month=YYYY-MM&by=agent``),
    and each queue's backlog age; ``format=csv`` for a spreadsheet, ``png`` or ``svg`` for its plot (``language=es|en``
    its words)."""
    month, by, fmt, language = _report_args(ctx)
    found = handlers.sla_report(month, by, ports())
    name = f"sla-{month}-by-{by}"
    if fmt == "csv":
        body = report.as_csv(found.rows, by).encode()
    elif fmt in ("png", "svg"):
        body = report.plot(found.rows, by, month, "png" if fmt == "png" else "svg", language)
    else:
        rows = [{"key": r.key, "measure": r.measure, "met": r.met, "breached": r.breached, "total": r.total,
                 "percent_met": r.percent_met} for r in found.rows]  # fmt: skip
        return Reply(200, {"month": month, "by": by, "rows": rows, "backlog": found.backlog})
    disposition = "attachment" if fmt == "csv" else "inline"
    return Reply(
        200, body, {"Content-Type": FORMATS[fmt], "Content-Disposition": f'{disposition}; filename="{name}.{fmt}"'}
    )


CASE = "/v1/cases/<case_id>"

ROUTES = [
    Route("/v1/cases", "POST", post_case, "Open a case (any channel); the area's configuration says its level",
          request_model=CaseRequested, status=201, idempotent_writes=True, links={"case_id": "/id"},
          app="cases", action="case.open", citizen=citizen_of_body),
    Route(CASE, "GET", get_case, "One case: its state, history and (for agents) SLA clocks", app="cases",
          action="case.read", citizen=citizen_of_case, reads=Reads("case", ("cases",), case_summary)),
    Route("/v1/citizens/<citizen_id>/cases", "GET", get_citizen_cases, "The person's cases, newest first",
          app="cases", action="case.read", reads=Reads("cases", ("cases",), cases_summary)),
    Route(f"{CASE}/messages", "POST", post_message, "Add information (citizen) or reply / note (agent)",
          request_model=MessageBody, status=201, idempotent_writes=True, app="cases", action="case.message",
          citizen=citizen_of_case, reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/state", "POST", post_state, "Move the case: open, waiting on the citizen or the area, resolved, "
          "closed", request_model=StateBody, idempotent_writes=True, action="case.work", citizen=citizen_of_case,
          reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/escalation", "POST", post_escalation, "Escalate to the area's level 2 or its experts (3)",
          request_model=EscalationBody, idempotent_writes=True, action="case.work", citizen=citizen_of_case,
          reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/merge", "POST", post_merge, "Merge this case into another of the same citizen",
          request_model=MergeBody, idempotent_writes=True, action="case.work", citizen=citizen_of_case,
          reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/links", "POST", post_link, "Link this case to another (child of it, or related)",
          request_model=LinkBody, idempotent_writes=True, action="case.work", citizen=citizen_of_case,
          reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/reopen", "POST", post_reopen, "Reopen a resolved or closed case (the citizen within the window)",
          request_model=ReasonBody, idempotent_writes=True, app="cases", action="case.reopen", citizen=citizen_of_case,
          reads=Reads("case", ("cases",), case_summary)),
    Route(f"{CASE}/rating", "POST", post_rating, "Rate the attention (1-5 and a comment), once, after resolution",
          request_model=RatingBody, status=201, idempotent_writes=True, app="cases", action="case.rate",
          citizen=citizen_of_case,          reads=Reads("case", ("cases",), case_summary)),
    Route("/v1/agents/me", "PUT", put_presence, "The agent's presence, case capacity and queues",
          request_model=PresenceBody, action="case.desk"),
    Route("/v1/agents/me/next", "POST", post_next, "Take the most urgent case of my queues", action="case.desk"),
    Route("/v1/agents/me/queue", "GET", get_queue, "My open cases and my queues' heads, with SLA clocks",
          action="case.desk"),
    Route("/v1/case-reports/sla", "GET", get_sla_report, "% SLA met per agent, queue, area or level in a month "
          "(JSON, CSV, PNG or SVG), and the backlogs' age", action="case.report"),
    Route("/v1/case-areas/<area>/config", "GET", get_config, "An area's case configuration in force",
          action="case.config.read"),
    Route("/v1/case-areas/<area>/config", "PUT", put_config, "The next version of an area's case configuration",
          request_model=ConfigProposal, action="case.config.write"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def case_http(request: Request) -> Response:
    return http_api(request)


# ---- events ---------------------------------------------------------------------------------------------------


def on_requested(ctx: EventContext, data: Any) -> UnitOfWork:
    """A channel's or back-office's request (the event ``source`` is the requester): one case per request."""
    assert isinstance(data, CaseRequested)
    cmd = handlers.OpenCase(data, ctx.source, data.request_id or ctx.id)
    return handlers.open_case(cmd, ports(), ctx.traceparent).unit


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-case-events",
    {
        "es.madrid.pic.case.requested.v1": on_requested,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def case_events(event: CloudEvent) -> None:
    event_api(event)
