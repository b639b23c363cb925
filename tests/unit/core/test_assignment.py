"""Who takes a case (``functions.core.assignment``): never an agent without the level, the area or the skill;
push to the least occupied with free capacity per channel; pull the most urgent (priority, SLA due, age); a
backlog spread evenly. The indexed ``AgentPool`` and ``WaitingQueue`` answer what the simple functions answer, on
random agents and work as both change."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from functions.core.assignment import (
    Agent,
    AgentPool,
    WaitingQueue,
    Work,
    can_take,
    distribute,
    next_for,
    pick_agent,
    urgency,
)
from functions.core.clock import MADRID

T0 = datetime(2026, 3, 9, 9, tzinfo=MADRID)


def agent(
    name: str, level: int = 1, areas: tuple[str, ...] = (), chats: int = 3, load: int = 0, **extra: object
) -> Agent:
    return Agent(name, level, frozenset(areas), capacity={"chat": chats, "call": 1}, load={"chat": load}, **extra)  # type: ignore[arg-type]


def work(name: str, level: int = 1, area: str = "hacienda", minutes: int = 0, **extra: object) -> Work:
    return Work(name, area, level, "chat", T0 + timedelta(minutes=minutes), **extra)  # type: ignore[arg-type]


def test_never_to_an_agent_without_the_level_the_area_the_skill_or_a_free_place() -> None:
    l2 = work("c-1", level=2, skill="ibi", min_proficiency=3)
    assert not can_take(agent("a-l1", level=1, areas=("hacienda",), skills={"ibi": 5}), l2)
    assert not can_take(agent("a-other", level=2, areas=("movilidad",), skills={"ibi": 5}), l2)
    assert not can_take(agent("a-novice", level=2, areas=("hacienda",), skills={"ibi": 2}), l2)
    assert not can_take(agent("a-full", level=2, areas=("hacienda",), skills={"ibi": 4}, load=3), l2)
    assert not can_take(agent("a-away", level=2, areas=("hacienda",), skills={"ibi": 4}, presence="away"), l2)
    assert can_take(agent("a-ok", level=3, areas=("hacienda",), skills={"ibi": 4}), l2)
    assert can_take(agent("a-general", level=1), work("c-2", level=1))  # level 1 is general attention


def test_push_goes_to_the_least_occupied_and_pull_takes_the_most_urgent() -> None:
    agents = [agent("a", load=2), agent("b", load=1), agent("c", load=1, chats=4)]
    assert pick_agent(work("c-1"), agents).id == "c"  # 1 of 4 beats 1 of 3  # type: ignore[union-attr]
    backlog = [work("old", minutes=0), work("due-soon", minutes=10, due_at=T0 + timedelta(hours=1)),
               work("urgent", minutes=20, priority=1), work("l2", level=2, minutes=-30)]  # fmt: skip
    assert next_for(agent("x"), backlog).id == "urgent"  # type: ignore[union-attr]
    assert next_for(agent("x"), [w for w in backlog if w.id != "urgent"]).id == "due-soon"  # type: ignore[union-attr]
    assert next_for(agent("x"), [backlog[0], backlog[3]]).id == "old"  # the L2 case is not for level 1
    assert pick_agent(work("c-9", level=3), agents) is None


def test_a_backlog_is_spread_evenly_and_what_nobody_may_take_waits() -> None:
    agents = [agent(f"a-{n}", chats=5) for n in range(4)]
    backlog = [work(f"c-{n}", minutes=n) for n in range(18)] + [work("expert", level=3)]
    taken, after = distribute(backlog, agents)
    loads = sorted(a.load["chat"] for a in after.values())
    assert len(taken) == 18 and "expert" not in taken and loads == [4, 4, 5, 5]  # max/min 1.25, no one over 5


# ---- the indexed pool and queue give the simple functions' answers

CHANNELS = ("chat", "call", "case", "fax")  # "fax": a channel nobody has capacity on


def random_agent(rng: random.Random, n: int) -> Agent:
    skills = {s: rng.choice((-1, 0, 1, 2, 3, 4, 5)) for s in ("ibi", "ivtm", "multas", "ruido") if rng.random() < 0.5}
    capacity = {c: rng.choice((0, 1, 3, 10)) for c in CHANNELS[:3] if rng.random() < 0.8}
    load = {c: rng.randint(0, 4) for c in CHANNELS[:3] if rng.random() < 0.7}
    areas = frozenset(a for a in ("hacienda", "movilidad", "urbanismo") if rng.random() < 0.4)
    presence = rng.choice(("online", "online", "online", "busy", "away", "offline"))
    return Agent(f"a-{n:03d}", rng.randint(0, 3), areas, presence, skills, capacity, load)


def random_work(rng: random.Random, n: int) -> Work:
    return Work(f"w-{n:04d}", rng.choice(("hacienda", "movilidad", "urbanismo")), rng.randint(0, 3),
                rng.choice(CHANNELS), T0 + timedelta(minutes=rng.randint(0, 30)),
                rng.choice((None, T0 + timedelta(hours=rng.randint(0, 3)))), rng.randint(0, 2),
                rng.choice((None, "ibi", "ivtm", "multas", "ruido")), rng.choice((-1, 0, 1, 2, 3, 4, 5)))  # fmt: skip


def simple_distribute(backlog: list[Work], agents: list[Agent]) -> tuple[dict[str, str], dict[str, Agent]]:
    """``distribute`` as it was written before the pool: a scan of every agent per case."""
    pool = {a.id: a for a in agents}
    taken: dict[str, str] = {}
    for item in sorted(backlog, key=urgency):
        chosen = pick_agent(item, list(pool.values()))
        if chosen is not None:
            pool[chosen.id] = replace(chosen, load={**chosen.load, item.channel: chosen.load.get(item.channel, 0) + 1})
            taken[item.id] = chosen.id
    return taken, pool


@pytest.mark.parametrize("seed", range(40))
def test_the_pool_picks_whom_pick_agent_picks_as_agents_change(seed: int) -> None:
    rng = random.Random(seed)
    agents = {a.id: a for a in (random_agent(rng, n) for n in range(rng.randint(1, 40)))}
    pool = AgentPool(agents.values())
    for step in range(300):
        item = random_work(rng, step)
        assert pool.pick(item) == pick_agent(item, list(agents.values())), (seed, step, item)
        assert pick_agent(item, pool) == pool.pick(item)  # pick_agent on a pool asks its index
        chosen = rng.choice(list(agents))
        channel = rng.choice(CHANNELS)
        change = rng.random()
        if change < 0.4:
            agents[chosen] = pool.assign(chosen, channel)
        elif change < 0.7:
            agents[chosen] = pool.release(chosen, channel)
        else:
            agents[chosen] = random_agent(rng, int(chosen[2:]))
            pool.update(agents[chosen])
        assert pool.get(chosen) == agents[chosen] and pool.agents() == agents
    assert len(pool) == len(agents) and list(pool) == list(agents.values())


@pytest.mark.parametrize("seed", range(40))
def test_the_queue_gives_what_next_for_gives_as_work_comes_and_goes(seed: int) -> None:
    rng = random.Random(seed)
    agents = [random_agent(rng, n) for n in range(20)]
    waiting = {w.id: w for w in (random_work(rng, n) for n in range(rng.randint(0, 200)))}
    queue = WaitingQueue(waiting.values())
    for step in range(300):
        agent = rng.choice(agents)
        assert queue.next_for(agent) == next_for(agent, list(waiting.values())), (seed, step, agent)
        assert next_for(agent, queue) == queue.next_for(agent)  # next_for on a queue asks its index
        change = rng.random()
        if change < 0.4:
            taken = queue.take(agent)
            assert taken is None or waiting.pop(taken.id) == taken
        elif change < 0.6 and waiting:
            gone = rng.choice(list(waiting))
            assert queue.remove(gone) == waiting.pop(gone)
        else:  # a new contact, or one already waiting replaced (a step expired: a lower bar)
            item = random_work(rng, rng.randint(0, 400))
            waiting[item.id] = item
            queue.add(item)
        assert len(queue) == len(waiting) and {w.id for w in queue} == set(waiting)
    assert "w-nobody" not in queue


@pytest.mark.parametrize("seed", range(30))
def test_distribute_on_the_pool_is_distribute_by_scanning(seed: int) -> None:
    rng = random.Random(seed)
    agents = [random_agent(rng, n) for n in range(rng.randint(0, 30))]
    backlog = [random_work(rng, n) for n in range(rng.randint(0, 150))]
    assert distribute(backlog, agents) == simple_distribute(backlog, agents)


def test_the_pool_stays_right_after_many_changes_compact_it() -> None:
    # GIVEN two agents whose loads change thousands of times (stale entries pile up until the heaps are rebuilt)
    pool = AgentPool([agent("a", chats=3), agent("b", chats=3)])
    for _ in range(3000):
        pool.assign("a", "chat")
        pool.release("a", "chat")
    pool.assign("a", "chat")
    # THEN the answer is still the least occupied, and a full agent is never picked
    assert pool.pick(work("c-1")).id == "b"  # type: ignore[union-attr]
    for _ in range(2):
        pool.assign("a", "chat")
    for _ in range(3):
        pool.assign("b", "chat")
    assert pool.pick(work("c-2")) is None
