"""Fines and taxes (PAY), pure logic: a debt's identity, replay or correction, and what it costs today.

A debt is what an area system issued to a person: a fine (``fine.issued``, Multas) or a tax receipt
(``tax.receipt.issued``, Tributos). Its PIC id is its kind and the area system's own id
(``fine-MUL-2026-0004211``, ``receipt-IBI-2026-000912345``), stable across redeliveries. The same content
again changes nothing; other content under the same id is a correction, taken while the debt is unpaid and
refused once it is paid (a paid debt is never re-priced behind the citizen's back).

What a debt costs is not computed here: ``policies/payment`` prices it for the day it is asked, with the
rule and its legal source (docs/compliance.md), so a change of law is a change of data, not of code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.payment import FineIssued, TaxReceiptIssued
from functions.core.errors import PicError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.links import RecordLinks
    from functions.core.store import UnitOfWork
    from functions.payment.letters import LetterRecord
    from functions.payment.mandates import DirectDebit
    from functions.payment.payments import Payment
    from functions.payment.reconciliation import Entry

Issued = FineIssued | TaxReceiptIssued
Kind = Literal["fine", "tax-receipt"]
POLICY = "payment"


class DebtAlreadyPaidError(PicError):
    status, slug, title = 422, "debt-already-paid", "This debt is already paid"


@dataclass(frozen=True)
class Debt:
    """A debt as stored: PIC's id, what the area system issued, who sent it and when it arrived."""

    id: str
    kind: Kind
    citizen_id: str | None  # None: named by an area system's record C360 has not linked yet (nobody sees it)
    issued: Issued
    content_sha256: str
    source: str
    received_at: datetime
    status: Literal["pending", "paid"] = "pending"
    version: int = 1
    claimed_by: str | None = None  # the payment under way at the gateway (payments.holds_debts)
    paid_by: str | None = None  # the payment that paid it


class PaymentStore(Protocol):
    """The port the use cases need (``storage.DynamoPaymentStore`` in production)."""

    def fetch(self, debt_id: str) -> Debt | None: ...

    def fetch_by_citizen(self, citizen_id: str) -> list[Debt]: ...

    def fetch_many(self, debt_ids: frozenset[str]) -> list[Debt]:
        """The debts of these ids that exist (a record's members; erased ones are absent)."""

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        """PAY's copy of C360's link of an area system's record, and the debts named by it."""

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """The record's links if still at the version read."""

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]: ...

    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None: ...

    def stage(self, uow: UnitOfWork, debt: Debt, previous: Debt | None) -> None: ...

    def stage_erase(self, uow: UnitOfWork, debt: Debt) -> None: ...

    def fetch_payment(self, payment_id: str) -> Payment | None: ...

    def fetch_payments_by_citizen(self, citizen_id: str) -> list[Payment]: ...

    def fetch_payment_of_order(self, order: str) -> Payment | None: ...

    def fetch_payment_of_code(self, code: str) -> Payment | None: ...

    def stage_payment(self, uow: UnitOfWork, payment: Payment, previous: Payment | None) -> None:
        """The payment if still as read; a new one with its order number, which no other attempt may hold."""

    def stage_entry(self, uow: UnitOfWork, entry: Entry) -> None:
        """A ledger entry of money settled, only if absent."""

    def fetch_entries(self, day: date) -> list[Entry]:
        """The ledger entries of one local day."""

    def fetch_letter(self, key: str) -> LetterRecord | None:
        """The letter of ``key`` (referencia-identificación), if PIC printed it: its debt, amount and rule."""

    def stage_letter(self, uow: UnitOfWork, record: LetterRecord) -> None:
        """A printed letter and its debt, only if no letter holds its key."""

    def fetch_debit(self, debit_id: str) -> DirectDebit | None: ...

    def fetch_debits_by_citizen(self, citizen_id: str) -> list[DirectDebit]: ...

    def stage_debit(self, uow: UnitOfWork, debit: DirectDebit, previous: DirectDebit | None) -> None:
        """The direct debit if still as read (absent, or at ``previous``'s version)."""

    def stage_erase_debit(self, uow: UnitOfWork, debit: DirectDebit) -> None: ...

    def commit_ahead(self, uow: UnitOfWork) -> None:
        """Make ``uow`` durable before the use case goes on: a refund's claim before the gateway is called."""


def kind_of(issued: Issued) -> Kind:
    return "fine" if isinstance(issued, FineIssued) else "tax-receipt"


def debt_id(issued: Issued) -> str:
    """PIC's id: the kind and the area system's own id (a path segment: neither holds a slash)."""
    if isinstance(issued, FineIssued):
        return f"fine-{issued.fine_id}"
    return f"receipt-{issued.receipt_id}"


def content_hash(issued: Issued) -> str:
    return hashlib.sha256(issued.model_dump_json().encode()).hexdigest()


def record_of(issued: Issued) -> tuple[str, str] | None:
    """The area system's record a debt names its person by, when it names no golden record."""
    if issued.citizen_id or issued.record is None:
        return None
    return issued.record.source, issued.record.local_id


def prepare(
    issued: Issued, source: str, existing: Debt | None, now: datetime, linked: str | None = None
) -> Debt | None:
    """What to store, or ``None`` for a replay of the same content. A correction of a paid debt is
    ``DebtAlreadyPaidError`` (the event goes to the dead letters with that reason). ``linked`` is the golden
    record C360 links the debt's record to, when it names a record (``None``: not linked yet)."""
    citizen_id = issued.citizen_id or linked
    digest = content_hash(issued)
    if existing is not None:
        if existing.content_sha256 == digest:
            return None
        if existing.status == "paid":
            raise DebtAlreadyPaidError(
                f"{existing.id} is paid; a correction after payment is a refund or a new debt, not a change"
            )
        return replace(
            existing,
            citizen_id=citizen_id,
            issued=issued,
            content_sha256=digest,
            source=source,
            received_at=now,
            version=existing.version + 1,
        )
    return Debt(debt_id(issued), kind_of(issued), citizen_id, issued, digest, source, now)


# ---- pricing: the policy's question and the API's view --------------------------------------------------


def pricing_input(debt: Debt, now: datetime) -> dict[str, Any]:
    """``policies/payment``'s input: the debt as the policy reads it and the minute asked about. The policy
    compares local dates only, so the minute is exact at every date's boundary and the same debt read again
    within it is the same question (the engine's memo answers it)."""
    minute = now.replace(second=0, microsecond=0).isoformat()
    return {"now": minute, "debt": {**debt.issued.model_dump(mode="json"), "kind": debt.kind}}


def due_view(decision: dict[str, Any]) -> dict[str, Any]:
    """What is due today as the API shows it: the policy's figures, rule and source, and what changes after."""
    keys = ("amount_due_cents", "base_cents", "until", "stage", "legal_source", "notice", "then", "direct_debit_bonus")
    return {"payable": bool(decision["allow"]), **{k: decision.get(k) for k in keys}, "why": decision["reasons"]}


def view(debt: Debt, due: dict[str, Any]) -> dict[str, Any]:
    """One debt as ``GET /v1/citizens/{id}/debts`` shows it."""
    issued = debt.issued
    common = {"id": debt.id, "kind": debt.kind, "status": debt.status, "amount_cents": issued.amount_cents}
    if isinstance(issued, FineIssued):
        detail: dict[str, Any] = {
            "reference": issued.fine_id,
            "regime": issued.regime,
            "severity": issued.severity,
            "infraction": issued.infraction.model_dump(),
            "plate": issued.plate,
            "notified_at": issued.notified_at.isoformat(),
        }
    else:
        detail = {
            "reference": issued.receipt_id,
            "tax": issued.tax,
            "concept": issued.concept,
            "object": issued.object.model_dump(),
            "period": issued.period,
            "voluntary_period": issued.voluntary_period.model_dump(mode="json"),
            "direct_debit": issued.direct_debit.model_dump(),
        }
    return {**common, **detail, "due": due}


def summary(debts: list[dict[str, Any]]) -> dict[str, Any]:
    """What a viewer who may see only a summary gets: how many, what is due today in all, the next date."""
    pending = [d for d in debts if d["status"] == "pending"]
    dates = sorted(d["due"]["until"] for d in pending if d["due"]["until"])
    return {
        "count": len(pending),
        "amount_due_cents": sum(d["due"]["amount_due_cents"] for d in pending if d["due"]["payable"]),
        "next_date": dates[0] if dates else None,
        "view": "summary",
    }


def folder_groups(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Receipts as a tax folder shows them: by tax, then year (newest first), with what was issued, paid and is
    still pending in each."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for receipt in receipts:
        groups.setdefault((receipt["tax"], receipt["period"][:4]), []).append(receipt)
    by_tax: dict[str, list[dict[str, Any]]] = {}
    for (tax, year), rows in sorted(groups.items(), key=lambda g: (g[0][0], -int(g[0][1]))):
        rows.sort(key=lambda r: r["period"], reverse=True)
        paid = [r for r in rows if r["status"] == "paid"]
        by_tax.setdefault(tax, []).append(
            {
                "year": year,
                "receipts": rows,
                "issued_cents": sum(r["amount_cents"] for r in rows),
                "paid_cents": sum((r["payment"] or {}).get("amount_cents") or r["amount_cents"] for r in paid),
                "pending": len(rows) - len(paid),
            }
        )
    return [{"tax": tax, "years": years} for tax, years in by_tax.items()]
