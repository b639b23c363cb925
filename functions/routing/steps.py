"""Contact routing (CCAAS), pure logic: routing criteria as ordered steps with expiry (Amazon Connect's routing
criteria). A waiting contact is first offered only to agents of high proficiency in its skill; as each step
expires the bar lowers; after the last step it goes where the queue says — another queue (the area's level 2) or,
for an expert queue (level 3), never "any agent" but a callback or a case. Among the agents a step admits, the
least occupied takes it (``functions.core.assignment``: the same eligibility and load rule as cases).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from functions.core.assignment import Agent, Work, pick_agent


@dataclass(frozen=True)
class Step:
    """Offer the contact to agents with at least ``min_proficiency`` in its skill for ``seconds`` (``None``: no
    expiry, the last step waits as long as the contact does)."""

    min_proficiency: int
    seconds: float | None


@dataclass(frozen=True)
class Criteria:
    steps: tuple[Step, ...]
    then: Literal["queue", "callback", "case"]  # after the last step expires
    then_queue: str | None = None  # the queue it moves to (``then == "queue"``)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("routing criteria need at least one step")
        if any(s.seconds is None for s in self.steps[:-1]):
            raise ValueError("only the last step may have no expiry")
        if self.then == "queue" and not self.then_queue:
            raise ValueError("then: queue names the queue it moves to")


@dataclass(frozen=True)
class Decision:
    """``offer`` to an agent, ``wait`` at the current step, or the fallback (``move`` to another queue,
    ``callback``, ``case``) once every step expired."""

    action: Literal["offer", "wait", "move", "callback", "case"]
    step: int
    agent: str | None = None
    queue: str | None = None


def current_step(criteria: Criteria, waited: float) -> int | None:
    """The step in force after ``waited`` seconds, or ``None`` once every step has expired."""
    elapsed = 0.0
    for index, step in enumerate(criteria.steps):
        if step.seconds is None or waited < elapsed + step.seconds:
            return index
        elapsed += step.seconds
    return None


def route(contact: Work, criteria: Criteria, agents: Iterable[Agent], waited: float) -> Decision:
    """What to do with a contact that has waited ``waited`` seconds: the least occupied agent the current step
    admits, or wait, or the fallback once the steps are spent (never a lower bar than the last step's)."""
    index = current_step(criteria, waited)
    if index is None:
        if criteria.then == "queue":
            return Decision("move", len(criteria.steps), queue=criteria.then_queue)
        return Decision(criteria.then, len(criteria.steps))
    bar = criteria.steps[index].min_proficiency
    chosen = pick_agent(replace(contact, min_proficiency=max(bar, contact.min_proficiency)), agents)
    return Decision("offer", index, agent=chosen.id) if chosen else Decision("wait", index)
