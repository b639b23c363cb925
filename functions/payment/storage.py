"""Fines and taxes storage: one DynamoDB table ``payment``, keyed by ``id``.

- ``id=fine-<fine_id>`` or ``receipt-<receipt_id>`` (``DebtItem``): one debt as the area system issued it
  (``issued``: the event's data as JSON, with its ``content_sha256``), the person's ``citizen_id``, its
  ``status`` and a ``version`` every write is conditioned on (a correction racing another loses and is
  decided again on what the first wrote).
- ``id=pay-<uuid hex>`` (``PaymentItem``): one payment (``functions.payment.payments.Payment``): its charges as
  JSON, its state, the current attempt's Redsys order and the outcome; every write conditioned on its ``version``.
- ``id=code-<verification code>`` (``CodeItem``): which payment a receipt's verification code belongs to,
  written with the approval, only if absent.
- ``id=entry-<payment>-<c<n>|refund id>`` (``EntryItem``): one settled movement of money (a debt charged, a
  refund made), written once in the unit that settled it; index ``by-day`` (``day``, ``id``, sparse) answers the
  daily reconciliation export.
- ``id=letter-<referencia>-<identificación>`` (``LetterItem``): which debt a printed carta de pago (Cuaderno 60)
  pays, written the first time it is printed.
- ``id=debit-<citizen_id>-<tax object>`` (``DebitItem``): a person's direct debit of one tax object
  (``functions.payment.mandates.DirectDebit``): its SEPA Core mandates as JSON, newest last; every write conditioned
  on its ``version``.
- ``id=rec#<source>#<local_id>`` (``RecordItem``): PAY's copy of C360's link of an area system's record that
  debts name their person by (``functions.core.links.RecordLinks``): the golden record as ``citizen_id`` (so the
  person's records are in ``by-citizen``), when it was linked, the debts named by it; conditioned on ``version``.
- ``id=order-<order>`` (``OrderItem``): which payment a Redsys order number belongs to, written with the payment
  and only if absent, so that no two attempts ever share one (Redsys would refuse it: SIS0051).
A debt being paid names the payment (``claimed_by``), and a paid one the payment that paid it (``paid_by``).
Index ``by-citizen`` (``citizen_id``, ``id``): a person's debts and payments, for ``GET /v1/citizens/{id}/debts``,
the RGPD export and erasure. No TTL: how long debts are kept is a retention rule (``policies/rgpd/retention``, domain
``payment``), applied by the erasure path.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from events.payment import TaxObject
from functions.core.links import RecordLinks
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.payment.letters import LetterRecord
from functions.payment.mandates import DirectDebit, Mandate
from functions.payment.payments import Charge, Payment, Refund
from functions.payment.reconciliation import Entry
from functions.payment.service import Debt, Issued

_ISSUED: TypeAdapter[Issued] = TypeAdapter(Issued)


class ByCitizen(GlobalSecondaryIndex["DebtItem"]):  # type: ignore[no-untyped-call]
    """A person's debts."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class TableByDay(GlobalSecondaryIndex["DebtItem"]):  # type: ignore[no-untyped-call]
    """The table's by-day index, declared on the model that defines the table (``EntryItem.by_day`` reads it)."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@defines_table
class DebtItem(StoreModel):
    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    citizen_id = UnicodeAttribute(null=True)  # None until C360 links the record a debt names (sparse in by-citizen)
    issued = UnicodeAttribute()  # JSON of events.payment.FineIssued or TaxReceiptIssued
    content_sha256 = UnicodeAttribute()
    source = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    claimed_by = UnicodeAttribute(null=True)
    paid_by = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)  # never set on a debt: declares the table's by-day key (EntryItem's)

    by_citizen = ByCitizen()
    by_day = TableByDay()


class PaymentsByCitizen(GlobalSecondaryIndex["PaymentItem"]):  # type: ignore[no-untyped-call]
    """A person's payments: the same index as ``ByCitizen``, read as payments."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class PaymentItem(StoreModel):
    """A payment, in the ``payment`` table beside the debts it pays (the table is ``DebtItem``'s)."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="payment")
    citizen_id = UnicodeAttribute()
    charges = UnicodeAttribute()  # JSON: [{debt_id, amount_cents, stage, legal_source}]
    method = UnicodeAttribute()
    order = UnicodeAttribute()
    state = UnicodeAttribute()
    agent = UnicodeAttribute(null=True)
    purpose = UnicodeAttribute(null=True)
    outcome_code = NumberAttribute(null=True)
    authorisation_code = UnicodeAttribute(null=True)
    refund_due = UnicodeAttribute(default="[]")  # JSON: debt ids
    verification_code = UnicodeAttribute(null=True)
    refunds = UnicodeAttribute(default="[]")  # JSON: [{id, amount_cents, reason, by, purpose, state, ...}]
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute()

    by_citizen = PaymentsByCitizen()


class CodeItem(StoreModel):
    """A receipt's verification code and the payment it belongs to."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="receipt-code")
    payment_id = UnicodeAttribute()


class ByDay(GlobalSecondaryIndex["EntryItem"]):  # type: ignore[no-untyped-call]
    """A day's ledger entries (sparse: only entries have a ``day``), for the reconciliation export."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class EntryItem(StoreModel):
    """One settled movement of money (``reconciliation.Entry``), written once with what settled it."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="entry")
    day = UnicodeAttribute()
    movement = UnicodeAttribute()  # charge | refund
    payment_id = UnicodeAttribute()
    method = UnicodeAttribute()
    order = UnicodeAttribute()
    amount_cents = NumberAttribute()
    debt_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    gateway_code = UnicodeAttribute(default="")
    settled_at = UTCDateTimeAttribute()

    by_day = ByDay()


class LetterItem(StoreModel):
    """A carta de pago PIC printed (``letter-<referencia>-<identificación>``) and the debt it pays: how the bank's
    collection file finds the debt. Written only if absent; the same letter printed again writes nothing."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="letter")
    debt_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    due = UnicodeAttribute()  # the last day the bank may collect it, ISO date
    stage = UnicodeAttribute()  # the pricing rule's stage and legal source: a collection pays at that rule
    legal_source = UnicodeAttribute()


class DebitsByCitizen(GlobalSecondaryIndex["DebitItem"]):  # type: ignore[no-untyped-call]
    """A person's direct debits: the same index as ``ByCitizen``, read as direct debits."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class DebitItem(StoreModel):
    """A person's direct debit of one tax object and its mandates (``mandates.DirectDebit``)."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="direct-debit")
    citizen_id = UnicodeAttribute()
    object = UnicodeAttribute()  # JSON of events.payment.TaxObject
    taxes = UnicodeAttribute()  # JSON: ["IBI"]
    modality = UnicodeAttribute()
    source = UnicodeAttribute()
    mandates = UnicodeAttribute()  # JSON: [{reference, iban, holder, signed_on, by, purpose, state, ended_on}]
    changed_at = UTCDateTimeAttribute()
    version = NumberAttribute()

    by_citizen = DebitsByCitizen()


class RecordsByCitizen(GlobalSecondaryIndex["RecordItem"]):  # type: ignore[no-untyped-call]
    """The records linked to a person: the same index as ``ByCitizen``, read as records."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class RecordItem(StoreModel):
    """An area system's record that debts name their person by, and C360's link of it (``RecordLinks``)."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="record-links")
    citizen_id = UnicodeAttribute(null=True)  # the golden record it is linked to (by-citizen), None until linked
    linked_at = UTCDateTimeAttribute(null=True)
    members = UnicodeSetAttribute(null=True)  # the debts named by the record
    version = NumberAttribute()

    by_citizen = RecordsByCitizen()


def record_id(source: str, local_id: str) -> str:
    """``rec#<source>#<local_id>``: neither part holds a ``#`` (``events.citizen``'s patterns)."""
    return f"rec#{source}#{local_id}"


class OrderItem(StoreModel):
    """A Redsys order number and the payment it belongs to."""

    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="order")
    payment_id = UnicodeAttribute()


def _debt(item: DebtItem) -> Debt:
    received_at: datetime = item.received_at
    issued = _ISSUED.validate_json(item.issued)
    return Debt(
        id=item.id,
        kind="fine" if item.kind == "fine" else "tax-receipt",
        citizen_id=item.citizen_id,
        issued=issued,
        content_sha256=item.content_sha256,
        source=item.source,
        received_at=received_at,
        status="paid" if item.status == "paid" else "pending",
        version=int(item.version),
        claimed_by=item.claimed_by,
        paid_by=item.paid_by,
    )


def _payment(item: PaymentItem) -> Payment:
    created_at: datetime = item.created_at
    finished_at: datetime | None = item.finished_at
    charges: list[dict[str, Any]] = json.loads(item.charges)
    return Payment(
        id=item.id,
        citizen_id=item.citizen_id,
        charges=tuple(Charge(**charge) for charge in charges),
        method=item.method if item.method in ("bizum", "bank") else "card",  # type: ignore[arg-type]
        order=item.order,
        created_at=created_at,
        state=item.state,  # type: ignore[arg-type]  # written from payments.State only
        agent=item.agent,
        purpose=item.purpose,
        outcome_code=None if item.outcome_code is None else int(item.outcome_code),
        authorisation_code=item.authorisation_code or "",
        finished_at=finished_at,
        refund_due=tuple(json.loads(item.refund_due or "[]")),
        verification_code=item.verification_code or "",
        refunds=tuple(_refund(refund) for refund in json.loads(item.refunds or "[]")),
        version=int(item.version),
    )


def _debit(item: DebitItem) -> DirectDebit:
    changed_at: datetime = item.changed_at
    stored: list[dict[str, Any]] = json.loads(item.mandates)
    return DirectDebit(
        id=item.id,
        citizen_id=item.citizen_id,
        object=TaxObject.model_validate_json(item.object),
        taxes=tuple(json.loads(item.taxes)),
        modality=item.modality,  # type: ignore[arg-type]  # written from events.payment.Modality only
        source=item.source,
        mandates=tuple(_mandate(m) for m in stored),
        changed_at=changed_at,
        version=int(item.version),
    )


def _mandate(stored: dict[str, Any]) -> Mandate:
    ended = stored.get("ended_on")
    return Mandate(
        reference=stored["reference"],
        iban=stored["iban"],
        holder=stored["holder"],
        signed_on=date.fromisoformat(stored["signed_on"]),
        by=stored["by"],
        purpose=stored.get("purpose"),
        state=stored["state"],
        ended_on=date.fromisoformat(ended) if ended else None,
    )


def _mandates_json(mandates: tuple[Mandate, ...]) -> str:
    return json.dumps(
        [
            {
                **{k: getattr(m, k) for k in ("reference", "iban", "holder", "by", "purpose", "state")},
                "signed_on": m.signed_on.isoformat(),
                "ended_on": m.ended_on.isoformat() if m.ended_on else None,
            }
            for m in mandates
        ]
    )


def _refund(stored: dict[str, Any]) -> Refund:
    finished = stored.get("finished_at")
    return Refund(
        id=stored["id"],
        amount_cents=int(stored["amount_cents"]),
        reason=stored["reason"],
        by=stored["by"],
        created_at=datetime.fromisoformat(stored["created_at"]),
        purpose=stored.get("purpose"),
        state=stored["state"],
        gateway_code=stored.get("gateway_code", ""),
        finished_at=datetime.fromisoformat(finished) if finished else None,
    )


def _refund_json(refunds: tuple[Refund, ...]) -> str:
    return json.dumps(
        [
            {
                **{
                    k: getattr(r, k) for k in ("id", "amount_cents", "reason", "by", "purpose", "state", "gateway_code")
                },
                "created_at": r.created_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            }
            for r in refunds
        ]
    )


class DynamoPaymentStore:
    """The fines and taxes port (``service.PaymentStore``) on DynamoDB."""

    def fetch(self, debt_id: str) -> Debt | None:
        try:
            return _debt(DebtItem.get(debt_id, consistent_read=True))
        except DebtItem.DoesNotExist:
            return None

    def fetch_many(self, debt_ids: frozenset[str]) -> list[Debt]:
        """Consistent BatchGetItem, 100 keys a call; erased debts are simply absent."""
        found = [_debt(item) for item in DebtItem.batch_get(sorted(debt_ids), consistent_read=True)]  # 100 a call
        return sorted(found, key=lambda d: d.id)

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        try:
            item = RecordItem.get(record_id(source, local_id), consistent_read=True)
        except RecordItem.DoesNotExist:
            return RecordLinks(source, local_id)
        linked_at: datetime | None = item.linked_at
        members = frozenset(item.members or ())
        return RecordLinks(source, local_id, item.citizen_id, linked_at, members, int(item.version))

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        """One Query of ``by-citizen`` from ``rec#`` (the records linked to the person)."""
        found = RecordItem.by_citizen.query(citizen_id, RecordItem.id.startswith("rec#"))
        records = []
        for item in found:
            _, source, local_id = str(item.id).split("#", 2)
            linked_at: datetime | None = item.linked_at
            records.append(
                RecordLinks(source, local_id, citizen_id, linked_at, frozenset(item.members or ()), int(item.version))
            )
        return records

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """The whole record item, one version up, if still at the version read (tag ``payment-record``)."""
        condition: Condition = (
            RecordItem.id.does_not_exist() if links.version is None else RecordItem.version == links.version
        )
        item = RecordItem(
            record_id(links.source, links.local_id),
            citizen_id=links.citizen_id,
            linked_at=links.linked_at,
            members=set(links.members) or None,
            version=(links.version or 0) + 1,
        )
        uow.put(item, condition=condition, tag="payment-record")

    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        uow.delete(RecordItem(record_id(links.source, links.local_id)), tag="payment-record-erasure")

    def fetch_by_citizen(self, citizen_id: str) -> list[Debt]:
        """One Query of ``by-citizen`` (every page of it), its debts only (the person's payments share the
        index: ``pay-`` sorts between ``fine-`` and ``receipt-``, so no key condition leaves them out)."""
        return [_debt(item) for item in DebtItem.by_citizen.query(citizen_id) if item.kind in ("fine", "tax-receipt")]

    def stage(self, uow: UnitOfWork, debt: Debt, previous: Debt | None) -> None:
        """The whole debt, if it is still as read (absent, or at ``previous``'s version); tag ``debt``."""
        condition: Condition = (
            DebtItem.id.does_not_exist() if previous is None else DebtItem.version == previous.version
        )
        item = DebtItem(
            debt.id,
            kind=debt.kind,
            citizen_id=debt.citizen_id,
            issued=debt.issued.model_dump_json(),
            content_sha256=debt.content_sha256,
            source=debt.source,
            received_at=debt.received_at,
            status=debt.status,
            version=debt.version,
            claimed_by=debt.claimed_by,
            paid_by=debt.paid_by,
        )
        uow.put(item, condition=condition, tag="debt")

    def stage_erase(self, uow: UnitOfWork, debt: Debt) -> None:
        """An RGPD erasure of a debt past its legal period."""
        uow.delete(DebtItem(debt.id), tag="debt-erasure")

    def fetch_payment(self, payment_id: str) -> Payment | None:
        if not payment_id.startswith("pay-"):
            return None
        try:
            return _payment(PaymentItem.get(payment_id, consistent_read=True))
        except PaymentItem.DoesNotExist:
            return None

    def fetch_payments_by_citizen(self, citizen_id: str) -> list[Payment]:
        """One Query of ``by-citizen``, from ``pay-`` to just before ``pay.`` (the person's payments only)."""
        return [_payment(item) for item in PaymentItem.by_citizen.query(citizen_id, PaymentItem.id.startswith("pay-"))]

    def fetch_payment_of_code(self, code: str) -> Payment | None:
        """Two reads: the code's item, then its payment."""
        try:
            payment_id = CodeItem.get(f"code-{code}", consistent_read=True).payment_id
        except CodeItem.DoesNotExist:
            return None
        return self.fetch_payment(payment_id)

    def fetch_payment_of_order(self, order: str) -> Payment | None:
        """Two reads: the order's item, then its payment."""
        try:
            payment_id = OrderItem.get(f"order-{order}", consistent_read=True).payment_id
        except OrderItem.DoesNotExist:
            return None
        return self.fetch_payment(payment_id)

    def commit_ahead(self, uow: UnitOfWork) -> None:
        uow.commit()

    def fetch_debit(self, debit_id: str) -> DirectDebit | None:
        try:
            return _debit(DebitItem.get(debit_id, consistent_read=True))
        except DebitItem.DoesNotExist:
            return None

    def fetch_debits_by_citizen(self, citizen_id: str) -> list[DirectDebit]:
        """One Query of ``by-citizen``, from ``debit-`` (the person's direct debits only)."""
        return [_debit(item) for item in DebitItem.by_citizen.query(citizen_id, DebitItem.id.startswith("debit-"))]

    def stage_debit(self, uow: UnitOfWork, debit: DirectDebit, previous: DirectDebit | None) -> None:
        """The whole direct debit if still as read (absent, or at ``previous``'s version); tag ``direct-debit``."""
        condition: Condition = (
            DebitItem.id.does_not_exist() if previous is None else DebitItem.version == previous.version
        )
        item = DebitItem(
            debit.id,
            citizen_id=debit.citizen_id,
            object=debit.object.model_dump_json(),
            taxes=json.dumps(list(debit.taxes)),
            modality=debit.modality,
            source=debit.source,
            mandates=_mandates_json(debit.mandates),
            changed_at=debit.changed_at,
            version=debit.version,
        )
        uow.put(item, condition=condition, tag="direct-debit")

    def stage_erase_debit(self, uow: UnitOfWork, debit: DirectDebit) -> None:
        """An RGPD erasure of a direct debit whose mandates are all past their period."""
        uow.delete(DebitItem(debit.id), tag="direct-debit-erasure")

    def stage_entry(self, uow: UnitOfWork, entry: Entry) -> None:
        """A ledger entry, once (tag ``entry``): its id is what settled it."""
        item = EntryItem(
            entry.id,
            day=entry.day.isoformat(),
            movement=entry.kind,
            payment_id=entry.payment_id,
            method=entry.method,
            order=entry.order,
            amount_cents=entry.amount_cents,
            debt_id=entry.debt_id,
            stage=entry.stage,
            gateway_code=entry.gateway_code,
            settled_at=entry.settled_at,
        )
        uow.put(item, condition=EntryItem.id.does_not_exist(), tag="entry")

    def fetch_entries(self, day: date) -> list[Entry]:
        """One Query of ``by-day`` (every page): the day's entries, by id."""
        return [
            Entry(
                item.id, date.fromisoformat(item.day), "refund" if item.movement == "refund" else "charge",
                item.payment_id, item.method, item.order, int(item.amount_cents), item.debt_id, item.stage,
                item.gateway_code or "", item.settled_at,
            )
            for item in EntryItem.by_day.query(day.isoformat())
        ]  # fmt: skip

    def fetch_letter(self, key: str) -> LetterRecord | None:
        try:
            item = LetterItem.get(f"letter-{key}", consistent_read=True)
        except LetterItem.DoesNotExist:
            return None
        due = date.fromisoformat(item.due)
        return LetterRecord(key, item.debt_id, int(item.amount_cents), due, item.stage, item.legal_source)

    def stage_letter(self, uow: UnitOfWork, record: LetterRecord) -> None:
        """The letter's key and debt, only if no letter holds that key (tag ``letter``)."""
        item = LetterItem(
            f"letter-{record.key}",
            debt_id=record.debt_id,
            amount_cents=record.amount_cents,
            due=record.due.isoformat(),
            stage=record.stage,
            legal_source=record.legal_source,
        )
        uow.put(item, condition=LetterItem.id.does_not_exist(), tag="letter")

    def stage_payment(self, uow: UnitOfWork, payment: Payment, previous: Payment | None) -> None:
        """The payment if still as read (tag ``payment``); a new one with its order (tag ``order``), only if no
        attempt holds that number."""
        condition: Condition = (
            PaymentItem.id.does_not_exist() if previous is None else PaymentItem.version == previous.version
        )
        charges = [
            {"debt_id": c.debt_id, "amount_cents": c.amount_cents, "stage": c.stage, "legal_source": c.legal_source}
            for c in payment.charges
        ]
        item = PaymentItem(
            payment.id,
            citizen_id=payment.citizen_id,
            charges=json.dumps(charges),
            method=payment.method,
            order=payment.order,
            state=payment.state,
            agent=payment.agent,
            purpose=payment.purpose,
            outcome_code=payment.outcome_code,
            authorisation_code=payment.authorisation_code or None,
            refund_due=json.dumps(list(payment.refund_due)),
            verification_code=payment.verification_code or None,
            refunds=_refund_json(payment.refunds),
            created_at=payment.created_at,
            finished_at=payment.finished_at,
            version=payment.version,
        )
        uow.put(item, condition=condition, tag="payment")
        if payment.method != "bank" and (previous is None or previous.order != payment.order):
            order = OrderItem(f"order-{payment.order}", payment_id=payment.id)
            uow.put(order, condition=OrderItem.id.does_not_exist(), tag="order")
        if payment.verification_code and (previous is None or not previous.verification_code):
            code = CodeItem(f"code-{payment.verification_code}", payment_id=payment.id)
            uow.put(code, condition=CodeItem.id.does_not_exist(), tag="receipt-code")
