"""Case use cases: one function per command, question or event, over the domain's ports.

Every command reads the case (and what it needs: the area's configuration, the agents of a queue), decides with
``service`` and stages the new version of the case with its ``case.updated`` fact in one unit of work, which it
returns (``Staged``); the entry point commits it and runs the handler again if the commit lost a race (another
agent acted on the same case, the same agent's load changed). An agent's load moves in the same unit as the case
that takes or frees a place. Nothing here knows HTTP, CloudEvents or DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from events.case import CaseRequested
from events.notification import NotificationRequested
from events.rgpd import RgpdRequestOpened
from functions.case import config as config_
from functions.case import report, rights, service
from functions.case.config import AreaConfig
from functions.case.service import Actor, AgentState, Case, CaseStore
from functions.core.assignment import next_for, pick_agent
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork

POLICY = "case"
QUEUE_HEAD = 10  # the cases read at the head of each queue an agent pulls from
CSAT_TEMPLATE = "pic-case-csat"


@dataclass(frozen=True)
class CasePorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: CaseStore
    policy: Policy
    clock: Clock


# ---- configuration ----------------------------------------------------------------------------------------


def config_of(area: str, ports: CasePorts) -> AreaConfig:
    """The area's configuration in force: the stored version, else the shipped one (``UnknownAreaError``)."""
    found = ports.store.fetch_config(area) or config_.defaults().get(area)
    if found is None:
        known = ", ".join(sorted(config_.defaults()))
        raise service.UnknownAreaError(f"no case configuration for area {area!r} (areas: {known})")
    return found


def put_config(area: str, proposed: dict[str, Any], ports: CasePorts) -> Staged[AreaConfig]:
    """The proposed configuration as the area's next version, refused whole with every error named (the version
    in force stays)."""
    stored = ports.store.fetch_config(area)
    current = stored or config_.defaults().get(area)
    errors = config_.errors_of({**proposed, "area": area, "version": (current.version + 1) if current else 1})
    if errors:
        raise service.InvalidConfigError(f"{len(errors)} error(s) in the configuration of {area}", errors=errors)
    new = config_.next_version(current, {**proposed, "area": area})
    uow = UnitOfWork()
    ports.store.stage_config(uow, new, stored.version if stored else None)
    return Staged(uow, new)


# ---- opening a case ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    request: CaseRequested
    requester: str  # "role:id" of an HTTP caller, or the source of an event
    request_id: str  # the requester's id, the Idempotency-Key or the CloudEvent id


@dataclass(frozen=True)
class Opened:
    case: Case
    created: bool


def open_case(cmd: OpenCase, ports: CasePorts, traceparent: str | None) -> Staged[Opened]:
    """Open the case in its level's queue and push it to the least occupied eligible agent online, if any; the
    same request again answers the case it opened."""
    config = config_of(cmd.request.area, ports)
    now = ports.clock.now()
    case = service.open_case(cmd.request, cmd.requester, cmd.request_id, config, now)
    existing = ports.store.fetch(case.id)
    uow = UnitOfWork()
    if existing is not None:
        return Staged(uow, Opened(existing[0], created=False))
    case = _push(uow, case, config, ports, now)
    _stage(uow, case, None, config, ports, traceparent, now)
    return Staged(uow, Opened(case, created=True))


def _push(uow: UnitOfWork, case: Case, config: AreaConfig, ports: CasePorts, now: datetime) -> Case:
    """Assign a waiting case to the eligible online agent with the most room (their load moves in ``uow``)."""
    agents = {a.id: a for a in ports.store.fetch_agents(case.queue)}
    chosen = pick_agent(service.work_of(case, config, now), [a.as_agent() for a in agents.values()])
    if chosen is None:
        return case
    _stage_load(uow, agents[chosen.id], +1, ports)
    return service.assign(case, chosen, "system:pic-case", now)


def _stage_load(uow: UnitOfWork, agent: AgentState, delta: int, ports: CasePorts) -> None:
    ports.store.stage_agent(uow, replace(agent, load=max(0, agent.load + delta)), agent)


def _stage(
    uow: UnitOfWork,
    case: Case,
    read_version: int | None,
    config: AreaConfig,
    ports: CasePorts,
    traceparent: str | None,
    now: datetime,
) -> Case:
    """The case with its next SLA look, written under the version read, and its ``case.updated`` fact."""
    case = service.with_sla(case, config, now)
    due = service.work_of(case, config, now).due_at if case.waiting else None
    ports.store.stage_case(uow, case, read_version, due)
    stage_event(uow, service.updated(case), subject=case.id, traceparent=traceparent, now=now)
    return case


# ---- acting on a case ---------------------------------------------------------------------------------------


def find_case(case_id: str, ports: CasePorts) -> Case:
    found = ports.store.fetch(case_id)
    if found is None:
        raise service.CaseNotFoundError(f"no case {case_id!r}")
    return found[0]


Change = Callable[[Case, AreaConfig, datetime], Case]


def change(case_id: str, act: Change, ports: CasePorts, traceparent: str | None) -> Staged[Case]:
    """Apply one change to the case as read now, free the assignee's place if the case left them, and stage it."""
    found = ports.store.fetch(case_id)
    if found is None:
        raise service.CaseNotFoundError(f"no case {case_id!r}")
    case, version = found
    config = config_of(case.area, ports)
    now = ports.clock.now()
    after = act(case, config, now)
    uow = UnitOfWork()
    _release(uow, case, after, ports)
    if after.waiting and not case.waiting:
        after = _push(uow, after, config, ports, now)
    after = _stage(uow, after, version, config, ports, traceparent, now)
    if after.state == "closed" and case.state != "closed" and after.rating is None:
        _ask_rating(uow, after, traceparent, now)
    return Staged(uow, after)


def _release(uow: UnitOfWork, before: Case, after: Case, ports: CasePorts) -> None:
    """The previous assignee's place is free when the case left them (resolved, escalated, merged, reassigned)."""
    if before.assignee and before.active and (after.assignee != before.assignee or not after.active):
        agent = ports.store.fetch_agent(before.assignee)
        if agent is not None:
            _stage_load(uow, agent, -1, ports)


def _ask_rating(uow: UnitOfWork, case: Case, traceparent: str | None, now: datetime) -> None:
    """CSAT through NOT: the notification service decides by the citizen's consent and channels."""
    request = NotificationRequested.model_validate(
        {
            "template": CSAT_TEMPLATE,
            "recipient": {"citizen_id": case.citizen_id},
            "personalisation": {"reference": case.reference, "subject": case.subject},
            "reference": case.id,
        }
    )
    stage_event(uow, request, subject=case.citizen_id, traceparent=traceparent, now=now, producer="pic-case")


def window_check(case: Case, action: Literal["add", "reopen", "rate"], ports: CasePorts) -> int:
    """``policies/case``: whether the citizen may still do ``action``; the window in days, or the refusal."""
    now = ports.clock.now()
    days = (now - case.resolved_at).total_seconds() / 86400 if case.resolved_at else None
    decision = ports.policy.decide(POLICY, {"action": action, "case": {"state": case.state, "resolved_days": days}})
    if not decision.allow:
        error = service.CaseStateError if case.state not in ("resolved", "closed") else service.ReopenWindowError
        raise error(" ".join(decision.reasons))
    return int(decision.result.get("window_days", 0))


def merge(case_id: str, into_id: str, actor: Actor, reason: str, ports: CasePorts, tp: str | None) -> Staged[Case]:
    """Both cases in one unit: the duplicate merged, the kept one naming it; both facts announced."""
    dup, into = _pair(case_id, into_id, ports)
    now = ports.clock.now()
    gone, kept = service.merge(dup[0], into[0], actor, reason, now)
    uow = UnitOfWork()
    _release(uow, dup[0], gone, ports)
    config = config_of(gone.area, ports)
    gone = _stage(uow, gone, dup[1], config, ports, tp, now)
    _stage(uow, kept, into[1], config_of(kept.area, ports), ports, tp, now)
    return Staged(uow, gone)


def link(
    case_id: str, other_id: str, kind: Literal["child", "related"], actor: Actor, ports: CasePorts, tp: str | None
) -> Staged[Case]:
    """``case_id`` becomes a child of ``other_id`` (or both related): both written in one unit."""
    a, b = _pair(case_id, other_id, ports)
    now = ports.clock.now()
    first, second = service.link(a[0], b[0], kind, actor, now)
    uow = UnitOfWork()
    first = _stage(uow, first, a[1], config_of(first.area, ports), ports, tp, now)
    _stage(uow, second, b[1], config_of(second.area, ports), ports, tp, now)
    return Staged(uow, first)


def _pair(a: str, b: str, ports: CasePorts) -> tuple[tuple[Case, int], tuple[Case, int]]:
    if a == b:
        raise service.CaseLinkError("a case is not merged or linked with itself")
    first, second = ports.store.fetch(a), ports.store.fetch(b)
    if first is None or second is None:
        raise service.CaseNotFoundError(f"no case {a if first is None else b!r}")
    return first, second


# ---- agents ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetPresence:
    agent: Actor
    presence: str
    capacity: int
    queues: tuple[str, ...]


def set_presence(cmd: SetPresence, ports: CasePorts) -> Staged[AgentState]:
    """The agent's presence, case capacity and queues (their level and area come from their token); the load
    stays what their open cases make it."""
    service.check_queues(cmd.agent, list(cmd.queues))
    before = ports.store.fetch_agent(cmd.agent.id)
    state = AgentState(
        id=cmd.agent.id,
        level=cmd.agent.level,
        area=cmd.agent.area,
        presence=cmd.presence,
        capacity=cmd.capacity,
        load=before.load if before else 0,
        queues=cmd.queues,
        version=before.version if before else None,
    )
    uow = UnitOfWork()
    ports.store.stage_agent(uow, state, before)
    return Staged(uow, state)


def take_next(agent: Actor, ports: CasePorts, traceparent: str | None) -> Staged[Case]:
    """Pull: the most urgent case the agent may take from the heads of their queues (priority, SLA due, age),
    assigned to them with their load, in one unit (a case another agent took meanwhile loses the race)."""
    state = ports.store.fetch_agent(agent.id)
    if state is None or not state.queues:
        raise service.NoWorkError("set your presence and queues first (PUT /v1/agents/me)")
    now = ports.clock.now()
    heads = {c.id: c for q in state.queues for c in ports.store.fetch_queue_head(q, QUEUE_HEAD)}
    configs = {c.area: config_of(c.area, ports) for c in heads.values()}
    me = replace(state, presence="online").as_agent()
    while heads:
        chosen = next_for(me, [service.work_of(c, configs[c.area], now) for c in heads.values()])
        if chosen is None:
            break
        fresh = ports.store.fetch(chosen.id)  # the queue index may lag: the case as it is now decides
        if fresh is None or not fresh[0].waiting or fresh[0].queue not in state.queues:
            del heads[chosen.id]
            continue
        uow = UnitOfWork()
        _stage_load(uow, state, +1, ports)
        taken = service.assign(fresh[0], me, agent.name, now)
        return Staged(uow, _stage(uow, taken, fresh[1], configs[taken.area], ports, traceparent, now))
    raise service.NoWorkError(f"nothing is waiting that you may take in {', '.join(state.queues)}")


def queue_view(agent: Actor, ports: CasePorts) -> dict[str, Any]:
    """The agent's desk: their presence, their open cases, and the head of each of their queues."""
    state = ports.store.fetch_agent(agent.id)
    now = ports.clock.now()
    mine = [c for c in ports.store.fetch_assigned(agent.id) if c.active]
    queues = {q: ports.store.fetch_queue_head(q, QUEUE_HEAD) for q in (state.queues if state else ())}

    def item(case: Case) -> dict[str, Any]:
        config = config_of(case.area, ports)
        clocks = [service.clock_view(c) for c in service.clocks(case, config, now)]
        return {**service.summary_item(case), "priority": case.priority, "sla": clocks}

    return {
        "agent": {"id": agent.id, "level": agent.level, "area": agent.area,
                  **({"presence": state.presence, "capacity": state.capacity, "load": state.load,
                      "queues": list(state.queues)} if state else {"presence": "offline", "queues": []})},
        "assigned": [item(c) for c in mine],
        "queues": {q: [item(c) for c in cases] for q, cases in queues.items()},
    }  # fmt: skip


# ---- the SLA sweep -------------------------------------------------------------------------------------------


def sweep_case(case_id: str, ports: CasePorts, traceparent: str | None) -> UnitOfWork:
    """Recompute one case's clocks from its history; raise each warning or breach once, escalate on a breach when
    the category asks for it, and set the next look. An empty unit when nothing is owed (a late sweep of a case
    a write already moved)."""
    found = ports.store.fetch(case_id)
    uow = UnitOfWork()
    if found is None:
        return uow
    case, version = found
    now = ports.clock.now()
    if not case.active or case.sla_next_at is None or case.sla_next_at > now:
        return uow
    config = config_of(case.area, ports)
    clocks = service.clocks(case, config, now)
    raised = service.to_raise(case, clocks)
    after = replace(case, sla_raised=case.sla_raised | {key for key, _ in raised})
    for _, clock in raised:
        stage_event(uow, service.sla_raised(case, clock, now), subject=case.id, traceparent=traceparent, now=now)
    breached = [c.measure for _, c in raised if c.status == "breached"]
    escalated = service.escalate_on_breach(after, breached[0], config, now) if breached else None
    if escalated is not None:
        _release(uow, case, escalated, ports)
        after = _push(uow, escalated, config, ports, now)
        _stage(uow, after, version, config, ports, traceparent, now)
        return uow
    after = service.with_sla(replace(after, version=case.version), config, now)
    due = service.work_of(after, config, now).due_at if after.waiting else None
    ports.store.stage_case(uow, after, version, due)
    return uow


# ---- the SLA report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaReport:
    month: str
    by: report.By
    rows: list[report.Row]
    backlog: dict[str, dict[str, float]]


def sla_report(month: str, by: report.By, ports: CasePorts) -> SlaReport:
    """% SLA met for the cases resolved in ``month``, by ``by``; and the age of each shipped queue's backlog."""
    resolved = [c for c in ports.store.fetch_resolved(month) if c.state in ("resolved", "closed")]
    configs = {area: config_of(area, ports) for area in {c.area for c in resolved}}
    now = ports.clock.now()
    queues = [f"{area}-l{level}" for area in sorted(config_.defaults()) for level in (1, 2, 3)]
    backlog = {q: report.backlog_age(ports.store.fetch_queue_head(q, 1000), now) for q in queues}
    return SlaReport(month, by, report.rows(resolved, configs, by), {q: b for q, b in backlog.items() if b["waiting"]})


# ---- questions -------------------------------------------------------------------------------------------------


def citizen_cases(citizen_id: str, ports: CasePorts) -> list[Case]:
    return ports.store.fetch_by_citizen(citizen_id)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: CasePorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
