"""An in-memory ``PaymentStore`` (``functions.payment.service``): the payment handlers' unit tests run on it. A
debt is written under its version, as the DynamoDB condition makes it: a unit that read an older version (or
none, when another wrote it first) loses the race at commit."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from functions.core.links import RecordLinks
from functions.core.store import UnitOfWork
from functions.payment import redsys
from functions.payment.handlers import Gateway
from functions.payment.letters import LetterRecord
from functions.payment.mandates import DirectDebit
from functions.payment.payments import Payment
from functions.payment.reconciliation import Entry
from functions.payment.redsys import Merchant
from functions.payment.service import Debt
from tests.unit.fakes import Ledger

# Redsys's public test merchant, the notifications to the local platform's address
TEST_GATEWAY = Gateway(
    Merchant.test(),
    "http://127.0.0.1:8080/v1/payments/redsys/notifications",
    "http://127.0.0.1:8080/app/payments",
    "http://127.0.0.1:8080/v1/payments/verify",
    "http://127.0.0.1:8080/desk/payments",
)


@dataclass
class FakePaymentStore:
    ledger: Ledger = field(default_factory=Ledger)
    debts: dict[str, Debt] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    letters: dict[str, LetterRecord] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    debits: dict[str, DirectDebit] = field(default_factory=dict)
    records: dict[tuple[str, str], RecordLinks] = field(default_factory=dict)
    ahead: list[UnitOfWork] = field(default_factory=list)  # units committed ahead, in order

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def stage_entry(self, uow: UnitOfWork, entry: Entry) -> None:
        apply = lambda: self.entries.__setitem__(entry.id, entry)  # noqa: E731
        self.ledger.stage(uow, f"entry#{entry.id}", None, apply)

    def fetch_entries(self, day: date) -> list[Entry]:
        return sorted((e for e in self.entries.values() if e.day == day), key=lambda e: e.id)

    def fetch_letter(self, key: str) -> LetterRecord | None:
        return self.letters.get(key)

    def stage_letter(self, uow: UnitOfWork, record: LetterRecord) -> None:
        apply = lambda: self.letters.__setitem__(record.key, record)  # noqa: E731
        self.ledger.stage(uow, f"letter#{record.key}", None, apply)

    def commit_ahead(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)
        self.ahead.append(uow)

    def fetch_debit(self, debit_id: str) -> DirectDebit | None:
        return self.debits.get(debit_id)

    def fetch_debits_by_citizen(self, citizen_id: str) -> list[DirectDebit]:
        return sorted((d for d in self.debits.values() if d.citizen_id == citizen_id), key=lambda d: d.id)

    def stage_debit(self, uow: UnitOfWork, debit: DirectDebit, previous: DirectDebit | None) -> None:
        expected = None if previous is None else previous.version
        self.ledger.stage(uow, f"debit#{debit.id}", expected, lambda: self.debits.__setitem__(debit.id, debit))

    def stage_erase_debit(self, uow: UnitOfWork, debit: DirectDebit) -> None:
        apply = lambda: self.debits.pop(debit.id, None)  # noqa: E731
        self.ledger.stage(uow, f"debit#{debit.id}", None, apply, any_version=True)

    def fetch(self, debt_id: str) -> Debt | None:
        return self.debts.get(debt_id)

    def fetch_many(self, debt_ids: frozenset[str]) -> list[Debt]:
        return sorted((self.debts[i] for i in debt_ids if i in self.debts), key=lambda d: d.id)

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        return self.records.get((source, local_id)) or RecordLinks(source, local_id)

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        key = (links.source, links.local_id)
        stored = replace(links, version=(links.version or 0) + 1)
        self.ledger.stage(uow, f"record#{key}", links.version, lambda: self.records.__setitem__(key, stored))

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        return [r for r in self.records.values() if r.citizen_id == citizen_id]

    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        key = (links.source, links.local_id)
        self.ledger.stage(uow, f"record#{key}", None, lambda: self.records.pop(key, None), any_version=True)

    def fetch_by_citizen(self, citizen_id: str) -> list[Debt]:
        return sorted((d for d in self.debts.values() if d.citizen_id == citizen_id), key=lambda d: d.id)

    def stage(self, uow: UnitOfWork, debt: Debt, previous: Debt | None) -> None:
        expected = None if previous is None else previous.version
        self.ledger.stage(uow, f"debt#{debt.id}", expected, lambda: self.debts.__setitem__(debt.id, debt))

    def stage_erase(self, uow: UnitOfWork, debt: Debt) -> None:
        apply = lambda: self.debts.pop(debt.id, None)  # noqa: E731
        self.ledger.stage(uow, f"debt#{debt.id}", None, apply, any_version=True)

    def fetch_payment(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    def fetch_payments_by_citizen(self, citizen_id: str) -> list[Payment]:
        return sorted((p for p in self.payments.values() if p.citizen_id == citizen_id), key=lambda p: p.id)

    def fetch_payment_of_code(self, code: str) -> Payment | None:
        payment_id = self.codes.get(code)
        return self.payments.get(payment_id) if payment_id else None

    def fetch_payment_of_order(self, order: str) -> Payment | None:
        payment_id = self.orders.get(order)
        return self.payments.get(payment_id) if payment_id else None

    def stage_payment(self, uow: UnitOfWork, payment: Payment, previous: Payment | None) -> None:
        expected = None if previous is None else previous.version
        self.ledger.stage(
            uow, f"payment#{payment.id}", expected, lambda: self.payments.__setitem__(payment.id, payment)
        )
        if payment.method != "bank" and (previous is None or previous.order != payment.order):
            self.ledger.stage(
                uow, f"order#{payment.order}", None, lambda: self.orders.__setitem__(payment.order, payment.id)
            )
        if payment.verification_code and (previous is None or not previous.verification_code):
            code = payment.verification_code
            self.ledger.stage(uow, f"code#{code}", None, lambda: self.codes.__setitem__(code, payment.id))


@dataclass
class FakeRefunds:
    """The gateway's refund endpoint: answers ``answer`` (or raises ``error``) and records every call, so a test
    counts how many refunds actually left PIC."""

    answer: redsys.RestAnswer = field(default_factory=lambda: redsys.RestAnswer(True, "0900"))
    error: Exception | None = None
    calls: list[tuple[str, int]] = field(default_factory=list)

    def refund(self, order: str, amount_cents: int) -> redsys.RestAnswer:
        self.calls.append((order, amount_cents))
        if self.error is not None:
            raise self.error
        return self.answer
