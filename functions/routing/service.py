"""Contact routing (CCAAS), pure rules: the contact's state machine, the queues' configuration as versioned data,
agents' routing profiles, the offices' tickets, the statistics, and the domain's port.

A contact (a call, a chat, a WhatsApp conversation a connector offers) waits in a queue; the queue's routing steps
(``steps.py``) say which agents may take it as it waits, and the least occupied of them is offered it
(``functions.core.assignment``: one rule with cases). An offer expires after the queue's ``offer_seconds``: the
agent is set away and the contact goes to the next agent. After the last step the queue's fallback applies
(another queue, a callback, a case). The states::

    waiting --offer--> offered --accept--> active --end--> ended
       ^                  |  reject / time out
       +------------------+
    waiting | offered --abandon--> abandoned          waiting --steps spent--> fallen-back (or moved: waiting)

An agent's load counts the contacts offered to them and those they attend, per channel (calls 1, chats N), so an
agent is never offered more than their capacity; it moves in the same unit of work as the contact.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from events.contact import (
    ContactAbandoned,
    ContactAccepted,
    ContactChannel,
    ContactEnded,
    ContactFact,
    ContactFellBack,
    ContactOffered,
    ContactRejected,
    ContactState,
    ContactTimedOut,
    TicketFact,
)
from events.interaction import InteractionRecorded
from functions.core.assignment import Agent, Work
from functions.core.clock import MADRID
from functions.core.errors import NotFoundError, PicError, each_error
from functions.routing.ivr import Flow
from functions.routing.steps import Criteria, Decision, Step, current_step, route

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

NAME = r"^[a-z0-9][a-z0-9-]{0,47}$"
Presence = Literal["online", "busy", "away", "offline"]
Outcome = Literal["resolved", "redirected", "pending"]
GENERAL_AREA = "atencion-ciudadania"  # level 1 is general attention: an agent's area there names no speciality


# ---- errors -------------------------------------------------------------------------------------------------


class ContactNotFoundError(NotFoundError):
    slug, title = "contact-not-found", "No such contact"


class ContactStateError(PicError):
    status, slug, title = 409, "contact-state", "The contact is not in a state that allows this"


class ContactTakenError(PicError):
    status, slug, title = 409, "contact-taken", "Another agent has this contact"


class ContactNotOfferedError(PicError):
    status, slug, title = 409, "contact-not-offered", "This contact was not offered to you"


class QueueLevelError(PicError):
    status, slug, title = 422, "queue-level", "The queue is above your level or outside your area"


class UnknownQueueError(PicError):
    status, slug, title = 422, "unknown-queue", "No such queue"


class InvalidQueueConfigError(PicError):
    status, slug, title = (
        422,
        "invalid-queue-config",
        "The queue's configuration is not valid; the version in force stays",
    )


class InvalidIvrFlowError(PicError):
    status, slug, title = 422, "invalid-ivr-flow", "The IVR flow is not valid; the version in force stays"


class IvrFlowNotFoundError(NotFoundError):
    slug, title = "ivr-flow-not-found", "No such IVR flow"


class IvrCallNotFoundError(NotFoundError):
    slug, title = "ivr-call-not-found", "No such IVR call"


class IvrCallStateError(PicError):
    status, slug, title = 409, "ivr-call-state", "The IVR call is not waiting for this input"


# ---- queues as data -----------------------------------------------------------------------------------------


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_proficiency: int = Field(ge=1, le=5)
    seconds: float | None = Field(None, gt=0, le=86400, description="how long the step lasts (none: the last)")


class QueueConfig(BaseModel):
    """A queue's routing, one version of it: who takes its contacts (level, area, skill), its routing steps with
    their expiry and what follows them, how long an offer waits for the agent, and its service-level threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field(pattern=NAME)
    version: int = Field(ge=1)
    area: str = Field(pattern=NAME)
    level: int = Field(ge=1, le=3)
    skill: str | None = Field(None, pattern=NAME, description="the skill its contacts need (the steps' bars)")
    steps: list[StepConfig] = Field(min_length=1, max_length=10)
    then: Literal["queue", "callback", "case"] = "callback"
    then_queue: str | None = Field(None, pattern=NAME)
    case_category: str | None = Field(None, pattern=NAME, description="the case's category when it falls back to one")
    offer_seconds: float = Field(20, gt=0, le=600, description="an offer not accepted by then times out")
    service_level_seconds: float = Field(20, gt=0, le=3600, description="answered within this counts as in level")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if any(s.seconds is None for s in self.steps[:-1]):
            problems.append("steps: only the last step may have no expiry")
        if self.then == "queue" and not self.then_queue:
            problems.append("then_queue: then is queue, so name the queue it moves to")
        if self.then == "queue" and self.then_queue == self.queue:
            problems.append("then_queue: a queue cannot fall back to itself")
        if self.level == 3 and self.then == "queue":
            problems.append("then: an expert queue (level 3) falls back to a callback or a case, never another queue")
        if self.then == "case" and not self.case_category:
            problems.append("case_category: then is case, so name the case's category")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def criteria(self) -> Criteria:
        steps = tuple(Step(s.min_proficiency, s.seconds) for s in self.steps)
        return Criteria(steps, self.then, self.then_queue)


def default_queue(queue: str) -> QueueConfig | None:
    """A queue nobody configured yet, named ``<area>-l<level>`` (as cases' queues are): offered to any agent of
    its level and area, no expiry."""
    area, _, level = queue.rpartition("-l")
    if not area or level not in ("1", "2", "3"):
        return None
    return QueueConfig(queue=queue, version=1, area=area, level=int(level), steps=[StepConfig(min_proficiency=1)])


def queue_errors(raw: object) -> list[dict[str, Any]]:
    try:
        QueueConfig.model_validate(raw)
    except ValidationError as exc:
        return each_error(exc)
    return []


def flow_errors(raw: object) -> list[dict[str, Any]]:
    try:
        Flow.model_validate(raw)
    except ValidationError as exc:
        return each_error(exc)
    return []


# ---- agents ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentProfile:
    """An agent's routing profile: level and area from their token, skills with proficiency (1-5), capacity per
    channel, the queues they serve, their presence for contacts, and their load (offered + attended)."""

    id: str
    level: int
    area: str
    presence: Presence = "offline"
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=dict)
    queues: tuple[str, ...] = ()
    load: Mapping[str, int] = field(default_factory=dict)
    version: int = 0

    def as_agent(self) -> Agent:
        return Agent(self.id, self.level, frozenset({self.area}), self.presence, self.skills, self.capacity,
                     self.load)  # fmt: skip

    def with_load(self, channel: str, delta: int) -> AgentProfile:
        return replace(self, load={**self.load, channel: max(0, self.load.get(channel, 0) + delta)})

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "area": self.area, "presence": self.presence,
                "skills": dict(self.skills), "capacity": dict(self.capacity), "queues": list(self.queues),
                "load": dict(self.load)}  # fmt: skip


def check_queues(profile: AgentProfile, configs: Iterable[QueueConfig]) -> None:
    """An agent serves only queues of their level or below and, from level 2, of their area."""
    for config in configs:
        if config.level > profile.level or (config.level > 1 and config.area != profile.area):
            raise QueueLevelError(
                f"queue {config.queue} is for level {config.level} of {config.area}; you are level {profile.level}"
                f" of {profile.area}"
            )


# ---- contacts ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: datetime
    what: str  # queued, offered, accepted, rejected, timed-out, abandoned, ended, moved, fell-back
    agent: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class Contact:
    id: str
    channel: ContactChannel
    queue: str
    area: str
    level: int
    priority: int
    created_at: datetime
    queued_at: datetime  # when it entered its current queue (its steps count from here)
    state: ContactState = "waiting"
    skill: str | None = None
    citizen_id: str | None = None
    agent_id: str | None = None
    offer_expires_at: datetime | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    fallback: str | None = None
    declined: tuple[str, ...] = ()  # agents who rejected it or let the offer time out: not offered it again
    topic: str = ""
    ivr: Mapping[str, Any] = field(default_factory=dict)
    requested_by: str = ""
    history: tuple[Entry, ...] = ()
    version: int = 0

    @property
    def day(self) -> str:
        """The Madrid day it entered its queue: what the statistics group by."""
        return self.queued_at.astimezone(MADRID).strftime("%Y-%m-%d")

    def waited(self, now: datetime) -> float:
        return max(0.0, ((self.accepted_at or now) - self.queued_at).total_seconds())


def contact_id(requester: str, request_id: str) -> str:
    """PIC's id: stable for (connector, the connector's own id), so an offer sent twice opens one contact."""
    return "ctc-" + hashlib.sha256(f"{requester}\n{request_id}".encode()).hexdigest()[:24]


def new_contact(cid: str, channel: ContactChannel, config: QueueConfig, priority: int, citizen_id: str | None,
                topic: str, ivr: Mapping[str, Any], requester: str, now: datetime) -> Contact:  # fmt: skip
    return Contact(id=cid, channel=channel, queue=config.queue, area=config.area, level=config.level,
                   priority=priority, created_at=now, queued_at=now, skill=config.skill, citizen_id=citizen_id,
                   topic=topic, ivr=dict(ivr), requested_by=requester, version=1,
                   history=(Entry(now, "queued", queue=config.queue),))  # fmt: skip


def step_of(contact: Contact, config: QueueConfig, now: datetime) -> int | None:
    return current_step(config.criteria, (now - contact.queued_at).total_seconds())


def work_of(contact: Contact, config: QueueConfig, now: datetime) -> Work:
    """The contact as work for the kernel's assignment rule, at the bar of the step in force."""
    index = step_of(contact, config, now)
    bar = config.steps[index].min_proficiency if index is not None else config.steps[-1].min_proficiency
    return Work(contact.id, contact.area, contact.level, contact.channel, contact.queued_at, priority=contact.priority,
                skill=contact.skill, min_proficiency=bar if contact.skill else 1)  # fmt: skip


def decide(contact: Contact, config: QueueConfig, agents: Iterable[AgentProfile], now: datetime) -> Decision:
    """Who is offered a waiting contact now (``steps.route``), never an agent who declined it already."""
    candidates = [a.as_agent() for a in agents if a.id not in contact.declined]
    base = replace(work_of(contact, config, now), min_proficiency=1)
    return route(base, config.criteria, candidates, (now - contact.queued_at).total_seconds())


def next_look(contact: Contact, config: QueueConfig | None, now: datetime) -> datetime | None:
    """When the sweep must look at the contact: its offer's expiry, or the end of its routing step in force (now,
    if every step has expired already)."""
    if contact.state == "offered":
        return contact.offer_expires_at
    if contact.state != "waiting" or config is None:
        return None
    end = contact.queued_at
    for step in config.steps:
        if step.seconds is None:
            return None
        end += timedelta(seconds=step.seconds)
        if end > now:
            return end
    return now


def offer(contact: Contact, agent: str, config: QueueConfig, now: datetime) -> Contact:
    expires = now + timedelta(seconds=config.offer_seconds)
    return replace(contact, state="offered", agent_id=agent, offer_expires_at=expires,
                   history=(*contact.history, Entry(now, "offered", agent)), version=contact.version + 1)  # fmt: skip


def accept(contact: Contact, agent: str, now: datetime) -> Contact | None:
    """The agent takes the contact offered to them; ``None`` if they already have it (a repeated accept)."""
    if contact.state == "active" and contact.agent_id == agent:
        return None
    if contact.state == "offered" and contact.agent_id == agent:
        return replace(contact, state="active", accepted_at=now, offer_expires_at=None,
                       history=(*contact.history, Entry(now, "accepted", agent)),
                       version=contact.version + 1)  # fmt: skip
    _refuse(contact, agent, "accept")


def _refuse(contact: Contact, agent: str, what: str) -> NoReturn:
    """Why ``agent`` may not ``what`` the contact: someone else has it (409), it was withdrawn from them (409), it
    was never theirs (403), or it is over (409)."""
    offered_to = {e.agent for e in contact.history if e.what == "offered"}
    if contact.state in ("offered", "active") and contact.agent_id != agent and agent in offered_to:
        raise ContactTakenError(f"contact {contact.id} went to another agent after your offer was withdrawn")
    if agent not in offered_to:
        raise ContactNotOfferedError(f"contact {contact.id} was not offered to you")
    if contact.state in ("waiting",):
        raise ContactTakenError(f"your offer of contact {contact.id} was withdrawn; it waits for the next agent")
    raise ContactStateError(f"contact {contact.id} is {contact.state}: you cannot {what} it")


def reject(contact: Contact, agent: str, now: datetime) -> Contact:
    if contact.state != "offered" or contact.agent_id != agent:
        _refuse(contact, agent, "reject")
    return replace(contact, state="waiting", agent_id=None, offer_expires_at=None, declined=(*contact.declined, agent),
                   history=(*contact.history, Entry(now, "rejected", agent)), version=contact.version + 1)  # fmt: skip


def time_out(contact: Contact, now: datetime) -> Contact:
    assert contact.agent_id is not None
    return replace(contact, state="waiting", agent_id=None, offer_expires_at=None,
                   declined=(*contact.declined, contact.agent_id),
                   history=(*contact.history, Entry(now, "timed-out", contact.agent_id)),
                   version=contact.version + 1)  # fmt: skip


def abandon(contact: Contact, now: datetime) -> Contact | None:
    """The caller left: ``None`` if it was already abandoned (a redelivery)."""
    if contact.state == "abandoned":
        return None
    if contact.state not in ("waiting", "offered"):
        raise ContactStateError(f"contact {contact.id} is {contact.state}: only a waiting contact is abandoned")
    return replace(contact, state="abandoned", ended_at=now, offer_expires_at=None,
                   history=(*contact.history, Entry(now, "abandoned", contact.agent_id)),
                   version=contact.version + 1)  # fmt: skip


def end(contact: Contact, agent: str, outcome: Outcome, citizen_id: str | None, topic: str | None,
        now: datetime) -> Contact | None:  # fmt: skip
    """The agent finished attending; ``None`` if they already ended it (a repeated end)."""
    if contact.state == "ended" and contact.agent_id == agent:
        return None
    if contact.state != "active" or contact.agent_id != agent:
        _refuse(contact, agent, "end")
    return replace(contact, state="ended", ended_at=now, outcome=outcome, citizen_id=contact.citizen_id or citizen_id,
                   topic=topic or contact.topic, history=(*contact.history, Entry(now, "ended", agent)),
                   version=contact.version + 1)  # fmt: skip


def fall_back(contact: Contact, decision: Decision, target: QueueConfig | None, now: datetime) -> Contact:
    """Every step expired: into the next queue (its steps from the start), or out to a callback or a case."""
    if decision.action == "move" and target is not None:
        return replace(contact, queue=target.queue, area=target.area, level=target.level, skill=target.skill,
                       queued_at=now, declined=(), history=(*contact.history, Entry(now, "moved", queue=target.queue)),
                       version=contact.version + 1)  # fmt: skip
    to = "case" if decision.action == "case" and contact.citizen_id else "callback"
    return replace(contact, state="fallen-back", fallback=to, ended_at=now,
                   history=(*contact.history, Entry(now, "fell-back", queue=to)),
                   version=contact.version + 1)  # fmt: skip


# ---- what contacts announce ---------------------------------------------------------------------------------


def _fact(contact: Contact, config: QueueConfig | None, now: datetime) -> dict[str, Any]:
    step = step_of(contact, config, now) if config else None
    return {"contact_id": contact.id, "channel": contact.channel, "queue": contact.queue, "area": contact.area,
            "level": contact.level, "priority": contact.priority,
            "step": step if step is not None else (len(config.steps) if config else 0),
            "citizen_id": contact.citizen_id, "at": now}  # fmt: skip


def offered_event(contact: Contact, config: QueueConfig, now: datetime) -> ContactOffered:
    assert contact.agent_id and contact.offer_expires_at
    return ContactOffered(**_fact(contact, config, now), agent_id=contact.agent_id, expires_at=contact.offer_expires_at)


def accepted_event(contact: Contact, config: QueueConfig, now: datetime) -> ContactAccepted:
    assert contact.agent_id
    return ContactAccepted(**_fact(contact, config, now), agent_id=contact.agent_id, wait_seconds=contact.waited(now))


def rejected_event(contact: Contact, agent: str, config: QueueConfig, now: datetime) -> ContactRejected:
    return ContactRejected(**_fact(contact, config, now), agent_id=agent)


def timed_out_event(contact: Contact, agent: str, config: QueueConfig, now: datetime) -> ContactTimedOut:
    return ContactTimedOut(**_fact(contact, config, now), agent_id=agent)


def abandoned_event(contact: Contact, config: QueueConfig | None, now: datetime) -> ContactAbandoned:
    return ContactAbandoned(**_fact(contact, config, now), wait_seconds=contact.waited(now))


def ended_event(contact: Contact, now: datetime) -> ContactEnded:
    assert contact.agent_id and contact.accepted_at and contact.outcome
    return ContactEnded(**_fact(contact, None, now), agent_id=contact.agent_id, wait_seconds=contact.waited(now),
                        handling_seconds=(now - contact.accepted_at).total_seconds(),
                        outcome=contact.outcome)  # type: ignore[arg-type]  # fmt: skip


def fell_back_event(before: Contact, after: Contact, config: QueueConfig, now: datetime) -> ContactFellBack:
    to = "queue" if after.state == "waiting" else after.fallback
    return ContactFellBack(**_fact(before, config, now), to=to, to_queue=after.queue if to == "queue" else None)  # type: ignore[arg-type]


def fact_types() -> tuple[type[ContactFact], ...]:
    return (ContactOffered, ContactAccepted, ContactRejected, ContactTimedOut, ContactAbandoned, ContactEnded,
            ContactFellBack)  # fmt: skip


def interaction_of(contact: Contact) -> InteractionRecorded | None:
    """The attended contact as an interaction of the log (INTX), when the citizen is known: its queue, wait and
    handling times. An anonymous contact stays in the statistics only (the log is about people)."""
    if not contact.citizen_id or contact.accepted_at is None or contact.ended_at is None:
        return None
    timing = {"queue": contact.queue, "wait_seconds": round(contact.waited(contact.ended_at), 3),
              "handling_seconds": round((contact.ended_at - contact.accepted_at).total_seconds(), 3)}  # fmt: skip
    if contact.channel == "call":
        channel: dict[str, Any] = {"kind": "call", "direction": "inbound", "line": str(contact.ivr.get("line", "010")),
                                   **timing}  # fmt: skip
    elif contact.channel == "chat":
        channel = {"kind": "chat", "conversation_id": contact.id, **timing}
    else:
        channel = {"kind": "whatsapp", "conversation_id": contact.id, "direction": "inbound", **timing}
    return InteractionRecorded.model_validate({
        "interaction_id": contact.id, "citizen_id": contact.citizen_id, "channel": channel, "area": contact.area,
        "topic": contact.topic or f"{contact.channel} en la cola {contact.queue}", "outcome": contact.outcome,
        "started_at": contact.created_at, "ended_at": contact.ended_at, "agent_id": contact.agent_id,
    })  # fmt: skip


def view(contact: Contact) -> dict[str, Any]:
    """The API's view of a contact (the citizen's id only through ``GET /v1/contacts/{id}``, with a purpose)."""
    return {
        "id": contact.id, "channel": contact.channel, "queue": contact.queue, "area": contact.area,
        "level": contact.level, "priority": contact.priority, "state": contact.state, "agent_id": contact.agent_id,
        "created_at": contact.created_at.isoformat(), "queued_at": contact.queued_at.isoformat(),
        "offer_expires_at": _iso(contact.offer_expires_at), "accepted_at": _iso(contact.accepted_at),
        "ended_at": _iso(contact.ended_at), "outcome": contact.outcome, "fallback": contact.fallback,
        "citizen_known": contact.citizen_id is not None, "topic": contact.topic, "ivr": dict(contact.ivr),
        "history": [{"at": e.at.isoformat(), "what": e.what, "agent": e.agent, "queue": e.queue}
                    for e in contact.history],
    }  # fmt: skip


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


# ---- the offices' tickets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """A queue manager's ticket as this domain keeps it for the statistics: its times and state."""

    id: str
    office: str
    ticket: str
    queue: str
    service: str
    area: str
    issued_at: datetime
    state: str = "issued"
    called_at: datetime | None = None
    ended_at: datetime | None = None
    desk: str | None = None
    agent_id: str | None = None
    citizen_id: str | None = None
    record: Mapping[str, str] | None = None
    version: int = 0

    @property
    def day(self) -> str:
        return self.issued_at.astimezone(MADRID).strftime("%Y-%m-%d")


FINAL = ("served", "no-show", "cancelled", "transferred")
RANK = {"issued": 0, "called": 1, **{state: 2 for state in FINAL}}


def ticket_id(office: str, ticket: str, issued_at: datetime) -> str:
    return f"tkt-{office}-{issued_at.astimezone(MADRID).strftime('%Y%m%d')}-{ticket}"


def apply_ticket(existing: Ticket | None, state: str, data: TicketFact) -> Ticket:
    """The ticket after one of its events; a later state never goes back (events may arrive out of order)."""
    base = existing or Ticket(ticket_id(data.office, data.ticket, data.issued_at), data.office, data.ticket,
                              data.queue, data.service, data.area, data.issued_at)  # fmt: skip
    extra: dict[str, Any] = {"citizen_id": data.citizen_id or base.citizen_id,
                             "record": data.record.model_dump() if data.record else base.record}  # fmt: skip
    desk, agent = getattr(data, "desk", None), getattr(data, "agent_id", None)
    if state == "called":
        extra |= {"called_at": data.at, "desk": desk or base.desk, "agent_id": agent or base.agent_id}
    elif state in ("served", "no-show", "cancelled", "transferred"):
        extra |= {"ended_at": data.at, "desk": desk or base.desk, "agent_id": agent or base.agent_id}
    if (existing is not None and RANK[state] < RANK[base.state]) or base.state in FINAL:
        called = data.at if state == "called" and base.called_at is None else base.called_at  # a late call's time
        return replace(base, citizen_id=extra["citizen_id"], record=extra["record"], called_at=called,
                       version=base.version + 1)  # fmt: skip
    return replace(base, **extra, state=state, version=base.version + 1)


def visit_of(ticket: Ticket, outcome: str) -> InteractionRecorded | None:
    """A served or missed ticket as an office visit of the interaction log, when who it was is known."""
    if ticket.citizen_id is None and ticket.record is None:
        return None
    wait = (ticket.called_at - ticket.issued_at).total_seconds() if ticket.called_at else None
    handling = (ticket.ended_at - ticket.called_at).total_seconds() if ticket.ended_at and ticket.called_at else None
    return InteractionRecorded.model_validate({
        "interaction_id": ticket.id, "citizen_id": ticket.citizen_id, "record": ticket.record,
        "channel": {"kind": "office-visit", "office": ticket.office, "service": ticket.service, "ticket": ticket.ticket,
                    "issued_at": ticket.issued_at, "called_at": ticket.called_at, "desk": ticket.desk,
                    "wait_seconds": wait if ticket.state == "served" else None,
                    "handling_seconds": handling if ticket.state == "served" else None},
        "area": ticket.area, "topic": ticket.service,
        "outcome": outcome if ticket.state == "served" else "abandoned",
        "started_at": ticket.issued_at, "ended_at": ticket.ended_at, "agent_id": ticket.agent_id,
    })  # fmt: skip


# ---- IVR calls ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IvrCall:
    """A call in an IVR flow: the version it started on, the caller's answers so far, where it is."""

    id: str
    flow: str
    flow_version: int
    language: Literal["es", "en"]
    started_at: datetime
    requested_by: str
    channel: ContactChannel = "call"
    citizen_id: str | None = None
    line: str = "010"
    answers: tuple[str, ...] = ()
    state: Literal["waiting", "queued", "callback", "hangup"] = "waiting"
    node: str = ""
    heard: int = 0  # how many prompts the caller has heard (the next answer says only what is new)
    contact_id: str | None = None
    version: int = 0


def call_id(requester: str, request_id: str) -> str:
    return "ivr-" + hashlib.sha256(f"{requester}\n{request_id}".encode()).hexdigest()[:24]


def call_view(call: IvrCall, said: Iterable[str]) -> dict[str, Any]:
    return {"id": call.id, "flow": call.flow, "flow_version": call.flow_version, "state": call.state,
            "node": call.node, "say": list(said), "answers": list(call.answers), "contact_id": call.contact_id,
            "started_at": call.started_at.isoformat()}  # fmt: skip


# ---- statistics ---------------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 3)  # nearest rank


def stats(queue: str, day: str, contacts: Iterable[Contact], tickets: Iterable[Ticket],
          service_level_seconds: float) -> dict[str, Any]:  # fmt: skip
    """A queue's day: offered, answered, abandoned, timed out (offers), wait p50/p90 of the answered, mean
    handling time, and the service level (answered within the threshold, of those offered that did not fall
    back or still wait)."""
    waits: list[float] = []
    handling: list[float] = []
    offered = answered = abandoned = timed_out = within = finished = 0
    for c in contacts:
        offered += 1
        timed_out += sum(1 for e in c.history if e.what == "timed-out")
        if c.accepted_at is not None:
            answered += 1
            waits.append(c.waited(c.accepted_at))
            within += c.waited(c.accepted_at) <= service_level_seconds
            if c.ended_at is not None:
                handling.append((c.ended_at - c.accepted_at).total_seconds())
        abandoned += c.state == "abandoned"
        finished += c.accepted_at is not None or c.state == "abandoned"
    for t in tickets:
        offered += 1
        attended = t.state == "served" or (t.called_at is not None and t.state not in ("no-show", "cancelled"))
        answered += attended
        if attended and t.called_at is not None:  # a ticket served before its call was heard of has no wait
            wait = (t.called_at - t.issued_at).total_seconds()
            waits.append(wait)
            within += wait <= service_level_seconds
            if t.ended_at is not None and t.state == "served":
                handling.append((t.ended_at - t.called_at).total_seconds())
        abandoned += t.state in ("no-show", "cancelled")
        finished += attended or t.state in ("no-show", "cancelled")
    return {
        "queue": queue, "date": day, "offered": offered, "answered": answered, "abandoned": abandoned,
        "timed_out": timed_out, "wait_p50_seconds": _percentile(waits, 0.5),
        "wait_p90_seconds": _percentile(waits, 0.9),
        "mean_handling_seconds": round(statistics.fmean(handling), 3) if handling else None,
        "service_level_seconds": service_level_seconds,
        "service_level": round(within / finished, 4) if finished else None,
    }  # fmt: skip


# ---- the domain's port ------------------------------------------------------------------------------------


class RoutingStore(Protocol):
    """What routing reads and stages (``storage.DynamoRoutingStore``; an in-memory fake in the unit tests). Every
    item is written under the version read, so two writers of one contact or one agent never both win."""

    def fetch_contact(self, contact_id: str) -> Contact | None: ...
    def fetch_waiting(self, queue: str, limit: int) -> list[Contact]:
        """The head of a queue's waiting contacts, by priority then age."""
        ...

    def fetch_due(self, now: datetime, limit: int) -> list[Contact]:
        """Contacts whose offer or routing step expires by ``now``."""
        ...

    def fetch_of_agent(self, agent_id: str) -> list[Contact]:
        """The contacts offered to or attended by the agent now."""
        ...

    def fetch_by_citizen(self, citizen_id: str) -> list[Contact]: ...
    def fetch_day(self, queue: str, day: str) -> tuple[list[Contact], list[Ticket]]: ...
    def fetch_agent(self, agent_id: str) -> AgentProfile | None: ...
    def fetch_agents(self, queue: str) -> list[AgentProfile]:
        """The agents who serve the queue (its roster)."""
        ...

    def fetch_queue(self, queue: str) -> QueueConfig | None: ...
    def fetch_flow(self, name: str, version: int | None = None) -> Flow | None: ...
    def fetch_call(self, call_id: str) -> IvrCall | None: ...
    def fetch_ticket(self, ticket_id: str) -> Ticket | None: ...
    def fetch_tickets_by_citizen(self, citizen_id: str) -> list[Ticket]: ...

    def stage_contact(self, uow: UnitOfWork, contact: Contact, read_version: int | None,
                      next_at: datetime | None) -> None: ...  # fmt: skip
    def stage_erase_contact(self, uow: UnitOfWork, contact: Contact) -> None: ...
    def stage_agent(self, uow: UnitOfWork, agent: AgentProfile, before: AgentProfile | None) -> None: ...
    def stage_queue(self, uow: UnitOfWork, config: QueueConfig, current: int | None) -> None: ...
    def stage_flow(self, uow: UnitOfWork, flow: Flow, current: int | None) -> None: ...
    def stage_call(self, uow: UnitOfWork, call: IvrCall, read_version: int | None) -> None: ...
    def stage_ticket(self, uow: UnitOfWork, ticket: Ticket, read_version: int | None) -> None: ...
    def stage_erase_ticket(self, uow: UnitOfWork, ticket: Ticket) -> None: ...
