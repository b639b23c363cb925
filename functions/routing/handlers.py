"""Contact routing use cases: one function per command, question or event, over the domain's ports.

Every command reads the contact (and the agents it touches, the queue's configuration), decides with ``service``
and ``steps``, and stages the contact, the agents' loads and the facts in one unit of work, which it returns
(``Staged``); the entry point commits it and runs the handler again if the commit lost a race (two agents
accepting at once, the sweep timing an offer out while its agent accepts it). Nothing here knows HTTP,
CloudEvents or DynamoDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from events.base import EventData
from events.case import CaseRequested
from events.contact import ContactChannel, TicketFact
from events.rgpd import RgpdRequestOpened
from functions.core.assignment import next_for
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.routing import ivr, rights, service
from functions.routing.ivr import Flow
from functions.routing.service import AgentProfile, Contact, IvrCall, QueueConfig, RoutingStore
from functions.routing.steps import Decision

PRODUCER = "pic-routing"
QUEUE_HEAD = 10  # the waiting contacts read at the head of each queue an agent serves
MAX_OFFERS = 5  # offers made to one agent in one unit of work (an agent coming online with a large capacity)


@dataclass(frozen=True)
class RoutingPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: RoutingStore
    policy: Policy
    clock: Clock


def _emit(uow: UnitOfWork, data: EventData, subject: str, tp: str | None, now: datetime) -> None:
    stage_event(uow, data, subject=subject, traceparent=tp, now=now, producer=PRODUCER)


# ---- configuration: queues and IVR flows -------------------------------------------------------------------


def queue_of(queue: str, ports: RoutingPorts) -> QueueConfig:
    """The queue's configuration in force: stored, else the default of an ``<area>-l<level>`` queue."""
    found = ports.store.fetch_queue(queue) or service.default_queue(queue)
    if found is None:
        raise service.UnknownQueueError(f"no queue {queue!r}: configure it (PUT /v1/routing/queues/{queue}) or name "
                                        "an <area>-l<level> queue")  # fmt: skip
    return found


def put_queue(queue: str, proposed: Mapping[str, Any], ports: RoutingPorts) -> Staged[QueueConfig]:
    """The queue's next version, refused whole with every error named (the version in force stays)."""
    stored = ports.store.fetch_queue(queue)
    version = stored.version + 1 if stored else 1
    raw = {**proposed, "queue": queue, "version": version}
    errors = service.queue_errors(raw)
    then_queue = str(proposed.get("then_queue")) if not errors and proposed.get("then") == "queue" else queue
    if then_queue != queue and ports.store.fetch_queue(then_queue) is None and not service.default_queue(then_queue):
        errors = [{"field": "then_queue", "message": f"no queue {then_queue!r}: configure it first"}]
    if errors:
        raise service.InvalidQueueConfigError(f"{len(errors)} error(s) in queue {queue}", errors=errors)
    config = QueueConfig.model_validate(raw)
    uow = UnitOfWork()
    ports.store.stage_queue(uow, config, stored.version if stored else None)
    return Staged(uow, config)


def flow_of(name: str, ports: RoutingPorts, version: int | None = None) -> Flow:
    found = ports.store.fetch_flow(name, version)
    if found is None:
        raise service.IvrFlowNotFoundError(f"no IVR flow {name!r}" + (f" version {version}" if version else ""))
    return found


def put_flow(name: str, proposed: Mapping[str, Any], ports: RoutingPorts) -> Staged[Flow]:
    """The flow's next version, refused whole with every error named (the version in force stays)."""
    stored = ports.store.fetch_flow(name)
    raw = {**proposed, "flow": name, "version": stored.version + 1 if stored else 1}
    errors = service.flow_errors(raw)
    if errors:
        raise service.InvalidIvrFlowError(f"{len(errors)} error(s) in IVR flow {name}", errors=errors)
    flow = Flow.model_validate(raw)
    uow = UnitOfWork()
    ports.store.stage_flow(uow, flow, stored.version if stored else None)
    return Staged(uow, flow)


# ---- agents ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetProfile:
    agent_id: str
    level: int
    area: str
    presence: service.Presence
    skills: Mapping[str, int]
    capacity: Mapping[str, int]
    queues: tuple[str, ...]


def set_profile(cmd: SetProfile, ports: RoutingPorts, tp: str | None) -> Staged[AgentProfile]:
    """The agent's routing profile and presence; online with room, they are offered what waits in their queues."""
    configs = [queue_of(q, ports) for q in cmd.queues]
    before = ports.store.fetch_agent(cmd.agent_id)
    profile = AgentProfile(cmd.agent_id, cmd.level, cmd.area, cmd.presence, dict(cmd.skills), dict(cmd.capacity),
                           cmd.queues, dict(before.load) if before else {},
                           before.version if before else 0)  # fmt: skip
    service.check_queues(profile, configs)
    uow = UnitOfWork()
    profile = _offer_waiting(uow, profile, ports, tp, ports.clock.now())
    ports.store.stage_agent(uow, profile, before)
    return Staged(uow, profile)


def profile_of(agent_id: str, ports: RoutingPorts) -> AgentProfile | None:
    return ports.store.fetch_agent(agent_id)


def contacts_of(agent_id: str, ports: RoutingPorts) -> list[Contact]:
    return ports.store.fetch_of_agent(agent_id)


def _offer_waiting(uow: UnitOfWork, agent: AgentProfile, ports: RoutingPorts, tp: str | None, now: datetime,
                   skip: frozenset[str] = frozenset()) -> AgentProfile:  # fmt: skip
    """Offer the agent the most urgent contacts waiting in their queues that they may take (priority, then age),
    while they have room: the contacts staged, the agent returned with its load (the caller stages it once)."""
    if agent.presence != "online":
        return agent
    configs = {q: queue_of(q, ports) for q in agent.queues}
    waiting = {c.id: c for q in agent.queues for c in ports.store.fetch_waiting(q, QUEUE_HEAD) if c.id not in skip}
    for _ in range(MAX_OFFERS):
        works = {c.id: service.work_of(c, configs[c.queue], now) for c in waiting.values()
                 if agent.id not in c.declined and c.queue in configs}  # fmt: skip
        chosen = next_for(agent.as_agent(), works.values())
        if chosen is None:
            return agent
        contact = waiting.pop(chosen.id)
        config = configs[contact.queue]
        offered = service.offer(contact, agent.id, config, now)
        _stage_contact(uow, offered, contact.version, config, ports, now)
        _emit(uow, service.offered_event(offered, config, now), contact.id, tp, now)
        agent = agent.with_load(contact.channel, +1)
    return agent


# ---- a contact's life -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferContact:
    channel: ContactChannel
    queue: str
    priority: int
    citizen_id: str | None
    topic: str
    ivr: Mapping[str, Any]
    requester: str  # "role:id" of the connector
    request_id: str  # the connector's own id, or the Idempotency-Key


@dataclass(frozen=True)
class Opened:
    contact: Contact
    created: bool


def _stage_contact(uow: UnitOfWork, contact: Contact, read: int | None, config: QueueConfig | None,
                   ports: RoutingPorts, now: datetime) -> None:  # fmt: skip
    ports.store.stage_contact(uow, contact, read, service.next_look(contact, config, now))


def open_contact(cmd: OfferContact, ports: RoutingPorts, tp: str | None, skill: str | None = None) -> Staged[Opened]:
    """A connector offers a contact to a queue: routed at once (offered to an agent, or waiting); the same offer
    again answers the contact it opened."""
    uow = UnitOfWork()
    return Staged(uow, _open_into(uow, cmd, ports, tp, skill))


def _open_into(uow: UnitOfWork, cmd: OfferContact, ports: RoutingPorts, tp: str | None, skill: str | None) -> Opened:
    cid = service.contact_id(cmd.requester, cmd.request_id)
    existing = ports.store.fetch_contact(cid)
    if existing is not None:
        return Opened(existing, created=False)
    config = queue_of(cmd.queue, ports)
    now = ports.clock.now()
    contact = service.new_contact(cid, cmd.channel, config, cmd.priority, cmd.citizen_id, cmd.topic, cmd.ivr,
                                  cmd.requester, now)  # fmt: skip
    if skill:
        contact = replace(contact, skill=skill)
    return Opened(_route(uow, contact, None, config, ports, tp, now), created=True)


def _route(uow: UnitOfWork, contact: Contact, read: int | None, config: QueueConfig, ports: RoutingPorts,
           tp: str | None, now: datetime, busy: frozenset[str] = frozenset()) -> Contact:  # fmt: skip
    """Decide a waiting contact now: offer it to the least occupied agent the step in force admits (their load
    staged), wait, or fall back once every step expired; the contact staged under ``read``. ``busy``: agents
    this unit stages already (never offered here: one write per item in a unit)."""
    agents = {a.id: a for a in ports.store.fetch_agents(contact.queue) if a.id not in busy}
    decision = service.decide(contact, config, agents.values(), now)
    if decision.action == "offer" and decision.agent is not None:
        offered = service.offer(contact, decision.agent, config, now)
        agent = agents[decision.agent]
        ports.store.stage_agent(uow, agent.with_load(contact.channel, +1), agent)
        _stage_contact(uow, offered, read, config, ports, now)
        _emit(uow, service.offered_event(offered, config, now), contact.id, tp, now)
        return offered
    if decision.action == "wait":
        _stage_contact(uow, contact, read, config, ports, now)
        return contact
    target = queue_of(decision.queue, ports) if decision.action == "move" and decision.queue else None
    after = service.fall_back(contact, decision, target, now)
    _emit(uow, service.fell_back_event(contact, after, config, now), contact.id, tp, now)
    if after.state == "waiting" and target is not None:
        return _route(uow, after, read, target, ports, tp, now, busy)
    _stage_contact(uow, after, read, None, ports, now)
    if after.fallback == "case" and after.citizen_id and config.case_category:
        _emit(uow, _case_request(after, config), after.citizen_id, tp, now)
    return after


def _case_request(contact: Contact, config: QueueConfig) -> CaseRequested:
    """An expert queue's contact nobody could take, as a case in the area (the citizen is known)."""
    return CaseRequested.model_validate({
        "request_id": contact.id, "citizen_id": contact.citizen_id, "area": contact.area,
        "category": config.case_category, "channel": contact.channel, "priority": min(3, contact.priority),
        "subject": (contact.topic or f"Contacto sin atender en la cola {contact.queue}")[:200],
    })  # fmt: skip


def find_contact(contact_id: str, ports: RoutingPorts) -> Contact:
    found = ports.store.fetch_contact(contact_id)
    if found is None:
        raise service.ContactNotFoundError(f"no contact {contact_id!r}")
    return found


def _agent(agent_id: str, ports: RoutingPorts) -> AgentProfile:
    found = ports.store.fetch_agent(agent_id)
    if found is None:
        raise service.ContactNotOfferedError("you have no routing profile (PUT /v1/routing/agents/me first)")
    return found


def accept(contact_id: str, agent_id: str, ports: RoutingPorts, tp: str | None) -> Staged[Contact]:
    """The agent takes the contact offered to them: one of two accepting at once wins, the other loses its race
    and is answered ``contact-taken`` on what the winner wrote; an accept repeated changes nothing."""
    contact = find_contact(contact_id, ports)
    now = ports.clock.now()
    after = service.accept(contact, agent_id, now)
    uow = UnitOfWork()
    if after is None:
        return Staged(uow, contact)
    config = queue_of(contact.queue, ports)
    _stage_contact(uow, after, contact.version, config, ports, now)
    _emit(uow, service.accepted_event(after, config, now), contact.id, tp, now)
    return Staged(uow, after)


def reject(contact_id: str, agent_id: str, ports: RoutingPorts, tp: str | None) -> Staged[Contact]:
    """The agent declines: their place is free again (and offered what else waits), the contact goes to the next
    agent the step admits."""
    contact = find_contact(contact_id, ports)
    now = ports.clock.now()
    after = service.reject(contact, agent_id, now)
    config = queue_of(contact.queue, ports)
    uow = UnitOfWork()
    _emit(uow, service.rejected_event(after, agent_id, config, now), contact.id, tp, now)
    agent = _agent(agent_id, ports)
    after = _route(uow, after, contact.version, config, ports, tp, now, busy=frozenset({agent_id}))
    freed = _offer_waiting(uow, agent.with_load(contact.channel, -1), ports, tp, now, skip=frozenset({contact.id}))
    ports.store.stage_agent(uow, freed, agent)
    return Staged(uow, after)


def abandon(contact_id: str, ports: RoutingPorts, tp: str | None) -> Staged[Contact]:
    """The caller left before being attended (the connector says so): an offered agent's place is freed; the
    same again changes nothing."""
    contact = find_contact(contact_id, ports)
    now = ports.clock.now()
    after = service.abandon(contact, now)
    uow = UnitOfWork()
    if after is None:
        return Staged(uow, contact)
    config = ports.store.fetch_queue(contact.queue) or service.default_queue(contact.queue)
    _stage_contact(uow, after, contact.version, None, ports, now)
    _emit(uow, service.abandoned_event(contact, config, now), contact.id, tp, now)
    if contact.state == "offered" and contact.agent_id:
        agent = ports.store.fetch_agent(contact.agent_id)
        if agent is not None:
            ports.store.stage_agent(uow, agent.with_load(contact.channel, -1), agent)
    return Staged(uow, after)


@dataclass(frozen=True)
class EndContact:
    contact_id: str
    agent_id: str
    outcome: service.Outcome
    citizen_id: str | None
    topic: str | None


def end(cmd: EndContact, ports: RoutingPorts, tp: str | None) -> Staged[Contact]:
    """The agent finished: the contact's interaction is logged (INTX, with queue, wait and handling times) when
    the citizen is known, the agent's place is free and offered what waits; a repeated end changes nothing."""
    contact = find_contact(cmd.contact_id, ports)
    now = ports.clock.now()
    after = service.end(contact, cmd.agent_id, cmd.outcome, cmd.citizen_id, cmd.topic, now)
    uow = UnitOfWork()
    if after is None:
        return Staged(uow, contact)
    _stage_contact(uow, after, contact.version, None, ports, now)
    _emit(uow, service.ended_event(after, now), contact.id, tp, now)
    interaction = service.interaction_of(after)
    if interaction is not None and after.citizen_id:
        _emit(uow, interaction, after.citizen_id, tp, now)
    agent = _agent(cmd.agent_id, ports)
    freed = _offer_waiting(uow, agent.with_load(contact.channel, -1), ports, tp, now)
    ports.store.stage_agent(uow, freed, agent)
    return Staged(uow, after)


# ---- the sweep: offers that expire, steps that expire ----------------------------------------------------


def sweep_contact(contact_id: str, ports: RoutingPorts, tp: str | None) -> UnitOfWork:
    """A contact whose offer or routing step is due: an expired offer times out (the agent set away, as contact
    centres do) and the contact goes to the next agent; an expired step lowers the bar or falls back. A contact
    changed meanwhile (accepted, abandoned) is left as it is."""
    contact = ports.store.fetch_contact(contact_id)
    uow = UnitOfWork()
    if contact is None or contact.state not in ("waiting", "offered"):
        return uow
    now = ports.clock.now()
    config = queue_of(contact.queue, ports)
    if contact.state == "offered":
        if contact.offer_expires_at is None or contact.offer_expires_at > now or contact.agent_id is None:
            return uow
        agent_id = contact.agent_id
        after = service.time_out(contact, now)
        _emit(uow, service.timed_out_event(after, agent_id, config, now), contact.id, tp, now)
        agent = ports.store.fetch_agent(agent_id)
        if agent is not None:
            away = replace(agent.with_load(contact.channel, -1), presence="away")
            ports.store.stage_agent(uow, away, agent)
        _route(uow, after, contact.version, config, ports, tp, now, busy=frozenset({agent_id}))
        return uow
    _route(uow, contact, contact.version, config, ports, tp, now)
    return uow


# ---- IVR calls ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartCall:
    flow: str
    language: Literal["es", "en"]
    channel: ContactChannel
    citizen_id: str | None
    line: str
    requester: str
    request_id: str


@dataclass(frozen=True)
class CallStep:
    call: IvrCall
    said: tuple[str, ...]
    contact: Contact | None = None


def start_call(cmd: StartCall, ports: RoutingPorts, tp: str | None) -> Staged[CallStep]:
    """A call enters a flow (its version in force, kept for the whole call): what the caller hears first."""
    cid = service.call_id(cmd.requester, cmd.request_id)
    existing = ports.store.fetch_call(cid)
    uow = UnitOfWork()
    if existing is not None:
        flow = flow_of(existing.flow, ports, existing.flow_version)
        return Staged(uow, CallStep(existing, ivr.run(flow, [], existing.started_at, existing.language).said))
    flow = flow_of(cmd.flow, ports)
    now = ports.clock.now()
    call = IvrCall(cid, flow.flow, flow.version, cmd.language, now, cmd.requester, cmd.channel, cmd.citizen_id,
                   cmd.line)  # fmt: skip
    return _advance(uow, call, None, flow, (), ports, tp)


def call_input(call_id: str, answer: str, seq: int | None, ports: RoutingPorts, tp: str | None) -> Staged[CallStep]:
    """The caller pressed a key or said something the connector recognised: what they hear next, and at the end
    the contact created in the queue (or a callback, or the end of the call). ``seq`` (the number of answers the
    connector has sent before this one) makes a resent input a replay."""
    call = ports.store.fetch_call(call_id)
    if call is None:
        raise service.IvrCallNotFoundError(f"no IVR call {call_id!r}")
    flow = flow_of(call.flow, ports, call.flow_version)
    uow = UnitOfWork()
    if seq is not None and seq < len(call.answers):
        if call.answers[seq] != answer.strip().lower():
            raise service.IvrCallStateError(f"answer {seq} of call {call_id} was {call.answers[seq]!r}, not {answer!r}")
        outcome = ivr.run(flow, list(call.answers[: seq + 1]), call.started_at, call.language)
        before = ivr.run(flow, list(call.answers[:seq]), call.started_at, call.language)
        contact = (
            ports.store.fetch_contact(call.contact_id) if call.contact_id and seq + 1 == len(call.answers) else None
        )
        return Staged(uow, CallStep(call, outcome.said[len(before.said) :], contact))
    if call.state != "waiting" or (seq is not None and seq != len(call.answers)):
        raise service.IvrCallStateError(f"call {call_id} is {call.state} after {len(call.answers)} answer(s)")
    return _advance(uow, call, call.version, flow, (*call.answers, answer.strip().lower()), ports, tp)


def _advance(uow: UnitOfWork, call: IvrCall, read: int | None, flow: Flow, answers: tuple[str, ...],
             ports: RoutingPorts, tp: str | None) -> Staged[CallStep]:  # fmt: skip
    outcome = ivr.run(flow, list(answers), call.started_at, call.language)
    said = outcome.said[call.heard :]
    after = replace(call, answers=answers, state=outcome.kind if outcome.kind != "queue" else "queued",
                    node=outcome.node, heard=len(outcome.said), version=call.version + 1)  # fmt: skip
    contact = None
    if outcome.kind in ("queue", "callback") and outcome.queue:
        context = {"flow": flow.flow, "flow_version": flow.version, "answers": list(answers), "line": call.line,
                   "call_id": call.id}  # fmt: skip
        cmd = OfferContact(call.channel, outcome.queue, outcome.priority, call.citizen_id, "", context,
                           f"ivr:{call.id}", call.id)  # fmt: skip
        if outcome.kind == "queue":
            contact = _open_into(uow, cmd, ports, tp, outcome.skill).contact
        else:
            contact = _callback(uow, cmd, ports, tp)
        after = replace(after, contact_id=contact.id)
    ports.store.stage_call(uow, after, read)
    return Staged(uow, CallStep(after, said, contact))


def _callback(uow: UnitOfWork, cmd: OfferContact, ports: RoutingPorts, tp: str | None) -> Contact:
    """The flow offers a call back (out of hours, the caller chose it): the contact is recorded as such."""
    config = queue_of(cmd.queue, ports)
    now = ports.clock.now()
    contact = service.new_contact(service.contact_id(cmd.requester, cmd.request_id), cmd.channel, config,
                                  cmd.priority, cmd.citizen_id, cmd.topic, cmd.ivr, cmd.requester, now)  # fmt: skip
    decision = Decision("callback", len(config.steps))
    after = service.fall_back(contact, decision, None, now)
    _stage_contact(uow, after, None, None, ports, now)
    _emit(uow, service.fell_back_event(contact, after, config, now), contact.id, tp, now)
    return after


# ---- the offices' queue manager -----------------------------------------------------------------------------


def on_ticket(state: str, data: TicketFact, ports: RoutingPorts, tp: str | None) -> UnitOfWork:
    """A ticket's event: its times kept for the statistics; served or missed, an office visit is logged (INTX)
    when who it was is known. Events may come out of order; a state never goes back."""
    tid = service.ticket_id(data.office, data.ticket, data.issued_at)
    existing = ports.store.fetch_ticket(tid)
    after = service.apply_ticket(existing, state, data)
    uow = UnitOfWork()
    ports.store.stage_ticket(uow, after, existing.version if existing else None)
    was_final = existing is not None and existing.state in service.FINAL
    if state in ("served", "no-show") and after.state == state and not was_final:
        outcome = getattr(data, "outcome", "resolved")
        visit = service.visit_of(after, outcome)
        if visit is not None:
            subject = visit.citizen_id or (f"{visit.record.source}#{visit.record.local_id}" if visit.record else "")
            _emit(uow, visit, subject, tp, ports.clock.now())
    return uow


# ---- statistics ---------------------------------------------------------------------------------------------


def queue_stats(queue: str, day: str, ports: RoutingPorts) -> dict[str, Any]:
    contacts, tickets = ports.store.fetch_day(queue, day)
    config = ports.store.fetch_queue(queue) or service.default_queue(queue)
    threshold = config.service_level_seconds if config else 20.0
    return service.stats(queue, day, contacts, tickets, threshold)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: RoutingPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
