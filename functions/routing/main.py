"""Contact routing (CCAAS) entry points: thin. Parse, map to a command, call the use case, answer.

- ``routing_http`` (Knative Service ``pic-routing``): agents' routing profile and presence
  (``/v1/routing/agents/me``, their contacts), the connector's contacts (``POST /v1/contacts``, ``/abandon``),
  the agent's ``/accept``, ``/reject``, ``/end``, queues and IVR flows as versioned data, IVR calls
  (``/v1/ivr/calls``, ``/input``) and the statistics (``/v1/routing/stats``, JSON or CSV).
- ``routing_events`` (``pic-routing-events``): the offices' queue manager's tickets
  (``es.madrid.pic.office.ticket.*.v1``) and data-subject requests.
- ``python -m functions.routing.sweep``: offers and routing steps that expire (``sweep.py``).
The contract a CCaaS or PBX connector follows is in ``README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

from events.consent import ID_PATTERN
from events.contact import (
    ContactChannel,
    TicketCalled,
    TicketCancelled,
    TicketFact,
    TicketIssued,
    TicketNoShow,
    TicketServed,
    TicketTransferred,
)
from events.interaction import INTERACTION_ID_PATTERN
from events.rgpd import RgpdRequestOpened
from functions.core import csvfile
from functions.core.clock import MADRID
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reply, RequestContext, Route
from functions.core.store import Staged, UnitOfWork
from functions.routing import handlers, service
from functions.routing.bootstrap import ports

NAME = "pic-routing"
SKILL = r"^[a-z0-9][a-z0-9-]{0,47}$"
UNNAMED = [{"field": "request_id", "message": "required without an Idempotency-Key"}]


def _contact(status: int = 200) -> Callable[[service.Contact], Reply]:
    def reply(contact: service.Contact) -> Reply:
        return Reply(status, service.view(contact), {"Location": f"/v1/contacts/{contact.id}"})

    return reply


# ---- agents ---------------------------------------------------------------------------------------------------


class ProfileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["online", "busy", "away", "offline"]
    skills: dict[Annotated[str, Field(pattern=SKILL)], Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, max_length=50, description="skill -> proficiency 1 (basic) .. 5 (expert)"
    )
    capacity: dict[ContactChannel, Annotated[int, Field(ge=0, le=20)]] = Field(
        default_factory=lambda: {"call": 1, "chat": 3},  # type: ignore[arg-type,return-value]
        description="contacts at once per channel (calls 1, chats N)",
    )
    queues: list[Annotated[str, Field(pattern=SKILL)]] = Field(default_factory=list, max_length=30)


def put_profile(ctx: RequestContext, body: ProfileBody) -> Reply:
    """The agent's skills, capacity per channel, queues and presence for contacts; level and area from the token."""
    area = ctx.subject.area or service.GENERAL_AREA
    queues = tuple(dict.fromkeys(body.queues)) or (f"{area}-l{ctx.subject.level}",)
    cmd = handlers.SetProfile(ctx.subject.id, int(ctx.subject.level or 1), area, body.presence, body.skills,
                              {str(k): v for k, v in body.capacity.items()}, queues)  # fmt: skip
    return ctx.run(lambda: handlers.set_profile(cmd, ports(), ctx.traceparent), lambda p: Reply(200, p.view()))


def get_profile(ctx: RequestContext) -> Reply:
    found = handlers.profile_of(ctx.subject.id, ports())
    if found is None:
        raise service.ContactNotFoundError("you have no routing profile yet (PUT /v1/routing/agents/me)")
    return Reply(200, found.view())


def get_my_contacts(ctx: RequestContext) -> Reply:
    """What the agent is offered (accept before ``offer_expires_at``) and attends now."""
    found = handlers.contacts_of(ctx.subject.id, ports())
    return Reply(200, {"agent_id": ctx.subject.id, "contacts": [service.view(c) for c in found]})


# ---- contacts ---------------------------------------------------------------------------------------------------


class ContactBody(BaseModel):
    """A contact a connector (CCaaS, PBX, web-chat, WhatsApp) offers to a queue."""

    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(None, pattern=INTERACTION_ID_PATTERN, description="the connector's own id")
    channel: ContactChannel
    queue: str = Field(pattern=SKILL)
    priority: int = Field(0, ge=0, le=9, description="higher is served first; then the longest waiting")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN, description="only when the connector identified them")
    topic: str = Field("", max_length=200)
    line: str = Field("010", min_length=1, max_length=32)


def post_contact(ctx: RequestContext, body: ContactBody) -> Reply:
    """Offer a contact to a queue: routed at once; the same ``request_id`` (or Idempotency-Key) again answers it."""
    request_id = body.request_id or ctx.idempotency_key
    if request_id is None:
        raise ValidationError("name the contact: request_id, or an Idempotency-Key header", errors=UNNAMED)
    cmd = handlers.OfferContact(body.channel, body.queue, body.priority, body.citizen_id, body.topic,
                                {"line": body.line}, f"{ctx.subject.role}:{ctx.subject.id}", request_id)  # fmt: skip

    def reply(done: handlers.Opened) -> Reply:
        return _contact(201 if done.created else 200)(done.contact)

    return ctx.run(lambda: handlers.open_contact(cmd, ports(), ctx.traceparent), reply)


def get_contact(ctx: RequestContext, contact_id: str) -> Reply:
    return _contact()(handlers.find_contact(contact_id, ports()))


def post_accept(ctx: RequestContext, contact_id: str) -> Reply:
    return ctx.run(lambda: handlers.accept(contact_id, ctx.subject.id, ports(), ctx.traceparent), _contact())


def post_reject(ctx: RequestContext, contact_id: str) -> Reply:
    return ctx.run(lambda: handlers.reject(contact_id, ctx.subject.id, ports(), ctx.traceparent), _contact())


def post_abandon(ctx: RequestContext, contact_id: str) -> Reply:
    return ctx.run(lambda: handlers.abandon(contact_id, ports(), ctx.traceparent), _contact())


class EndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["resolved", "redirected", "pending"] = "resolved"
    citizen_id: str | None = Field(None, pattern=ID_PATTERN, description="who it was, if the agent identified them")
    topic: str | None = Field(None, min_length=1, max_length=200, description="what it was about (the log's topic)")


def post_end(ctx: RequestContext, contact_id: str, body: EndBody) -> Reply:
    """The agent finished: the interaction is logged (when the citizen is known), their place is free."""
    cmd = handlers.EndContact(contact_id, ctx.subject.id, body.outcome, body.citizen_id, body.topic)
    return ctx.run(lambda: handlers.end(cmd, ports(), ctx.traceparent), _contact())


# ---- queues and IVR flows as data -------------------------------------------------------------------------------


class Proposal(RootModel[dict[str, Any]]):
    """A queue's configuration or an IVR flow; the version is given by the store."""


def get_queue(ctx: RequestContext, queue: str) -> Reply:
    return Reply(200, handlers.queue_of(queue, ports()).model_dump(mode="json"))


def put_queue(ctx: RequestContext, queue: str, body: Proposal) -> Reply:
    """The queue's next version, refused whole with every error named (the old one stays in force)."""
    proposed = {k: v for k, v in body.root.items() if k not in ("queue", "version")}

    def step() -> Staged[Any]:
        return handlers.put_queue(queue, proposed, ports())

    return ctx.run(step, lambda config: Reply(200, config.model_dump(mode="json")))


def get_flow(ctx: RequestContext, flow: str) -> Reply:
    return Reply(200, handlers.flow_of(flow, ports()).model_dump(mode="json"))


def put_flow(ctx: RequestContext, flow: str, body: Proposal) -> Reply:
    """The flow's next version, refused whole with every error named (the old one stays; calls in progress keep
    the version they started on)."""
    proposed = {k: v for k, v in body.root.items() if k not in ("flow", "version")}

    def step() -> Staged[Any]:
        return handlers.put_flow(flow, proposed, ports())

    return ctx.run(step, lambda found: Reply(200, found.model_dump(mode="json")))


# ---- IVR calls -------------------------------------------------------------------------------------------------


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(None, pattern=INTERACTION_ID_PATTERN, description="the connector's call id")
    flow: str = Field(pattern=SKILL)
    language: Literal["es", "en"] = "es"
    channel: ContactChannel = "call"
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    line: str = Field("010", min_length=1, max_length=32)


def _call(status: int = 200) -> Any:
    def reply(step: handlers.CallStep) -> Reply:
        body = service.call_view(step.call, step.said)
        if step.contact is not None:
            body["contact"] = service.view(step.contact)
        return Reply(status, body, {"Location": f"/v1/ivr/calls/{step.call.id}"})

    return reply


def post_call(ctx: RequestContext, body: CallBody) -> Reply:
    """A call enters a flow: what the caller hears first (``say``) and whether the flow waits for them."""
    request_id = body.request_id or ctx.idempotency_key
    if request_id is None:
        raise ValidationError("name the call: request_id, or an Idempotency-Key header", errors=UNNAMED)
    cmd = handlers.StartCall(body.flow, body.language, body.channel, body.citizen_id, body.line,
                             f"{ctx.subject.role}:{ctx.subject.id}", request_id)  # fmt: skip
    return ctx.run(lambda: handlers.start_call(cmd, ports(), ctx.traceparent), _call(201))


class InputBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1, max_length=48, description="a DTMF key (0-9, *, #) or a recognised intent")
    seq: int | None = Field(None, ge=0, le=64, description="answers sent before this one: a resent input replays")


def post_input(ctx: RequestContext, call_id: str, body: InputBody) -> Reply:
    """The caller's answer: what they hear next; at the end the contact in its queue (or a callback, a hang-up)."""
    return ctx.run(lambda: handlers.call_input(call_id, body.input, body.seq, ports(), ctx.traceparent), _call())


# ---- statistics ---------------------------------------------------------------------------------------------

DAY = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
COLUMNS = ("queue", "date", "offered", "answered", "abandoned", "timed_out", "wait_p50_seconds", "wait_p90_seconds",
           "mean_handling_seconds", "service_level_seconds", "service_level")  # fmt: skip


def get_stats(ctx: RequestContext) -> Reply:
    """A queue's day (``?queue=&date=YYYY-MM-DD&format=json|csv``): offered, answered, abandoned, timed out, wait
    p50/p90, mean handling time and the service level (answered within the queue's threshold, 20 s by default)."""
    args = ctx.request.args
    queue = args.get("queue", "")
    day = args.get("date") or ports().clock.now().astimezone(MADRID).strftime("%Y-%m-%d")
    fmt = args.get("format", "json")
    errors = [
        {"field": name, "message": message}
        for name, bad, message in (
            ("queue", not re.match(SKILL, queue), "a queue name"),
            ("date", not DAY.match(day), "a day as YYYY-MM-DD"),
            ("format", fmt not in ("json", "csv"), "json or csv"),
        )
        if bad
    ]
    if errors:
        raise ValidationError("the statistics' parameters are not valid", errors=errors)
    found = handlers.queue_stats(queue, day, ports())
    if fmt == "csv":
        disposition = f'attachment; filename="routing-{queue}-{day}.csv"'
        return Reply(200, csvfile.to_csv([found], COLUMNS).encode(),
                     {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": disposition})  # fmt: skip
    return Reply(200, found)


CONTACT = "/v1/contacts/<contact_id>"
ME = "/v1/routing/agents/me"

ROUTES = [
    Route(ME, "PUT", put_profile, "My routing profile: presence, skills and proficiency, capacity per channel, queues",
          request_model=ProfileBody, action="routing.desk"),
    Route(ME, "GET", get_profile, "My routing profile and load", action="routing.desk"),
    Route(f"{ME}/contacts", "GET", get_my_contacts, "The contacts I am offered and attend now", action="routing.desk"),
    Route("/v1/contacts", "POST", post_contact, "Offer a contact (call, chat, WhatsApp) to a queue (a connector)",
          request_model=ContactBody, status=201, idempotent_writes=True, links={"contact_id": "/id"},
          action="routing.connect"),
    Route(CONTACT, "GET", get_contact, "One contact: its state, queue, times and history",
          action="routing.contact.read"),
    Route(f"{CONTACT}/accept", "POST", post_accept, "Accept the contact offered to me", idempotent_writes=True,
          action="routing.desk"),
    Route(f"{CONTACT}/reject", "POST", post_reject, "Decline the contact offered to me", idempotent_writes=True,
          action="routing.desk"),
    Route(f"{CONTACT}/end", "POST", post_end, "End the contact I attend (its interaction is logged)",
          request_model=EndBody, idempotent_writes=True, action="routing.desk"),
    Route(f"{CONTACT}/abandon", "POST", post_abandon, "The caller left before being attended (a connector)",
          idempotent_writes=True, action="routing.connect"),
    Route("/v1/routing/queues/<queue>", "GET", get_queue, "A queue's routing configuration in force",
          action="routing.config.read"),
    Route("/v1/routing/queues/<queue>", "PUT", put_queue, "The next version of a queue's routing configuration",
          request_model=Proposal, action="routing.config.write"),
    Route("/v1/ivr-flows/<flow>", "GET", get_flow, "An IVR flow's version in force", action="routing.config.read"),
    Route("/v1/ivr-flows/<flow>", "PUT", put_flow, "The next version of an IVR flow", request_model=Proposal,
          action="routing.config.write"),
    Route("/v1/ivr/calls", "POST", post_call, "A call enters an IVR flow (a connector): what the caller hears",
          request_model=CallBody, status=201, idempotent_writes=True, links={"call_id": "/id"},
          action="routing.connect"),
    Route("/v1/ivr/calls/<call_id>/input", "POST", post_input, "The caller's key or intent: what they hear next, "
          "and at the end the contact in its queue", request_model=InputBody, idempotent_writes=True,
          action="routing.connect"),
    Route("/v1/routing/stats", "GET", get_stats, "A queue's day: offered, answered, abandoned, timed out, waits, "
          "handling, service level (JSON or CSV)", action="routing.report"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def routing_http(request: Request) -> Response:
    return http_api(request)


# ---- events ---------------------------------------------------------------------------------------------------

TICKETS: dict[str, type[TicketFact]] = {
    "issued": TicketIssued, "called": TicketCalled, "served": TicketServed, "no-show": TicketNoShow,
    "cancelled": TicketCancelled, "transferred": TicketTransferred,
}  # fmt: skip


def _on_ticket(state: str) -> Any:
    def handle(ctx: EventContext, data: Any) -> UnitOfWork:
        assert isinstance(data, TICKETS[state])
        return handlers.on_ticket(state, data, ports(), ctx.traceparent)

    return handle


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-routing-events",
    {
        **{f"es.madrid.pic.office.ticket.{state}.v1": _on_ticket(state) for state in TICKETS},
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def routing_events(event: CloudEvent) -> None:
    event_api(event)
