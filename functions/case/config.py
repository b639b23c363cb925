"""Cases (CASE), pure logic: an area's configuration as data an administrator edits — its categories (the level
that takes each, the queue, the SLA policy), its SLA policies (first response, next response, resolution, in
business hours), the states that pause the clocks, and its office hours (the business calendar the clocks run
on). Validated whole, every error named with where it is, so that an invalid version is refused and the one in
force stays; a valid one becomes the next version.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.case.sla import Target
from functions.core.calendar import BusinessCalendar
from functions.core.errors import each_error

Level = Literal[1, 2, 3]  # 0 is self-service: no case is taken there
SLUG = r"^[a-z][a-z0-9-]{1,47}$"
PAUSABLE = frozenset({"waiting-on-citizen", "waiting-on-area"})


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaPolicy(_Data):
    """Business-hour targets; a measure left out is not measured for this policy."""

    first_response_minutes: float | None = Field(None, gt=0, le=60 * 24 * 365, description="decimals allowed")
    next_response_minutes: float | None = Field(None, gt=0, le=60 * 24 * 365)
    resolution_minutes: float | None = Field(None, gt=0, le=60 * 24 * 365)
    warn_at: float = Field(0.8, gt=0, lt=1)

    @model_validator(mode="after")
    def _measures_something(self) -> Self:
        if not (self.first_response_minutes or self.next_response_minutes or self.resolution_minutes):
            raise ValueError("an SLA policy names at least one target")
        return self


class Category(_Data):
    """What the area attends: its title, the level that takes it (its queue is ``<area>-l<level>``), the SLA
    policy its cases run, and whether a breached clock escalates the case one level up (with the reason)."""

    title: dict[Literal["es", "en"], str] = Field(min_length=2)
    level: Level
    sla: str = Field(pattern=SLUG, description="the name of one of the area's SLA policies")
    escalate_on_breach: bool = False


class AreaConfig(_Data):
    """One area's case configuration (e.g. Hacienda's): what ``version`` it is, and its parts."""

    area: str = Field(pattern=SLUG)
    version: int = Field(ge=1)
    office_hours: dict[str, list[str]] = Field(description='{"mon": ["09:00-17:00"], ...}, Europe/Madrid')
    open_on_holidays: bool = False
    pausing_states: frozenset[str] = frozenset({"waiting-on-citizen"})
    sla_policies: dict[str, SlaPolicy] = Field(min_length=1)
    categories: dict[str, Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            f"categories.{name}.sla: no SLA policy {category.sla!r} (known: {', '.join(sorted(self.sla_policies))})"
            for name, category in sorted(self.categories.items())
            if category.sla not in self.sla_policies
        ]
        problems += [
            f"pausing_states: {state!r} cannot pause a clock" for state in sorted(self.pausing_states - PAUSABLE)
        ]
        problems += [f"sla_policies.{name}: not a name (a-z, 0-9, -)" for name in self.sla_policies if not _slug(name)]
        problems += [f"categories.{name}: not a name (a-z, 0-9, -)" for name in self.categories if not _slug(name)]
        try:
            BusinessCalendar.from_hours(self.office_hours, holidays_open=self.open_on_holidays)
        except ValueError as exc:
            problems.append(f"office_hours: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def queue(self, level: int) -> str:
        """The area's queue of a level: one per area and level (level 1 is general attention, served by any
        level-1 agent; levels 2 and 3 by the area's own agents)."""
        return f"{self.area}-l{level}"

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_hours(self.office_hours, holidays_open=self.open_on_holidays)

    def targets(self, category: str) -> list[Target]:
        """The SLA clocks a case of ``category`` runs, as ``sla.Target``s."""
        policy = self.sla_policies[self.categories[category].sla]
        minutes = (
            ("first-response", policy.first_response_minutes),
            ("next-response", policy.next_response_minutes),
            ("resolution", policy.resolution_minutes),
        )
        return [
            Target(measure, 60.0 * value, self.pausing_states, policy.warn_at)  # type: ignore[arg-type]
            for measure, value in minutes
            if value
        ]


def _slug(name: str) -> bool:
    return name.replace("-", "").isalnum() and name[:1].isalpha() and name == name.lower() and len(name) <= 48


def errors_of(raw: object) -> list[dict[str, str]]:
    """Every error of a proposed configuration, each with where it is (empty: valid): the fields' errors, or, once
    every field is well formed, the errors between them (a category's unknown SLA policy, hours, pausing states)."""
    try:
        AreaConfig.model_validate(raw)
    except ValidationError as exc:
        return each_error(exc)
    return []


def next_version(current: AreaConfig | None, proposed: dict[str, object]) -> AreaConfig:
    """The proposed configuration as the area's next version (``ValueError`` with every error otherwise; the
    version in force stays)."""
    raw = {**proposed, "version": (current.version + 1) if current else 1}
    problems = errors_of(raw)
    if problems:
        raise ValueError("; ".join(f"{p['field']}: {p['message']}" for p in problems))
    return AreaConfig.model_validate(raw)


DEFAULTS = Path(__file__).parent / "data" / "areas.json"


@lru_cache(maxsize=1)
def defaults() -> dict[str, AreaConfig]:
    """Version 1 of each area's configuration as shipped (``data/areas.json``): in force until an administrator
    stores another version."""
    raw = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    return {a["area"]: AreaConfig.model_validate(a) for a in raw["areas"]}
