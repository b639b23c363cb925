"""Cases (CASE), pure rules: a case's life — opened in its area's queue, its states and history, who may move
it where, escalation L1 → L2 (area) → L3 (expert) with the reason, merges and parent/child links, the citizen's
additions, reopening and rating — and the SLA clocks read from its history (``sla.clock``) on the area's
business calendar.

A case is one record with its whole history (``Entry``: what happened, when, by whom, and whether the citizen
sees it). Every change returns a new ``Case`` one version up; the store writes it only if the stored version is
still the one read (a lost race is decided again). The SLA clocks are never counters: ``clocks`` recomputes them
from the history, so a late event or a changed calendar gives the right answer at the next read or sweep.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.case import CaseRequested, CaseSlaBreached, CaseSlaRaised, CaseSlaWarning, CaseUpdated, TranscriptLine
from functions.case.config import AreaConfig
from functions.case.sla import STOP_STATES, Clock, Happened, clock
from functions.core.assignment import Agent, Work
from functions.core.errors import NotFoundError, PicError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

EntryKind = Literal[
    "opened", "state", "citizen-message", "agent-reply", "note", "assigned", "escalated", "merged", "linked", "rated"
]
ACTIVE_STATES = frozenset({"new", "open", "waiting-on-citizen", "waiting-on-area"})
# The states an agent moves a case to, from each state (``merged`` only by a merge; ``new`` never again).
MOVES: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "waiting-on-citizen", "waiting-on-area", "resolved"}),
    "open": frozenset({"waiting-on-citizen", "waiting-on-area", "resolved"}),
    "waiting-on-citizen": frozenset({"open", "waiting-on-area", "resolved"}),
    "waiting-on-area": frozenset({"open", "waiting-on-citizen", "resolved"}),
    "resolved": frozenset({"closed", "open"}),
    "closed": frozenset({"open"}),
    "merged": frozenset(),
}
CASE_CHANNEL = "case"  # the capacity channel a case occupies on an agent (calls 1, chats N, cases N)


# ---- the domain's errors (docs/problems.md) ----------------------------------------------------------------


class CaseNotFoundError(NotFoundError):
    slug, title = "not-found", "No such case"


class UnknownAreaError(PicError):
    status, slug, title = 422, "unknown-area", "No case configuration for this area"


class UnknownCategoryError(PicError):
    status, slug, title = 422, "unknown-category", "The area attends no such category"


class CaseStateError(PicError):
    status, slug, title = 409, "case-state", "The case cannot do that in its state"


class EscalationError(PicError):
    status, slug, title = 403, "escalation-refused", "This escalation is not allowed"


class CaseLevelError(PicError):
    status, slug, title = 403, "case-level", "The case is above the agent's level or outside their area"


class CaseLinkError(PicError):
    status, slug, title = 422, "case-link", "These cases cannot be merged or linked"


class ReopenWindowError(PicError):
    status, slug, title = 409, "reopen-window-closed", "The window to reopen or add to this case has passed"


class AlreadyRatedError(PicError):
    status, slug, title = 409, "already-rated", "This case was already rated"


class InvalidConfigError(PicError):
    status, slug, title = 422, "invalid-case-config", "The case configuration is not valid; the version in force stays"


class NoWorkError(NotFoundError):
    slug, title = "no-work", "Nothing is waiting in your queues"


# ---- the case --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One thing that happened to a case. ``public``: the citizen sees it (an internal note is not)."""

    at: datetime
    kind: EntryKind
    actor: str  # "citizen:<id>", "agent:<id>", "system:<source>"
    state: str = ""  # the state the case is in after it
    text: str = ""
    public: bool = True
    detail: dict[str, Any] = field(default_factory=dict)  # level, area, reason, case ids, score


@dataclass(frozen=True)
class Case:
    id: str
    reference: str
    citizen_id: str
    area: str
    category: str
    level: int
    channel: str
    subject: str
    description: str
    priority: int
    state: str
    opened_at: datetime
    updated_at: datetime
    requested_by: str
    history: tuple[Entry, ...]
    version: int = 1
    assignee: str | None = None
    transcript: tuple[TranscriptLine, ...] = ()
    interaction_ids: tuple[str, ...] = ()
    kb_articles: tuple[str, ...] = ()
    parent_id: str | None = None
    children: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    merged_into: str | None = None
    resolved_at: datetime | None = None
    rating: int | None = None
    sla_next_at: datetime | None = None
    sla_raised: frozenset[str] = frozenset()

    @property
    def queue(self) -> str:
        return f"{self.area}-l{self.level}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def waiting(self) -> bool:
        """In its queue for an agent to take (active, nobody assigned)."""
        return self.active and self.assignee is None


def case_key(requester: str, request_id: str) -> str:
    """PIC's id: stable for (requester, the requester's id), so a request sent twice opens one case."""
    return "case-" + hashlib.sha256(f"{requester}\n{request_id}".encode()).hexdigest()[:24]


def reference_of(case_id: str, opened_at: datetime) -> str:
    """The public reference a citizen quotes on the phone: year and six characters of the id."""
    return f"EXP-{opened_at:%Y}-{case_id[5:11].upper()}"


def open_case(request: CaseRequested, requester: str, request_id: str, config: AreaConfig, now: datetime) -> Case:
    """A new case in the queue of the level its category names (``UnknownCategoryError`` otherwise)."""
    if request.area != config.area:
        raise UnknownAreaError(f"no case configuration for area {request.area!r}")
    category = config.categories.get(request.category)
    if category is None:
        known = ", ".join(sorted(config.categories))
        raise UnknownCategoryError(f"area {config.area!r} attends no category {request.category!r} (known: {known})")
    case_id = case_key(requester, request_id)
    opened = Entry(now, "opened", requester, "new", request.description, detail={"channel": request.channel})
    return Case(
        id=case_id,
        reference=reference_of(case_id, now),
        citizen_id=request.citizen_id,
        area=request.area,
        category=request.category,
        level=category.level,
        channel=request.channel,
        subject=request.subject,
        description=request.description,
        priority=request.priority,
        state="new",
        opened_at=now,
        updated_at=now,
        requested_by=requester,
        history=(opened,),
        transcript=tuple(request.transcript),
        interaction_ids=tuple(request.interaction_ids),
        kb_articles=tuple(request.kb_articles),
    )


def _next(case: Case, entry: Entry, **changes: Any) -> Case:
    return replace(case, history=(*case.history, entry), updated_at=entry.at, version=case.version + 1, **changes)


# ---- what agents do -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts: a citizen on their own case, an agent (level, area), or a system."""

    role: str
    id: str
    level: int = 0
    area: str | None = None

    @property
    def name(self) -> str:
        return f"{self.role}:{self.id}"


def check_agent_may_act(case: Case, agent: Actor) -> None:
    """An agent works a case of their level or below, and from level 2 only of their own area."""
    if agent.role != "agent":
        return
    if agent.level < case.level or (case.level > 1 and agent.area != case.area):
        raise CaseLevelError(
            f"case {case.reference} is at level {case.level} of area {case.area}; agent {agent.id} is level "
            f"{agent.level} of area {agent.area or '(none)'}"
        )


def move(case: Case, agent: Actor, state: str, reason: str, now: datetime) -> Case:
    """An agent moves the case to ``state`` (``MOVES``); resolving stamps ``resolved_at``, reopening clears it."""
    check_agent_may_act(case, agent)
    if state not in MOVES.get(case.state, frozenset()):
        allowed = ", ".join(sorted(MOVES.get(case.state, ()))) or "none"
        raise CaseStateError(f"a {case.state} case cannot move to {state} (allowed: {allowed})")
    entry = Entry(now, "state", agent.name, state, reason, detail={"from": case.state})
    resolved_at = now if state == "resolved" else (case.resolved_at if state == "closed" else None)
    freed = case.assignee if state in STOP_STATES else None
    return _next(case, entry, state=state, resolved_at=resolved_at, assignee=None if freed else case.assignee)


def reply(case: Case, agent: Actor, text: str, *, internal: bool, now: datetime) -> Case:
    """An agent's reply to the citizen (a new case opens with it), or an internal note the citizen never sees."""
    check_agent_may_act(case, agent)
    if not case.active:
        raise CaseStateError(f"a {case.state} case takes no replies; reopen it first")
    if internal:
        return _next(case, Entry(now, "note", agent.name, case.state, text, public=False))
    state = "open" if case.state == "new" else case.state
    return _next(case, Entry(now, "agent-reply", agent.name, state, text), state=state)


def escalate(case: Case, agent: Actor, level: int, reason: str, config: AreaConfig, now: datetime) -> Case:
    """Up one or two levels, never down and never beyond one above the agent's own; back to the new level's
    queue (unassigned), with the reason in the history."""
    check_agent_may_act(case, agent)
    if not case.active:
        raise CaseStateError(f"a {case.state} case is not escalated")
    if level <= case.level or level > 3:
        raise EscalationError(f"case {case.reference} is at level {case.level}: escalate to a higher level, up to 3")
    if agent.role == "agent" and level > agent.level + 1:
        raise EscalationError(f"agent of level {agent.level} escalates up to level {agent.level + 1}, not {level}")
    detail = {"from_level": case.level, "level": level, "queue": config.queue(level)}
    entry = Entry(now, "escalated", agent.name, case.state, reason, detail=detail)
    return _next(case, entry, level=level, assignee=None)


def escalate_on_breach(case: Case, measure: str, config: AreaConfig, now: datetime) -> Case | None:
    """The sweep's escalation after a breached clock, when the category asks for it and a level is left."""
    category = config.categories.get(case.category)
    if category is None or not category.escalate_on_breach or case.level >= 3 or not case.active:
        return None
    reason = f"SLA {measure} breached"
    detail = {"from_level": case.level, "level": case.level + 1, "queue": config.queue(case.level + 1)}
    entry = Entry(now, "escalated", "system:pic-case-sweep", case.state, reason, detail=detail)
    return _next(case, entry, level=case.level + 1, assignee=None)


def assign(case: Case, agent: Agent, by: str, now: datetime) -> Case:
    """The case to ``agent`` (a new case opens); the eligibility was decided by ``functions.core.assignment``."""
    if not case.active:
        raise CaseStateError(f"a {case.state} case is not assigned")
    state = "open" if case.state == "new" else case.state
    entry = Entry(now, "assigned", by, state, public=False, detail={"agent": agent.id})
    return _next(case, entry, assignee=agent.id, state=state)


def merge(duplicate: Case, into: Case, agent: Actor, reason: str, now: datetime) -> tuple[Case, Case]:
    """The duplicate joins ``into`` (the same citizen's, still active): it stops, and both say so to the citizen."""
    _linkable(duplicate, into, agent)
    if not into.active:
        raise CaseLinkError(f"case {into.reference} is {into.state}: merge into an active case")
    gone = _next(
        duplicate,
        Entry(now, "merged", agent.name, "merged", reason, detail={"into": into.id, "reference": into.reference}),
        state="merged",
        merged_into=into.id,
        assignee=None,
    )
    detail = {"from": duplicate.id, "reference": duplicate.reference}
    kept = _next(into, Entry(now, "linked", agent.name, into.state, reason, detail={**detail, "kind": "merged"}),
                 related=tuple(sorted({*into.related, duplicate.id})))  # fmt: skip
    return gone, kept


def link(
    child: Case, parent: Case, kind: Literal["child", "related"], agent: Actor, now: datetime
) -> tuple[Case, Case]:
    """``child`` becomes a child of ``parent`` (or both related); the citizen sees the link on both."""
    _linkable(child, parent, agent)
    if kind == "child":
        if child.parent_id not in (None, parent.id) or parent.parent_id == child.id:
            raise CaseLinkError(f"case {child.reference} already has another parent, or the link would loop")
        a = _next(
            child, Entry(now, "linked", agent.name, child.state, detail={"parent": parent.id}), parent_id=parent.id
        )
        b = _next(parent, Entry(now, "linked", agent.name, parent.state, detail={"child": child.id}),
                  children=tuple(sorted({*parent.children, child.id})))  # fmt: skip
        return a, b
    a = _next(child, Entry(now, "linked", agent.name, child.state, detail={"related": parent.id}),
              related=tuple(sorted({*child.related, parent.id})))  # fmt: skip
    b = _next(parent, Entry(now, "linked", agent.name, parent.state, detail={"related": child.id}),
              related=tuple(sorted({*parent.related, child.id})))  # fmt: skip
    return a, b


def _linkable(a: Case, b: Case, agent: Actor) -> None:
    if a.id == b.id:
        raise CaseLinkError("a case is not merged or linked with itself")
    if a.citizen_id != b.citizen_id:
        raise CaseLinkError("only cases of the same citizen are merged or linked: the citizen sees the links")
    if "merged" in (a.state, b.state):
        raise CaseLinkError("a merged case is not merged or linked again")
    check_agent_may_act(a, agent)
    check_agent_may_act(b, agent)


# ---- what the citizen does ---------------------------------------------------------------------------------


def within_window(case: Case, days: int, now: datetime) -> bool:
    """Whether a resolved or closed case is still within the window to reopen it or add to it."""
    return case.resolved_at is not None and (now - case.resolved_at).total_seconds() <= days * 86400


def add_information(case: Case, actor: Actor, text: str, window_days: int, now: datetime) -> Case:
    """The citizen adds information: a case waiting on them goes back to the agent (its clock resumes); a
    resolved or closed one reopens within the window; a merged one points to where it went."""
    if case.state == "merged":
        raise CaseStateError(f"case {case.reference} was merged into {case.merged_into}: write there")
    state = "open" if case.state == "waiting-on-citizen" else case.state
    if case.state in ("resolved", "closed"):
        if not within_window(case, window_days, now):
            raise ReopenWindowError(
                f"case {case.reference} was resolved more than {window_days} days ago: open a new one"
            )
        state = "open"
    entry = Entry(now, "citizen-message", actor.name, state, text, detail={"from": case.state})
    return _next(case, entry, state=state, resolved_at=None if state == "open" else case.resolved_at)


def reopen(case: Case, actor: Actor, reason: str, window_days: int, now: datetime) -> Case:
    """The citizen (within the window) or an agent reopens a resolved or closed case."""
    if case.state not in ("resolved", "closed"):
        raise CaseStateError(f"a {case.state} case is not reopened")
    if actor.role == "citizen" and not within_window(case, window_days, now):
        raise ReopenWindowError(f"case {case.reference} was resolved more than {window_days} days ago: open a new one")
    check_agent_may_act(case, actor)
    entry = Entry(now, "state", actor.name, "open", reason, detail={"from": case.state, "reopened": True})
    return _next(case, entry, state="open", resolved_at=None)


def rate(case: Case, actor: Actor, score: int, comment: str, window_days: int, now: datetime) -> Case:
    """The citizen's satisfaction (1–5 and a comment), once, after the case is resolved, within the window."""
    if case.state not in ("resolved", "closed"):
        raise CaseStateError("a case is rated once it is resolved")
    if case.rating is not None:
        raise AlreadyRatedError(f"case {case.reference} was rated {case.rating}")
    if not within_window(case, window_days, now):
        raise ReopenWindowError(f"case {case.reference} was resolved more than {window_days} days ago")
    entry = Entry(now, "rated", actor.name, case.state, comment, detail={"score": score})
    return _next(case, entry, rating=score)


# ---- SLA clocks ------------------------------------------------------------------------------------------------


def history_of(case: Case) -> list[Happened]:
    """What the SLA clocks see of the history: every state entered, and the messages of either side (an
    internal note is neither)."""
    seen: list[Happened] = []
    state = ""
    for entry in case.history:
        if entry.kind in ("citizen-message", "agent-reply"):
            seen.append(Happened(entry.at, entry.kind))
        if entry.state and entry.state != state:
            seen.append(Happened(entry.at, "state", entry.state))
            state = entry.state
    return seen


def clocks(case: Case, config: AreaConfig, now: datetime) -> list[Clock]:
    """The case's SLA clocks as of ``now``, recomputed from its history on the area's calendar."""
    category = config.categories.get(case.category)
    if category is None:
        return []
    calendar, history = config.calendar(), history_of(case)
    return [clock(target, history, calendar, now) for target in config.targets(case.category)]


def raise_key(case: Case, found: Clock) -> str:
    """One raise per clock, status and cycle: a next response's cycle starts with the citizen's message."""
    cycle = ""
    if found.measure == "next-response":
        messages = [e.at for e in case.history if e.kind == "citizen-message"]
        cycle = messages[-1].isoformat() if messages else ""
    return f"{found.measure}:{'warning' if found.status == 'warning' else 'breached'}:{cycle}"


def to_raise(case: Case, found: list[Clock]) -> list[tuple[str, Clock]]:
    """The clocks in warning or breach not raised yet (a clock found already breached raises its breach only:
    it says more than the warning the sweep did not see)."""
    due = []
    for c in found:
        if c.status in ("warning", "breached"):
            key = raise_key(case, c)
            if key not in case.sla_raised:
                due.append((key, c))
    return due


def next_check(case: Case, found: list[Clock], config: AreaConfig, now: datetime) -> datetime | None:
    """When the sweep must look at the case next: the soonest warning or due time of a running clock (a paused
    clock resumes with a write, which computes this again)."""
    if case.category not in config.categories:
        return None
    calendar = config.calendar()
    share = {t.measure: t.warn_at for t in config.targets(case.category)}
    instants = []
    for c in found:
        if c.status == "running" and c.due_at is not None:
            instants.append(calendar.add(now, max(0.0, share[c.measure] * c.target - c.elapsed)))
        elif c.status == "warning" and c.due_at is not None:
            instants.append(c.due_at)
    return min(instants) if instants else None


def sla_raised(case: Case, clock_: Clock, now: datetime) -> CaseSlaRaised:
    model = CaseSlaWarning if clock_.status == "warning" else CaseSlaBreached
    return model(
        case_id=case.id,
        area=case.area,
        category=case.category,
        level=case.level,
        queue=case.queue,
        assignee=case.assignee,
        measure=clock_.measure,
        status="warning" if clock_.status == "warning" else "breached",
        elapsed_seconds=clock_.elapsed,
        target_seconds=clock_.target,
        due_at=clock_.due_at,
        breached_at=clock_.breached_at,
        raised_at=now,
    )


def with_sla(case: Case, config: AreaConfig, now: datetime) -> Case:
    """The case with the sweep's next look recomputed (every write of a case does it)."""
    found = clocks(case, config, now) if case.active else []
    return replace(case, sla_next_at=next_check(case, found, config, now) if case.active else None)


# ---- assignment ---------------------------------------------------------------------------------------------


def work_of(case: Case, config: AreaConfig, now: datetime) -> Work:
    """The case as work to assign: the resolution (or first response) due time orders the backlog."""
    dues = [c.due_at for c in clocks(case, config, now) if c.due_at is not None]
    return Work(
        case.id, case.area, case.level, CASE_CHANNEL, case.opened_at, min(dues) if dues else None, case.priority
    )


def backlog_rank(case: Case, due_at: datetime | None) -> str:
    """The sort key of the queue index: priority (higher first), SLA due (sooner first), then age."""
    due = due_at.isoformat() if due_at else "9999"
    return f"{9 - case.priority}#{due}#{case.opened_at.isoformat()}#{case.id}"


# ---- views ----------------------------------------------------------------------------------------------------


def updated(case: Case) -> CaseUpdated:
    """The fact announced on every change: what the citizen may see of the case."""
    return CaseUpdated(
        case_id=case.id,
        reference=case.reference,
        citizen_id=case.citizen_id,
        area=case.area,
        category=case.category,
        level=case.level,
        state=case.state,  # type: ignore[arg-type]
        channel=case.channel,  # type: ignore[arg-type]
        subject=case.subject,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        version=case.version,
        parent_id=case.parent_id,
        children=list(case.children),
        related=list(case.related),
        merged_into=case.merged_into,
    )


def entry_view(entry: Entry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "actor": entry.actor.split(":", 1)[0],
        "state": entry.state,
        "text": entry.text,
        "detail": entry.detail,
    }


def clock_view(found: Clock) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "measure": found.measure,
        "status": found.status,
        "elapsed_seconds": round(found.elapsed, 1),
        "target_seconds": found.target,
        "due_at": iso(found.due_at),
        "met_at": iso(found.met_at),
        "breached_at": iso(found.breached_at),
    }


def view(case: Case, config: AreaConfig | None, now: datetime, *, for_citizen: bool) -> dict[str, Any]:
    """The API's representation: the citizen sees the public history and whether someone attends the case; an
    agent sees everything, the assignee and the SLA clocks."""
    body: dict[str, Any] = {
        "id": case.id,
        "reference": case.reference,
        "citizen_id": case.citizen_id,
        "area": case.area,
        "category": case.category,
        "level": case.level,
        "queue": case.queue,
        "channel": case.channel,
        "subject": case.subject,
        "description": case.description,
        "state": case.state,
        "priority": case.priority,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "version": case.version,
        "parent_id": case.parent_id,
        "children": list(case.children),
        "related": list(case.related),
        "merged_into": case.merged_into,
        "rating": case.rating,
        "history": [entry_view(e) for e in case.history if e.public or not for_citizen],
    }
    if for_citizen:
        body["attended"] = case.assignee is not None
        return body
    body["assignee"] = case.assignee
    body["transcript"] = [line.model_dump(mode="json") for line in case.transcript]
    body["interaction_ids"] = list(case.interaction_ids)
    body["kb_articles"] = list(case.kb_articles)
    body["sla"] = [clock_view(c) for c in clocks(case, config, now)] if config else []
    return body


def summary_item(case: Case) -> dict[str, Any]:
    """One case in a list: what, where and in which state, not its messages."""
    return {
        "id": case.id,
        "reference": case.reference,
        "area": case.area,
        "category": case.category,
        "level": case.level,
        "state": case.state,
        "subject": case.subject,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "merged_into": case.merged_into,
        "parent_id": case.parent_id,
    }


# ---- agents as the case domain knows them -----------------------------------------------------------------


@dataclass(frozen=True)
class AgentState:
    """An agent's presence, capacity and load for cases, and the queues they serve (``<area>-l<level>``)."""

    id: str
    level: int
    area: str | None
    presence: str = "offline"
    capacity: int = 0
    load: int = 0
    queues: tuple[str, ...] = ()
    version: int | None = None

    def as_agent(self) -> Agent:
        return Agent(self.id, self.level, frozenset({self.area} if self.area else ()), self.presence, {},
                     {CASE_CHANNEL: self.capacity}, {CASE_CHANNEL: self.load})  # fmt: skip


def queue_parts(queue: str) -> tuple[str, int]:
    area, _, level = queue.rpartition("-l")
    if not area or level not in ("1", "2", "3"):
        raise ValueError(f"{queue!r} is not a queue (<area>-l<level>)")
    return area, int(level)


def check_queues(agent: Actor, queues: list[str]) -> None:
    """An agent serves queues of their level or below; from level 2, only their own area's."""
    for queue in queues:
        try:
            area, level = queue_parts(queue)
        except ValueError as exc:
            raise CaseLevelError(str(exc)) from None
        if level > agent.level or (level > 1 and area != agent.area):
            raise CaseLevelError(f"agent of level {agent.level} of area {agent.area} may not serve queue {queue}")


# ---- the domain's port -----------------------------------------------------------------------------------------


class CaseStore(Protocol):
    """What the case domain reads and stages (``storage.DynamoCaseStore``; an in-memory fake in the unit tests).
    Every ``stage_case`` is conditioned on the version read (``None``: absent), so a lost race is decided again."""

    def fetch(self, case_id: str) -> tuple[Case, int] | None: ...
    def fetch_by_citizen(self, citizen_id: str) -> list[Case]: ...
    def fetch_queue_head(self, queue: str, limit: int) -> list[Case]:
        """The first cases waiting in ``queue``, in backlog order (priority, SLA due, age)."""
        ...

    def fetch_due(self, now: datetime, limit: int) -> list[Case]:
        """Active cases whose next SLA look is due by ``now``."""
        ...

    def fetch_assigned(self, agent_id: str) -> list[Case]: ...
    def fetch_resolved(self, month: str) -> list[Case]:
        """The cases resolved in ``month`` (YYYY-MM, Europe/Madrid)."""
        ...

    def fetch_config(self, area: str) -> AreaConfig | None: ...
    def fetch_agent(self, agent_id: str) -> AgentState | None: ...
    def fetch_agents(self, queue: str) -> list[AgentState]: ...
    def stage_case(self, uow: UnitOfWork, case: Case, read_version: int | None, due_at: datetime | None) -> None: ...
    def stage_erase(self, uow: UnitOfWork, case: Case) -> None: ...
    def stage_config(self, uow: UnitOfWork, config: AreaConfig, current: int | None) -> None: ...
    def stage_agent(self, uow: UnitOfWork, agent: AgentState, before: AgentState | None) -> None: ...
    def fetch_config_version(self, area: str, version: int) -> AreaConfig | None: ...
