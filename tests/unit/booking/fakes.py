"""An in-memory ``BookingStore`` (``functions.booking.service``) over the shared ``Ledger``: every item is versioned
as its DynamoDB item is (a unit that read an older version loses the race at commit) and a new one must be absent,
so "the last place is taken once" is testable here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from functions.booking.service import Booking, Person, SlotState
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeBookingStore:
    ledger: Ledger = field(default_factory=Ledger)
    items: dict[str, Any] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def _get(self, key: str) -> Any:
        held = self.items.get(key)
        return replace(held, version=self.ledger.version(key)) if held is not None else None

    def _put(self, uow: UnitOfWork, key: str, value: Any, expected: int | None) -> None:
        self.ledger.stage(uow, key, expected, lambda: self.items.__setitem__(key, value))

    # ---- reads ----
    def fetch_slot(self, slot_id: str) -> SlotState:
        return self._get(f"slot#{slot_id}") or SlotState(slot_id)  # type: ignore[no-any-return]

    def fetch_slots(self, slot_ids: list[str]) -> dict[str, SlotState]:
        return {s: self._get(f"slot#{s}") for s in slot_ids if f"slot#{s}" in self.items}

    def fetch_booking(self, booking_id: str) -> Booking | None:
        return self._get(f"booking#{booking_id}")  # type: ignore[no-any-return]

    def fetch_bookings(self, citizen_id: str) -> list[Booking]:
        found = [self._get(k) for k, v in self.items.items() if k.startswith("booking#") and v.citizen_id == citizen_id]
        return sorted(found, key=lambda b: b.created_at)

    def fetch_person(self, citizen_id: str) -> Person:
        return self._get(f"person#{citizen_id}") or Person(citizen_id)  # type: ignore[no-any-return]

    def fetch_held_until(self, until: datetime, limit: int) -> list[Booking]:
        held = [self._get(k) for k, v in self.items.items() if k.startswith("booking#") and v.state == "held"]
        due = sorted((b for b in held if b.held_until and b.held_until <= until), key=lambda b: b.held_until)
        return due[:limit]

    # ---- writes ----
    def stage_slot(self, uow: UnitOfWork, state: SlotState) -> None:
        self._put(uow, f"slot#{state.slot_id}", state, state.version)

    def stage_booking(self, uow: UnitOfWork, b: Booking) -> None:
        self._put(uow, f"booking#{b.booking_id}", b, b.version)

    def stage_person(self, uow: UnitOfWork, person: Person) -> None:
        self._put(uow, f"person#{person.citizen_id}", person, person.version)

    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None:
        key = f"person#{citizen_id}"
        self.ledger.stage(uow, key, None, lambda: self.items.pop(key, None), any_version=True, deletes=True)
