"""An in-memory ``InteractionStore`` (``functions.interaction.service``): the interaction handlers' unit tests
run on it. An interaction is written once: a second unit storing the same id loses the race at commit, as the
DynamoDB condition (absent) makes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.core.paging import Position
from functions.core.store import UnitOfWork
from functions.interaction.service import Stored
from tests.unit.fakes import Ledger


@dataclass
class FakeInteractionStore:
    ledger: Ledger = field(default_factory=Ledger)
    log: dict[str, Stored] = field(default_factory=dict)
    pages: list[tuple[str, int, Position | None]] = field(default_factory=list)  # the page reads asked for

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch(self, interaction_id: str) -> Stored | None:
        return self.log.get(interaction_id)

    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        mine = [s for s in self.log.values() if s.interaction.citizen_id == citizen_id]
        return sorted(mine, key=lambda s: s.recorded_at)

    def fetch_citizen_page(self, citizen_id: str, limit: int, after: Position | None) -> list[Stored]:
        """As the index ``by-citizen`` read backwards: newest first, strictly after ``after``."""
        self.pages.append((citizen_id, limit, after))
        newest = sorted(self.fetch_by_citizen(citizen_id), key=lambda s: (s.recorded_at, s.id), reverse=True)
        return [s for s in newest if after is None or (s.recorded_at, s.id) < (after.at, after.id)][:limit]

    def stage(self, uow: UnitOfWork, stored: Stored) -> None:
        self.ledger.stage(uow, f"interaction#{stored.id}", None, lambda: self.log.__setitem__(stored.id, stored))

    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None:
        apply = lambda: self.log.pop(stored.id, None)  # noqa: E731
        self.ledger.stage(uow, f"erase#{stored.id}", None, apply, any_version=True)
