"""An in-memory ``RecommendStore`` over the shared ``Ledger``: a profile is versioned as its DynamoDB item is (a unit
that read an older version loses the race at commit), agenda events are kept by district."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from functions.core.store import UnitOfWork
from functions.recommend.service import AgendaEvent, Profile
from tests.unit.fakes import Ledger


@dataclass
class FakeRecommendStore:
    ledger: Ledger = field(default_factory=Ledger)
    profiles: dict[str, Profile] = field(default_factory=dict)
    events: dict[str, AgendaEvent] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_profile(self, citizen_id: str) -> Profile:
        self.reads.append(f"profile#{citizen_id}")
        held = self.profiles.get(citizen_id)
        return replace(held, version=self.ledger.version(f"profile#{citizen_id}")) if held else Profile(citizen_id)

    def fetch_events(self, districts: list[str]) -> list[AgendaEvent]:
        self.reads.extend(f"district#{d}" for d in districts)
        return [e for e in self.events.values() if e.district in districts]

    def fetch_event(self, event_id: str) -> AgendaEvent | None:
        return self.events.get(event_id)

    def stage_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        key = f"profile#{profile.citizen_id}"
        self.ledger.stage(uow, key, profile.version, lambda: self.profiles.__setitem__(profile.citizen_id, profile))

    def stage_event(self, uow: UnitOfWork, event: AgendaEvent, previous: AgendaEvent | None) -> None:
        apply = lambda: self.events.__setitem__(event.event_id, event)  # noqa: E731
        self.ledger.stage(uow, f"event#{event.event_id}", None, apply, any_version=True)

    def stage_erase_profile(self, uow: UnitOfWork, citizen_id: str) -> None:
        apply = lambda: self.profiles.pop(citizen_id, None)  # noqa: E731
        self.ledger.stage(uow, f"profile#{citizen_id}", None, apply, any_version=True, deletes=True)
