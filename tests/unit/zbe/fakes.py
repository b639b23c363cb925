"""An in-memory ``ZbeStore`` (``functions.zbe.service``) over the shared ``Ledger``: every item is versioned as its
DynamoDB item is, so a unit that read an older version loses the race at commit."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from functions.core.store import UnitOfWork
from functions.zbe.service import Application, Vehicle
from tests.unit.fakes import Ledger


@dataclass
class FakeZbeStore:
    ledger: Ledger = field(default_factory=Ledger)
    items: dict[str, Any] = field(default_factory=dict)
    by_citizen: dict[str, set[str]] = field(default_factory=dict)  # index by-citizen: keys of the person's applications

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def _get(self, key: str) -> Any:
        held = self.items.get(key)
        return replace(held, version=self.ledger.version(key)) if held is not None else None

    def _apps(self) -> list[Application]:
        return [self._get(k) for k in self.items if k.startswith("app#")]

    def fetch_vehicle(self, plate: str) -> Vehicle | None:
        return self._get(f"veh#{plate}")  # type: ignore[no-any-return]

    def fetch_application(self, app_id: str) -> Application | None:
        return self._get(f"app#{app_id}")  # type: ignore[no-any-return]

    def fetch_by_citizen(self, citizen_id: str) -> list[Application]:
        found = [self._get(k) for k in self.by_citizen.get(citizen_id, ()) if k in self.items]
        return sorted(found, key=lambda a: a.created_at, reverse=True)

    def fetch_pending(self, limit: int) -> list[Application]:
        return sorted((a for a in self._apps() if a.state == "pending-review"), key=lambda a: a.created_at)[:limit]

    def fetch_granted(self) -> list[Application]:
        return [a for a in self._apps() if a.state == "granted"]

    def _put(self, uow: UnitOfWork, key: str, value: Any, expected: int | None) -> None:
        self.ledger.stage(uow, key, expected, lambda: self.items.__setitem__(key, value))

    def stage_vehicle(self, uow: UnitOfWork, vehicle: Vehicle) -> None:
        self._put(uow, f"veh#{vehicle.plate}", vehicle, vehicle.version)

    def stage_application(self, uow: UnitOfWork, app: Application) -> None:
        key = f"app#{app.id}"

        def apply() -> None:
            self.items[key] = app
            self.by_citizen.setdefault(app.citizen_id, set()).add(key)

        self.ledger.stage(uow, key, app.version, apply)

    def stage_erase_application(self, uow: UnitOfWork, app: Application) -> None:
        key = f"app#{app.id}"
        self.ledger.stage(uow, key, None, lambda: self.items.pop(key, None), any_version=True, deletes=True)
