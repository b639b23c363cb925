"""Cases (CASE), pure logic: an SLA clock's state computed from the case's history, never from running counters.

A case's history is its events in any order of arrival (``Happened``: a state entered, a message from the
citizen, a reply from an agent). An SLA policy (``Target``) names what it measures — the first response, the
next response to the citizen's latest message, the resolution — its business-time target, the states that pause
it (waiting on the citizen) and when to warn. The state of the clock at any instant is recomputed from the whole
history sorted by time on the area's business calendar (``functions.core.calendar``), so an event that arrives
late, a correction, or a changed calendar gives the right answer the next time it is asked: elapsed business
time, paused intervals, the due time if nothing changes, and whether it was met, is running, warning or breached
(and when it breached). Anchors: Zammad's and Chatwoot's SLAs (first response, update, solution; pause while
waiting), which their users ask to behave on business-hours calendars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Literal

from functions.core.calendar import BusinessCalendar

Measure = Literal["first-response", "next-response", "resolution"]
Status = Literal["running", "paused", "warning", "met", "breached", "stopped", "not-started"]
EventKind = Literal["state", "citizen-message", "agent-reply"]

OPEN_STATES = frozenset({"new", "open", "waiting-on-area"})
STOP_STATES = frozenset({"resolved", "closed", "merged"})


@dataclass(frozen=True, order=True)
class Happened:
    """One event of a case's history: ``state`` (the state entered), or a message from either side."""

    at: datetime
    kind: EventKind
    state: str = ""


@dataclass(frozen=True)
class Target:
    """An SLA policy's clock: what it measures, its target in business seconds, the states that pause it, and the
    share of the target at which it warns."""

    measure: Measure
    seconds: float
    pausing: frozenset[str] = frozenset({"waiting-on-citizen"})
    warn_at: float = 0.8


@dataclass(frozen=True)
class Clock:
    """An SLA clock as of ``now``: business seconds elapsed, the due time if it keeps running (``None`` when met,
    paused or not started), when it was met or breached, and the paused intervals it skipped."""

    measure: Measure
    status: Status
    elapsed: float
    target: float
    due_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    paused: tuple[tuple[datetime, datetime | None], ...] = field(default_factory=tuple)


def clock(target: Target, history: list[Happened], calendar: BusinessCalendar, now: datetime) -> Clock:
    """The clock of ``target`` over ``history`` (any order) as of ``now``: events after ``now`` are not yet.
    ``met``: what it measures happened (a reply, the resolution); ``stopped``: nothing is owed any more without it
    (a case closed or merged before its first response)."""
    events = sorted((e for e in history if e.at <= now), key=_ORDER)
    timing = _timing(target, events, now)
    elapsed, breached_at = 0.0, None
    for start, end in timing.runs:
        spent = calendar.business_seconds(start, end)
        if breached_at is None and elapsed + spent > target.seconds:
            breached_at = calendar.add(start, target.seconds - elapsed)
        elapsed += spent
    paused = tuple(timing.paused)
    if not timing.ever_owed:
        return Clock(target.measure, "not-started", 0.0, target.seconds)
    if not timing.owed:
        status: Status = "breached" if breached_at else "met" if timing.met_at else "stopped"
        return Clock(target.measure, status, elapsed, target.seconds, None, timing.met_at, breached_at, paused)
    if breached_at is not None:
        return Clock(target.measure, "breached", elapsed, target.seconds, None, None, breached_at, paused)
    if timing.pausing:
        return Clock(target.measure, "paused", elapsed, target.seconds, None, None, None, paused)
    due = calendar.add(now, target.seconds - elapsed)
    status = "warning" if elapsed >= target.warn_at * target.seconds else "running"
    return Clock(target.measure, status, elapsed, target.seconds, due, None, None, paused)


_ORDER = attrgetter("at", "kind", "state")  # ``Happened``'s own order, as one key (no comparison per pair)


@dataclass
class _Timing:
    runs: list[tuple[datetime, datetime]] = field(default_factory=list)
    paused: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    owed: bool = False  # the clock's thing is owed now (a first response, a reply, the resolution)
    ever_owed: bool = False
    pausing: bool = False  # in a pausing state now
    met_at: datetime | None = None


def _timing(target: Target, events: list[Happened], now: datetime) -> _Timing:
    """The intervals the clock ran and was paused in its current cycle (a next response starts a new cycle with
    each message of the citizen; a reopened case's resolution goes on counting), and whether it is owed now."""
    timing = _Timing()
    started: datetime | None = None
    paused_since: datetime | None = None
    state = ""
    for event in events:
        state = event.state if event.kind == "state" else state
        owed, met = _owed(target.measure, event, timing.owed, timing.ever_owed, state)
        if owed and not timing.owed and target.measure == "next-response":
            timing.runs, timing.paused = [], []  # a new message: a new clock
        if met:
            timing.met_at = event.at
        if owed:
            timing.met_at = None if not timing.owed else timing.met_at
            timing.ever_owed = True
        timing.owed = owed
        timing.pausing = state in target.pausing
        run_now, pause_now = owed and not timing.pausing, owed and timing.pausing
        if started is not None and not run_now:
            timing.runs.append((started, event.at))
            started = None
        if paused_since is not None and not pause_now:
            timing.paused.append((paused_since, event.at))
            paused_since = None
        started = event.at if run_now and started is None else started
        paused_since = event.at if pause_now and paused_since is None else paused_since
    if started is not None:
        timing.runs.append((started, now))
    if paused_since is not None:
        timing.paused.append((paused_since, None))
    return timing


def _owed(measure: Measure, event: Happened, owed: bool, ever_owed: bool, state: str) -> tuple[bool, bool]:
    """Whether the clock's thing is owed after ``event``, and whether ``event`` fulfilled it (met)."""
    closing = event.kind == "state" and state in STOP_STATES
    if measure == "resolution":
        if event.kind != "state":
            return owed, False
        return not closing, owed and closing
    if measure == "first-response":
        if event.kind == "state" and not ever_owed and not closing:
            return True, False
        if event.kind == "agent-reply" and owed:
            return False, True
        return (False, False) if closing else (owed, False)
    if event.kind == "citizen-message" and not closing:
        return True, False
    if event.kind == "agent-reply" and owed:
        return False, True
    return (False, False) if closing else (owed, False)
