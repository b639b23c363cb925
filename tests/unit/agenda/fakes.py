"""An in-memory ``AgendaStore`` (``functions.agenda.service``): events written new or under the content hash they
read, zones under their revision (a stale unit loses the race at commit), cell keys and saved events as sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.agenda.service import IngestReport, Stored, Zones
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeAgendaStore:
    ledger: Ledger = field(default_factory=Ledger)
    events: dict[str, Stored] = field(default_factory=dict)
    cells: dict[str, set[str]] = field(default_factory=dict)
    reports: dict[str, IngestReport] = field(default_factory=dict)
    zones: dict[str, Zones] = field(default_factory=dict)
    saved: dict[str, set[str]] = field(default_factory=dict)
    reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_event(self, event_id: str) -> Stored | None:
        self.reads += 1
        return self.events.get(event_id)

    def fetch_events(self, event_ids: set[str]) -> list[Stored]:
        self.reads += 1
        return [self.events[e] for e in sorted(event_ids) if e in self.events]

    def fetch_cells(self, cells: list[str]) -> set[str]:
        self.reads += 1
        return {e for c in cells for e in self.cells.get(c, set())}

    def fetch_upcoming(self, limit: int) -> list[Stored]:
        return list(self.events.values())[:limit]

    def fetch_ingest(self, ingest_id: str) -> IngestReport | None:
        return self.reports.get(ingest_id)

    def fetch_zones(self, citizen_id: str) -> Zones:
        return self.zones.get(citizen_id, Zones(citizen_id))

    def fetch_saved(self, citizen_id: str) -> set[str]:
        return set(self.saved.get(citizen_id, set()))

    def stage_event(self, uow: UnitOfWork, stored: Stored, previous: Stored | None) -> None:
        event = stored.event
        old = previous.event.cell if previous and not previous.withdrawn else None
        new = event.cell if not stored.withdrawn else None

        def apply() -> None:
            self.events[event.id] = stored
            if old:
                self.cells.setdefault(old, set()).discard(event.id)
            if new:
                self.cells.setdefault(new, set()).add(event.id)

        self.ledger.stage(uow, f"ev#{event.id}", self.ledger.version(f"ev#{event.id}") if previous else None, apply)

    def stage_ingest(self, uow: UnitOfWork, report: IngestReport) -> None:
        self.ledger.stage(uow, f"ingest#{report.ingest_id}", None, lambda: self.reports.__setitem__(report.ingest_id,
                          report), any_version=True)  # fmt: skip

    def stage_zones(self, uow: UnitOfWork, zones: Zones) -> None:
        key = f"zones#{zones.citizen_id}"
        read = self.ledger.version(key) if zones.revision > 1 else None
        self.ledger.stage(uow, key, read, lambda: self.zones.__setitem__(zones.citizen_id, zones))

    def stage_saved(self, uow: UnitOfWork, citizen_id: str, event_id: str, saved: bool) -> None:
        def apply() -> None:
            found = self.saved.setdefault(citizen_id, set())
            (found.add if saved else found.discard)(event_id)

        self.ledger.stage(uow, f"saved#{citizen_id}", None, apply, any_version=True)

    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None:
        def apply() -> None:
            self.zones.pop(citizen_id, None)
            self.saved.pop(citizen_id, None)

        self.ledger.stage(uow, f"erase#{citizen_id}", None, apply, any_version=True, deletes=True)
