"""An in-memory ``PaymentStore`` (``functions.payment.service``): the payment handlers' unit tests run on it. A
debt is written under its version, as the DynamoDB condition makes it: a unit that read an older version (or
none, when another wrote it first) loses the race at commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.core.store import UnitOfWork
from functions.payment.service import Debt
from tests.unit.fakes import Ledger


@dataclass
class FakePaymentStore:
    ledger: Ledger = field(default_factory=Ledger)
    debts: dict[str, Debt] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch(self, debt_id: str) -> Debt | None:
        return self.debts.get(debt_id)

    def fetch_by_citizen(self, citizen_id: str) -> list[Debt]:
        return sorted((d for d in self.debts.values() if d.citizen_id == citizen_id), key=lambda d: d.id)

    def stage(self, uow: UnitOfWork, debt: Debt, previous: Debt | None) -> None:
        expected = None if previous is None else previous.version
        self.ledger.stage(uow, f"debt#{debt.id}", expected, lambda: self.debts.__setitem__(debt.id, debt))

    def stage_erase(self, uow: UnitOfWork, debt: Debt) -> None:
        apply = lambda: self.debts.pop(debt.id, None)  # noqa: E731
        self.ledger.stage(uow, f"debt#{debt.id}", None, apply, any_version=True)
