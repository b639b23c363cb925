"""Who takes a piece of work — a case (CASE) or a waiting contact (CCAAS): one rule for both, in the kernel.

Push: the eligible online agent with free capacity on the work's channel and the least load (Zammad's most-asked
missing feature, load-balanced assignment with per-agent capacity); pull ("give me the next"): the most urgent
work the agent may take, by priority, then SLA due time, then age. Eligibility is never relaxed: an agent below
the work's level, outside its area (levels 2 and 3 belong to an area; level 1 is general attention) or below the
skill's proficiency does not get it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

Presence = str  # online, busy, away, offline: only "online" takes work
FAR = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True)
class Agent:
    id: str
    level: int
    areas: frozenset[str]
    presence: Presence = "online"
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> proficiency 1..5
    capacity: Mapping[str, int] = field(default_factory=dict)  # channel -> how many at once (calls 1, chats N)
    load: Mapping[str, int] = field(default_factory=dict)  # channel -> how many it has now

    def free(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.load.get(channel, 0)

    def occupation(self, channel: str) -> float:
        return self.load.get(channel, 0) / self.capacity[channel] if self.capacity.get(channel) else 1.0


@dataclass(frozen=True)
class Work:
    """A case (or a contact) waiting: its area, the level that takes it, the channel it occupies, the skill it
    needs at a proficiency, its priority (higher first) and its SLA due time (sooner first)."""

    id: str
    area: str
    level: int
    channel: str
    created_at: datetime
    due_at: datetime | None = None
    priority: int = 0
    skill: str | None = None
    min_proficiency: int = 1


def can_take(agent: Agent, work: Work) -> bool:
    """Whether ``agent`` may take ``work`` now: online, of its level or above, of its area (from level 2), skilled
    enough, with a free place on its channel."""
    return (
        agent.presence == "online"
        and agent.level >= work.level
        and (work.level == 1 or work.area in agent.areas)
        and (work.skill is None or agent.skills.get(work.skill, 0) >= work.min_proficiency)
        and agent.free(work.channel) > 0
    )


def urgency(work: Work) -> tuple[int, datetime, datetime, str]:
    """The order cases are served in: priority, then the SLA due soonest, then the oldest (then the id)."""
    due = _utc(work.due_at) if work.due_at else FAR
    return (-work.priority, due, _utc(work.created_at), work.id)


def _utc(at: datetime) -> datetime:
    """A comparable naive UTC instant (``FAR`` stands for "no due time")."""
    return at.astimezone(UTC).replace(tzinfo=None)


def pick_agent(work: Work, agents: Iterable[Agent]) -> Agent | None:
    """Push: the eligible agent least occupied on the case's channel (then the one with least work in all, then
    by id, so the same inputs give the same answer)."""
    eligible = [a for a in agents if can_take(a, work)]
    if not eligible:
        return None
    return min(eligible, key=lambda a: (a.occupation(work.channel), sum(a.load.values()), a.id))


def next_for(agent: Agent, backlog: Iterable[Work]) -> Work | None:
    """Pull: the most urgent case of the backlog this agent may take, or ``None``."""
    mine = [w for w in backlog if can_take(agent, w)]
    return min(mine, key=urgency) if mine else None


def distribute(backlog: Iterable[Work], agents: Iterable[Agent]) -> tuple[dict[str, str], dict[str, Agent]]:
    """Push a backlog, most urgent first, each case to the least occupied eligible agent as loads grow: which
    agent takes each case (case id -> agent id; cases nobody may take stay out), and the agents' loads after."""
    pool = {a.id: a for a in agents}
    taken: dict[str, str] = {}
    for work in sorted(backlog, key=urgency):
        agent = pick_agent(work, pool.values())
        if agent is None:
            continue
        load = {**agent.load, work.channel: agent.load.get(work.channel, 0) + 1}
        pool[agent.id] = replace(agent, load=load)
        taken[work.id] = agent.id
    return taken, pool
