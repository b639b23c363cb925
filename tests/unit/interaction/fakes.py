"""An in-memory ``InteractionStore`` (``functions.interaction.service``): the interaction handlers' unit tests
run on it. An interaction is written once: a second unit storing the same id loses the race at commit, as the
DynamoDB condition (absent) makes it. A record's links are versioned as the DynamoDB item is: a unit that read
an older version loses the race; a stamp loses it if the interaction was erased meanwhile."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from functions.core.links import RecordLinks
from functions.core.paging import Position
from functions.core.store import UnitOfWork
from functions.interaction.service import Stored
from tests.unit.fakes import Ledger


@dataclass
class FakeInteractionStore:
    ledger: Ledger = field(default_factory=Ledger)
    log: dict[str, Stored] = field(default_factory=dict)
    pages: list[tuple[str, int, Position | None]] = field(default_factory=list)  # the page reads asked for
    records: dict[tuple[str, str], RecordLinks] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch(self, interaction_id: str) -> Stored | None:
        return self.log.get(interaction_id)

    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        mine = [s for s in self.log.values() if s.citizen_id == citizen_id]
        return sorted(mine, key=lambda s: s.recorded_at)

    def fetch_citizen_page(self, citizen_id: str, limit: int, after: Position | None) -> list[Stored]:
        """As the index ``by-citizen`` read backwards: newest first, strictly after ``after``."""
        self.pages.append((citizen_id, limit, after))
        newest = sorted(self.fetch_by_citizen(citizen_id), key=lambda s: (s.recorded_at, s.id), reverse=True)
        return [s for s in newest if after is None or (s.recorded_at, s.id) < (after.at, after.id)][:limit]

    def fetch_many(self, interaction_ids: frozenset[str]) -> list[Stored]:
        found = [self.log[i] for i in interaction_ids if i in self.log]
        return sorted(found, key=lambda s: (s.recorded_at, s.id))

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        """The record with the ledger's version of it as its version (``None``: never written), so that a
        record erased and written again is still checked against what was read."""
        held = self.records.get((source, local_id), RecordLinks(source, local_id))
        return replace(held, version=self.ledger.version(f"record#{source}#{local_id}"))

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        return [r for r in self.records.values() if r.citizen_id == citizen_id]

    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        key = (links.source, links.local_id)
        apply = lambda: self.records.pop(key, None)  # noqa: E731
        self.ledger.stage(uow, f"record#{links.source}#{links.local_id}", None, apply, any_version=True)

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        key = (links.source, links.local_id)
        apply = lambda: self.records.__setitem__(key, links)  # noqa: E731
        self.ledger.stage(uow, f"record#{links.source}#{links.local_id}", links.version, apply)

    def stage_stamp(self, uow: UnitOfWork, stored: Stored, citizen_id: str) -> None:
        key = f"interaction#{stored.id}"

        def apply() -> None:
            self.log[stored.id] = replace(self.log[stored.id], citizen_id=citizen_id)

        self.ledger.stage(uow, key, self.ledger.version(key), apply)

    def stage(self, uow: UnitOfWork, stored: Stored) -> None:
        self.ledger.stage(uow, f"interaction#{stored.id}", None, lambda: self.log.__setitem__(stored.id, stored))

    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None:
        apply = lambda: self.log.pop(stored.id, None)  # noqa: E731
        self.ledger.stage(uow, f"interaction#{stored.id}", None, apply, any_version=True)
