"""Who takes a case (``functions.core.assignment``): never an agent without the level, the area or the skill;
push to the least occupied with free capacity per channel; pull the most urgent (priority, SLA due, age); a
backlog spread evenly."""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.core.assignment import Agent, Work, can_take, distribute, next_for, pick_agent
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
