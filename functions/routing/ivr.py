"""Contact routing (CCAAS), pure logic: IVR flows as versioned data, validated, and interpreted one caller input
at a time. Telephony is the connector's (a CCaaS or PBX sends each key pressed or intent recognised); this module
decides what the caller hears next and, in the end, the queue a call goes to, a callback, or the end of the call.

A flow is nodes by name: ``hours`` (open or closed on a business calendar, ``functions.core.calendar``: Madrid's
holidays and the service's hours), ``menu`` (a prompt, DTMF options and recognised intents, retries, where an
unmatched answer goes), ``message`` (a prompt, then the next node), ``queue`` (route to a queue with a skill and a
priority), ``callback`` (offer a call back) and ``hangup``. A flow is refused whole with every error named: an
unknown node, a start that does not exist, a loop that never waits for the caller, a prompt without Spanish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.core.calendar import BusinessCalendar
from functions.core.errors import each_error

NAME = r"^[a-z0-9][a-z0-9-]{0,47}$"
Language = Literal["es", "en"]
MAX_STEPS = 64  # a call that passes this many nodes without reaching an end is the flow's error, never a hang


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Node):
    es: str = Field(min_length=1, max_length=1000)
    en: str | None = Field(None, max_length=1000)

    def said(self, language: Language) -> str:
        return (self.en if language == "en" and self.en else self.es) or self.es


class Hours(_Node):
    kind: Literal["hours"]
    hours: dict[str, list[str]]
    open_on_holidays: bool = False
    open: str = Field(pattern=NAME)
    closed: str = Field(pattern=NAME)


class Menu(_Node):
    kind: Literal["menu"]
    prompt: Prompt
    options: dict[Annotated[str, Field(pattern=r"^[0-9*#]$")], str] = Field(default_factory=dict)
    intents: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,47}$")], str] = Field(default_factory=dict)
    retries: int = Field(2, ge=0, le=5)
    no_match: str = Field(pattern=NAME, description="where the call goes when no answer matched after the retries")


class Message(_Node):
    kind: Literal["message"]
    prompt: Prompt
    next: str = Field(pattern=NAME)


class Queue(_Node):
    kind: Literal["queue"]
    queue: str = Field(pattern=NAME)
    skill: str | None = Field(None, pattern=NAME)
    priority: int = Field(0, ge=0, le=9)


class Callback(_Node):
    kind: Literal["callback"]
    queue: str = Field(pattern=NAME)


class Hangup(_Node):
    kind: Literal["hangup"]


Node = Annotated[Hours | Menu | Message | Queue | Callback | Hangup, Field(discriminator="kind")]


class Flow(_Node):
    """One IVR flow, one version of it."""

    flow: str = Field(pattern=NAME)
    version: int = Field(ge=1)
    start: str = Field(pattern=NAME)
    nodes: dict[str, Node] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [f"start: no node {self.start!r}"] if self.start not in self.nodes else []
        for name, node in sorted(self.nodes.items()):
            problems += [
                f"nodes.{name}.{via}: no node {target!r}" for via, target in _exits(node) if target not in self.nodes
            ]
            if isinstance(node, Hours):
                try:
                    BusinessCalendar.from_hours(node.hours, holidays_open=node.open_on_holidays)
                except ValueError as exc:
                    problems.append(f"nodes.{name}.hours: {exc}")
        if not problems:
            problems += [f"nodes.{name}: a loop that never waits for the caller" for name in _silent_loops(self.nodes)]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _exits(node: _Node) -> list[tuple[str, str]]:
    if isinstance(node, Hours):
        return [("open", node.open), ("closed", node.closed)]
    if isinstance(node, Menu):
        return [*((f"options.{k}", v) for k, v in node.options.items()),
                *((f"intents.{k}", v) for k, v in node.intents.items()), ("no_match", node.no_match)]  # fmt: skip
    if isinstance(node, Message):
        return [("next", node.next)]
    return []


def _silent_loops(nodes: dict[str, Node]) -> list[str]:
    """Nodes on a cycle of hours and messages only (no menu waits for the caller on it): a call would spin."""
    silent = {name for name, node in nodes.items() if isinstance(node, Hours | Message)}
    looping = []
    for name in sorted(silent):
        seen, frontier = set(), [t for _, t in _exits(nodes[name]) if t in silent]
        while frontier:
            current = frontier.pop()
            if current == name:
                looping.append(name)
                break
            if current not in seen:
                seen.add(current)
                frontier += [t for _, t in _exits(nodes[current]) if t in silent]
    return looping


def errors_of(raw: object) -> list[dict[str, str]]:
    """Every error of a proposed flow, each with where it is (empty: valid)."""
    try:
        Flow.model_validate(raw)
    except ValidationError as exc:
        return each_error(exc)
    return []


# ---- a call through a flow ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Where a call ends up: ``queue`` (with skill and priority), ``callback`` (a queue to call back from),
    ``hangup``, or ``waiting`` (the flow waits for the caller at ``node``); what the caller heard on the way."""

    kind: Literal["queue", "callback", "hangup", "waiting"]
    node: str
    said: tuple[str, ...]
    queue: str | None = None
    skill: str | None = None
    priority: int = 0


def run(flow: Flow, answers: list[str], at: datetime, language: Language = "es") -> Outcome:
    """A call from the start with the caller's answers in order (a key, or an intent recognised): where it ends
    up and what it heard. An unmatched answer replays the menu until its retries are spent, then ``no_match``."""
    said: list[str] = []
    pending = list(answers)
    name, tries = flow.start, 0
    for _ in range(MAX_STEPS):
        node = flow.nodes[name]
        if isinstance(node, Hours):
            calendar = BusinessCalendar.from_hours(node.hours, holidays_open=node.open_on_holidays)
            name = node.open if calendar.is_open(at) else node.closed
        elif isinstance(node, Message):
            said.append(node.prompt.said(language))
            name = node.next
        elif isinstance(node, Menu):
            said.append(node.prompt.said(language))
            if not pending:
                return Outcome("waiting", name, tuple(said))
            answer = pending.pop(0).strip().lower()
            chosen = node.options.get(answer) or node.intents.get(answer)
            if chosen is None and tries < node.retries:
                tries += 1
                continue
            name, tries = (chosen or node.no_match), 0
        elif isinstance(node, Queue):
            return Outcome("queue", name, tuple(said), node.queue, node.skill, node.priority)
        elif isinstance(node, Callback):
            return Outcome("callback", name, tuple(said), node.queue)
        else:
            return Outcome("hangup", name, tuple(said))
    raise ValueError(f"flow {flow.flow} v{flow.version}: more than {MAX_STEPS} steps without an end")
