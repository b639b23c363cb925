"""Routing criteria as ordered steps with expiry (``functions.routing.steps``): the bar lowers as steps expire,
the least occupied admitted agent is offered the contact, and after the last step the queue's fallback — never a
lower bar for an expert queue."""

from __future__ import annotations

from datetime import datetime

import pytest

from functions.core.assignment import Agent, Work
from functions.core.clock import MADRID
from functions.routing.steps import Criteria, Step, current_step, route

CALL = Work("call-1", "hacienda", 1, "call", datetime(2026, 3, 9, 10, tzinfo=MADRID), skill="tributos")
STEPS = Criteria((Step(4, 30), Step(2, 60)), then="queue", then_queue="hacienda-l2")


def agent(name: str, proficiency: int, busy: bool = False) -> Agent:
    return Agent(name, 1, frozenset(), skills={"tributos": proficiency}, capacity={"call": 1},
                 load={"call": 1 if busy else 0})  # fmt: skip


def test_the_bar_lowers_as_each_step_expires_then_the_fallback() -> None:
    assert [current_step(STEPS, s) for s in (0, 29.9, 30, 89.9, 90)] == [0, 0, 1, 1, None]
    agents = [agent("expert", 5, busy=True), agent("junior", 2)]
    assert route(CALL, STEPS, agents, 10).action == "wait"  # the expert is on a call; the junior is below 4
    assert route(CALL, STEPS, agents, 45).agent == "junior"
    moved = route(CALL, STEPS, agents, 95)
    assert (moved.action, moved.queue) == ("move", "hacienda-l2")


def test_an_expert_queue_never_falls_back_to_any_agent() -> None:
    expert = Criteria((Step(5, 120),), then="callback")
    assert route(CALL, expert, [agent("junior", 2)], 60).action == "wait"
    assert route(CALL, expert, [agent("junior", 2)], 121).action == "callback"


def test_criteria_that_cannot_be_meant_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one step"):
        Criteria((), then="case")
    with pytest.raises(ValueError, match="last step"):
        Criteria((Step(4, None), Step(2, 30)), then="case")
    with pytest.raises(ValueError, match="names the queue"):
        Criteria((Step(4, 30),), then="queue")
