"""An in-memory ``SurveyStore`` (``functions.survey.service``): the surveys' handler tests run on it. Surveys, the
registry and responses are versioned as their DynamoDB items are (a unit that read an older revision, or wrote a
new response another unit wrote first, loses the race at commit); invitation markers must be absent; the invited
counter is an atomic add. ``items`` holds every stored item as its attributes, to assert what is (not) stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.core.store import UnitOfWork
from functions.survey.service import Pending, Registry, Response, Survey
from tests.unit.fakes import Ledger


@dataclass
class FakeSurveyStore:
    ledger: Ledger = field(default_factory=Ledger)
    surveys: dict[str, Survey] = field(default_factory=dict)
    registry: Registry = field(default_factory=Registry)
    responses: dict[tuple[str, str], Response] = field(default_factory=dict)
    markers: dict[tuple[str, str], str] = field(default_factory=dict)
    invitations: set[tuple[str, str]] = field(default_factory=set)
    invited: dict[str, int] = field(default_factory=dict)
    pending: dict[tuple[str, str], Pending] = field(default_factory=dict)
    reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def items(self) -> list[dict[str, Any]]:
        """Every stored response and marker as the table would hold its attributes."""
        found: list[dict[str, Any]] = []
        for r in self.responses.values():
            found.append({"id": f"resp#{r.survey_id}#{r.key}", "citizen_id": r.citizen_id, "answers": r.answers,
                          "answered_at": r.answered_at, "district": r.district, "channel": r.channel})  # fmt: skip
        for (s, m), c in self.markers.items():
            found.append({"id": f"mark#{s}#{m}", "citizen_id": c, "survey": s})
        return found

    def fetch_survey(self, survey_id: str) -> Survey | None:
        self.reads += 1
        return self.surveys.get(survey_id)

    def fetch_surveys(self, survey_ids: frozenset[str]) -> list[Survey]:
        self.reads += 1
        return [self.surveys[s] for s in sorted(survey_ids) if s in self.surveys]

    def fetch_all(self) -> list[Survey]:
        return list(self.surveys.values())

    def fetch_response(self, survey_id: str, key: str) -> Response | None:
        self.reads += 1
        return self.responses.get((survey_id, key))

    def fetch_responses(self, survey_id: str) -> list[Response]:
        return [r for (s, _), r in self.responses.items() if s == survey_id]

    def fetch_citizen_responses(self, citizen_id: str) -> list[Response]:
        return [r for r in self.responses.values() if r.citizen_id == citizen_id]

    def fetch_respondent_markers(self, citizen_id: str) -> list[tuple[str, str]]:
        return [k for k, c in self.markers.items() if c == citizen_id]

    def fetch_invited(self, survey_id: str) -> int:
        return self.invited.get(survey_id, 0)

    def fetch_invitation(self, survey_id: str, key: str) -> bool:
        self.reads += 1
        return (survey_id, key) in self.invitations

    def fetch_registry(self) -> Registry:
        self.reads += 1
        return self.registry

    def fetch_due(self, now: datetime, limit: int) -> list[Pending]:
        return sorted((p for p in self.pending.values() if p.due_at <= now), key=lambda p: p.due_at)[:limit]

    def stage_survey(self, uow: UnitOfWork, survey: Survey, read_revision: int | None) -> None:
        key = f"survey#{survey.id}"
        expected = None if read_revision is None else self.ledger.version(key)
        if (
            read_revision is not None
            and self.surveys.get(survey.id)
            and self.surveys[survey.id].revision != read_revision
        ):
            expected = -1  # the survey moved on: this unit loses
        self.ledger.stage(uow, key, expected, lambda: self.surveys.__setitem__(survey.id, survey))

    def stage_registry(self, uow: UnitOfWork, registry: Registry) -> None:
        moved = Registry(registry.surveys, registry.revision + 1)
        expected = self.ledger.version("registry") if registry.revision == self.registry.revision else -1
        self.ledger.stage(uow, "registry", expected, lambda: setattr(self, "registry", moved))

    def stage_response(self, uow: UnitOfWork, response: Response) -> None:
        key = f"resp#{response.survey_id}#{response.key}"
        expected = None if response.revision == 1 else self.ledger.version(key)
        current = self.responses.get((response.survey_id, response.key))
        if response.revision > 1 and (current is None or current.revision != response.revision - 1):
            expected = -1
        self.ledger.stage(uow, key, expected,
                          lambda: self.responses.__setitem__((response.survey_id, response.key), response))  # fmt: skip

    def stage_respondent(self, uow: UnitOfWork, survey_id: str, marker: str, citizen_id: str) -> None:
        k = (survey_id, marker)
        self.ledger.stage(uow, f"mark#{k}", None, lambda: self.markers.__setitem__(k, citizen_id), any_version=True)

    def stage_invitation(self, uow: UnitOfWork, survey_id: str, key: str | None, citizen_id: str, count: int) -> None:
        if key is not None:
            self.ledger.stage(uow, f"inv#{survey_id}#{key}", None, lambda: self.invitations.add((survey_id, key)))
        if count:

            def add() -> None:
                self.invited[survey_id] = self.invited.get(survey_id, 0) + count

            self.ledger.stage(uow, f"stats#{survey_id}", None, add, any_version=True)

    def stage_pending(self, uow: UnitOfWork, pending: Pending) -> None:
        k = (pending.survey_id, pending.key)
        self.ledger.stage(uow, f"due#{k}", None, lambda: self.pending.__setitem__(k, pending))

    def stage_release(self, uow: UnitOfWork, pending: Pending) -> None:
        k = (pending.survey_id, pending.key)
        self.ledger.stage(uow, f"due#{k}", self.ledger.version(f"due#{k}"), lambda: self.pending.pop(k))

    def stage_erase_response(self, uow: UnitOfWork, response: Response) -> None:
        k = (response.survey_id, response.key)
        self.ledger.stage(uow, f"erase#{k}", None, lambda: self.responses.pop(k, None), any_version=True)

    def stage_erase_respondent(self, uow: UnitOfWork, survey_id: str, marker: str) -> None:
        k = (survey_id, marker)
        self.ledger.stage(uow, f"erase-mark#{k}", None, lambda: self.markers.pop(k, None), any_version=True)
