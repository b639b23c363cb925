"""Who takes a piece of work — a case (CASE) or a waiting contact (CCAAS): one rule for both, in the kernel.

Push: the eligible online agent with free capacity on the work's channel and the least load (Zammad's most-asked
missing feature, load-balanced assignment with per-agent capacity); pull ("give me the next"): the most urgent
work the agent may take, by priority, then SLA due time, then age. Eligibility is never relaxed: an agent below
the work's level, outside its area (levels 2 and 3 belong to an area; level 1 is general attention) or below the
skill's proficiency does not get it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
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
    by id, so the same inputs give the same answer). Given an ``AgentPool``, its index answers."""
    if isinstance(agents, AgentPool):
        return agents.pick(work)
    eligible = [a for a in agents if can_take(a, work)]
    if not eligible:
        return None
    return min(eligible, key=lambda a: (a.occupation(work.channel), sum(a.load.values()), a.id))


def next_for(agent: Agent, backlog: Iterable[Work]) -> Work | None:
    """Pull: the most urgent case of the backlog this agent may take, or ``None``. Given a ``WaitingQueue``, its
    index answers."""
    if isinstance(backlog, WaitingQueue):
        return backlog.next_for(agent)
    mine = [w for w in backlog if can_take(agent, w)]
    return min(mine, key=urgency) if mine else None


def distribute(backlog: Iterable[Work], agents: Iterable[Agent]) -> tuple[dict[str, str], dict[str, Agent]]:
    """Push a backlog, most urgent first, each case to the least occupied eligible agent as loads grow: which
    agent takes each case (case id -> agent id; cases nobody may take stay out), and the agents' loads after.
    Each case is picked on an ``AgentPool`` (the same answer as ``pick_agent``, without a scan of every agent)."""
    pool = AgentPool(agents)
    taken: dict[str, str] = {}
    for work in sorted(backlog, key=urgency):
        agent = pool.pick(work)
        if agent is not None:
            pool.assign(agent.id, work.channel)
            taken[work.id] = agent.id
    return taken, pool.agents()


def _skill_key(work: Work) -> str | None:
    """The skill a work is indexed under: ``None`` when any agent's proficiency will do."""
    return work.skill if work.skill is not None and work.min_proficiency > 0 else None


def _odd(work: Work) -> bool:
    """A skill asked at proficiency 0 or less: whether an agent qualifies depends on not holding the skill at a
    lower (negative) proficiency, which no index here answers; such work is decided by ``can_take`` itself."""
    return work.skill is not None and work.min_proficiency <= 0


_Bucket = tuple[str, str | None, str | None]  # channel, area (None: level 1, any area), skill (None: any)
_Rank = tuple[float, int, str, int]  # occupation, total load, id, version (an entry is stale once it changes)


class AgentPool:
    """The agents indexed for push at a contact centre's scale: ``pick_agent`` scans every agent (about 1 ms for
    5,000, so ~1,000 decisions a second on a core); the pool answers the same (least occupied eligible agent, then
    least loaded in all, then id) from a few heaps' heads, in microseconds.

    Each online agent with a free place on a channel sits in one heap per (channel, area or "any area", skill or
    "any skill") it matches, under its (level, proficiency); the heap is ordered by ``pick_agent``'s key. A change
    to an agent (``update``, ``assign``, ``release``) pushes fresh entries and leaves the old ones to be dropped
    when they reach a head (a version says which is current); the heaps are rebuilt when most entries are stale."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {a.id: a for a in agents}
        self._rebuild()

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def get(self, agent_id: str) -> Agent:
        return self._agents[agent_id]

    def agents(self) -> dict[str, Agent]:
        """Every agent by id, as they are now (a copy)."""
        return dict(self._agents)

    def update(self, agent: Agent) -> None:
        """Add an agent, or replace it (presence, load, skills, capacity changed)."""
        self._agents[agent.id] = agent
        self._version[agent.id] = self._version.get(agent.id, 0) + 1
        for rank, heaps in self._entries(agent):
            for heap in heaps:
                heapq.heappush(heap, rank)
            self._size += len(heaps)
        if self._size > 4 * self._live + 4096:
            self._rebuild()

    def assign(self, agent_id: str, channel: str) -> Agent:
        """One more piece of work on ``channel`` for the agent (as ``distribute`` counts it); the agent after."""
        agent = self._agents[agent_id]
        self.update(replace(agent, load={**agent.load, channel: agent.load.get(channel, 0) + 1}))
        return self._agents[agent_id]

    def release(self, agent_id: str, channel: str) -> Agent:
        """One piece of work on ``channel`` finished (never below zero); the agent after."""
        agent = self._agents[agent_id]
        self.update(replace(agent, load={**agent.load, channel: max(0, agent.load.get(channel, 0) - 1)}))
        return self._agents[agent_id]

    def pick(self, work: Work) -> Agent | None:
        """``pick_agent(work, self)``: the eligible agent least occupied on the work's channel, or ``None``."""
        if _odd(work):
            return pick_agent(work, list(self._agents.values()))
        scope = None if work.level == 1 else work.area
        skill = _skill_key(work)
        best: _Rank | None = None
        for (level, proficiency), heap in self._heaps.get((work.channel, scope, skill), {}).items():
            if level < work.level or (skill is not None and proficiency < work.min_proficiency):
                continue
            head = self._head(heap)
            if head is not None and (best is None or head < best):
                best = head
        return self._agents[best[2]] if best is not None else None

    def _head(self, heap: list[_Rank]) -> _Rank | None:
        while heap and heap[0][3] != self._version[heap[0][2]]:
            heapq.heappop(heap)
            self._size -= 1
        return heap[0] if heap else None

    def _entries(self, agent: Agent) -> Iterator[tuple[_Rank, list[list[_Rank]]]]:
        """Where an agent is indexed now: on each channel it has a free place on, its rank there and the heaps of
        every bucket it matches."""
        if agent.presence != "online":
            return
        version, total = self._version[agent.id], sum(agent.load.values())
        for channel in {*agent.capacity, *agent.load}:
            if agent.free(channel) > 0:
                yield (agent.occupation(channel), total, agent.id, version), self._heaps_of(agent, channel)

    def _heaps_of(self, agent: Agent, channel: str) -> list[list[_Rank]]:
        """The heaps an agent belongs in on a channel, kept while its level, areas and skills are the same objects
        (a change of load or presence keeps them: ``replace`` passes them on), so a load change only pushes."""
        kept = self._memberships.get((agent.id, channel))
        if kept is not None and kept[0] == agent.level and kept[1] is agent.areas and kept[2] is agent.skills:
            return kept[3]
        skills: list[tuple[str | None, int]] = [(None, 0), *agent.skills.items()]
        heaps = [
            self._heaps.setdefault((channel, scope, skill), {}).setdefault((agent.level, proficiency), [])
            for scope in (None, *agent.areas)
            for skill, proficiency in skills
        ]
        self._memberships[agent.id, channel] = (agent.level, agent.areas, agent.skills, heaps)
        return heaps

    def _rebuild(self) -> None:
        self._version: dict[str, int] = getattr(self, "_version", {a: 0 for a in self._agents})
        self._heaps: dict[_Bucket, dict[tuple[int, int], list[_Rank]]] = {}
        self._memberships: dict[tuple[str, str], tuple[int, frozenset[str], Mapping[str, int], list[list[_Rank]]]]
        self._memberships = {}
        self._size = 0
        for agent in self._agents.values():
            for rank, heaps in self._entries(agent):
                for heap in heaps:
                    heap.append(rank)
                self._size += len(heaps)
        for subs in self._heaps.values():
            for heap in subs.values():
                heapq.heapify(heap)
        self._live = self._size


_Urgency = tuple[int, datetime, datetime, str]


class WaitingQueue:
    """Waiting work indexed for pull at a contact centre's scale: ``next_for`` scans the whole backlog (about 25 ms
    for 50,000 contacts: some 40 decisions a second); the queue answers the same (the most urgent work the agent
    may take: priority, SLA due, age, id) from the heads of the heaps the agent matches.

    Work sits in one heap per (channel, area or "any area" for level 1, skill or "any skill"), under its (level,
    minimum proficiency), ordered by ``urgency``; an agent looks at the heaps of its channels with a free place, its
    areas and its skills, at its level and proficiency or below. Work taken or removed is dropped from a heap when
    it reaches the head."""

    def __init__(self, works: Iterable[Work] = ()) -> None:
        self._works: dict[str, Work] = {}
        self._heaps: dict[_Bucket, dict[tuple[int, int], list[tuple[_Urgency, Work]]]] = {}
        self._unindexed: dict[str, Work] = {}
        self._size = 0
        for work in works:
            self.add(work)

    def __len__(self) -> int:
        return len(self._works)

    def __iter__(self) -> Iterator[Work]:
        return iter(self._works.values())

    def __contains__(self, work_id: object) -> bool:
        return work_id in self._works

    def add(self, work: Work) -> None:
        """Put work in the queue (or replace the work of the same id: a step expired, a priority changed)."""
        self.remove(work.id)
        self._works[work.id] = work
        if _odd(work):
            self._unindexed[work.id] = work
            return
        bucket = (work.channel, None if work.level == 1 else work.area, _skill_key(work))
        sub = (work.level, work.min_proficiency if bucket[2] is not None else 0)
        heapq.heappush(self._heaps.setdefault(bucket, {}).setdefault(sub, []), (urgency(work), work))
        self._size += 1
        if self._size > 2 * len(self._works) + 4096:
            self._compact()

    def remove(self, work_id: str) -> Work | None:
        """Take work out of the queue (taken, abandoned, moved); the work, or ``None`` if it was not there."""
        self._unindexed.pop(work_id, None)
        return self._works.pop(work_id, None)

    def take(self, agent: Agent) -> Work | None:
        """Pull and remove: the work ``next_for`` gives the agent, out of the queue."""
        work = self.next_for(agent)
        if work is not None:
            self.remove(work.id)
        return work

    def next_for(self, agent: Agent) -> Work | None:
        """``next_for(agent, self)``: the most urgent work this agent may take now, or ``None``."""
        if agent.presence != "online":
            return None
        best: tuple[_Urgency, Work] | None = None
        skills: list[tuple[str | None, int]] = [(None, 0), *agent.skills.items()]
        for channel in {*agent.capacity, *agent.load}:
            if agent.free(channel) <= 0:
                continue
            for scope in (None, *agent.areas):
                for skill, proficiency in skills:
                    for (level, needed), heap in self._heaps.get((channel, scope, skill), {}).items():
                        if level > agent.level or needed > proficiency:
                            continue
                        head = self._head(heap)
                        if head is not None and (best is None or head[0] < best[0]):
                            best = head
        odd = [w for w in self._unindexed.values() if can_take(agent, w)]
        if odd:
            first = min(odd, key=urgency)
            best = (urgency(first), first) if best is None or urgency(first) < best[0] else best
        return best[1] if best is not None else None

    def _head(self, heap: list[tuple[_Urgency, Work]]) -> tuple[_Urgency, Work] | None:
        while heap and self._works.get(heap[0][1].id) is not heap[0][1]:
            heapq.heappop(heap)
            self._size -= 1
        return heap[0] if heap else None

    def _compact(self) -> None:
        works = list(self._works.values())
        self._works, self._heaps, self._unindexed, self._size = {}, {}, {}, 0
        for work in works:
            self.add(work)
