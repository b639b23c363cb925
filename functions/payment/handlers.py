"""Fines and taxes use cases: one function per event or question, over the domain's ports.

A debt issued by an area system (``fine.issued``, ``tax.receipt.issued``) is read through the
``PaymentStore`` port, decided with ``service`` (new, a replay, a correction, or refused once paid) and staged
in one unit of work the entry point commits with the event's dedupe record; a lost race runs it again. A
person's debts are read and each one priced by ``policies/payment`` for the instant asked. Nothing here
knows HTTP, CloudEvents or DynamoDB; the unit tests run these on in-memory fakes
(``tests/unit/payment/test_handlers.py``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal, Protocol

from events.citizen import CitizenUpdated
from events.payment import Charge as ChargeData
from events.payment import (
    DirectDebitCancelled,
    DirectDebitSigned,
    FinePaid,
    PaymentFailed,
    PaymentSucceeded,
    RefundFinished,
    RefundSubmitted,
    TaxReceiptIssued,
    TaxReceiptPaid,
)
from events.rgpd import RgpdRequestOpened
from functions.core import links
from functions.core.clock import Clock
from functions.core.errors import ConflictError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged, UnitOfWork
from functions.payment import cuaderno60, letters, mandates, payments, receipts, reconciliation, redsys, rights, service
from functions.payment.gateway import GatewayUnreachableError
from functions.payment.payments import Charge, GatewayMethod, Payment, Refund
from functions.payment.service import Debt, Issued, PaymentStore


@dataclass(frozen=True)
class Gateway:
    """The Redsys terminal payments go through, and the addresses it is given for each attempt."""

    merchant: redsys.Merchant
    notification_url: str  # POST /v1/payments/redsys/notifications, as Redsys reaches it
    return_url: str  # where the citizen comes back, followed by /<payment id>
    verify_url: str = ""  # GET /v1/payments/verify, as the public reaches it (printed on receipts)
    desk_return_url: str = ""  # where an agent comes back after a phone payment, followed by /<payment id>


class RefundGateway(Protocol):
    """The gateway's server-to-server side (``gateway.RedsysRest``): give back part of an approved order."""

    def refund(self, order: str, amount_cents: int) -> redsys.RestAnswer: ...


@dataclass(frozen=True)
class PaymentPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: PaymentStore
    policy: Policy
    clock: Clock
    gateway: Gateway
    refunds: RefundGateway
    emisora: str = "280796"  # Cuaderno 60: the council's code at its collaborating banks (PIC_CUADERNO60_EMISORA)
    webhooks: Mapping[str, str] = field(default_factory=dict)  # issuing system's source -> its webhook URL


# ---- events -------------------------------------------------------------------------------------------


def record_debt(issued: Issued, source: str, ports: PaymentPorts) -> UnitOfWork:
    """A fine or a tax receipt an area system issued: stored once; the same again stages nothing; a correction
    replaces it while unpaid (``DebtAlreadyPaidError`` once paid). A debt named by the area system's record is
    the person's C360 links it to; if no link is known yet, it waits among the record's members for the link
    (``project_link``), seen by nobody until then."""
    existing = ports.store.fetch(service.debt_id(issued))
    record = service.record_of(issued)
    held = ports.store.fetch_record(*record) if record else None
    uow = UnitOfWork()
    debt = service.prepare(issued, source, existing, ports.clock.now(), held.citizen_id if held else None)
    if debt is None:
        return uow
    ports.store.stage(uow, debt, existing)
    if held is not None and debt.id not in held.members:
        ports.store.stage_record(uow, links.with_member(held, debt.id))
    return uow


def project_link(data: CitizenUpdated, ports: PaymentPorts) -> UnitOfWork:
    """C360 (re)linked an area system's record (a new link, a merge or an un-merge moving it): the latest
    ``updated_at`` wins, and every debt named by the record becomes that person's. A redelivered or older link,
    or one of a record no debt names, stages nothing."""
    held = ports.store.fetch_record(data.link.source, data.link.local_id)
    uow = UnitOfWork()
    if not held.members:
        return uow  # PAY keeps the links of records its debts name, not all of C360's
    moved = links.relinked(held, data.citizen_id, data.updated_at)
    if moved is None:
        return uow
    ports.store.stage_record(uow, moved)
    for debt in ports.store.fetch_many(moved.members):
        if debt.citizen_id != data.citizen_id:
            ports.store.stage(uow, replace(debt, citizen_id=data.citizen_id, version=debt.version + 1), debt)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: PaymentPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: plan.stage(uow, lambda u, held: _erase(u, held, ports)))


def _erase(uow: UnitOfWork, held: Debt | mandates.DirectDebit | links.RecordLinks, ports: PaymentPorts) -> None:
    if isinstance(held, mandates.DirectDebit):
        ports.store.stage_erase_debit(uow, held)
    elif isinstance(held, links.RecordLinks):
        ports.store.stage_erase_record(uow, held)
    else:
        ports.store.stage_erase(uow, held)


# ---- questions ----------------------------------------------------------------------------------------


def priced(debt: service.Debt, ports: PaymentPorts) -> dict[str, Any]:
    """One debt as the API shows it, with what is due at this instant (``policies/payment``)."""
    decision = ports.policy.decide(service.POLICY, service.pricing_input(debt, ports.clock.now()))
    return service.view(debt, service.due_view(decision.result))


def citizen_debts(citizen_id: str, ports: PaymentPorts) -> list[dict[str, Any]]:
    """Every fine and receipt of the person, newest first (a fine by its notification, a receipt by the end of
    its voluntary period), each priced for now."""
    debts = [priced(d, ports) for d in ports.store.fetch_by_citizen(citizen_id)]
    return sorted(debts, key=lambda d: d.get("notified_at") or d["voluntary_period"]["end"], reverse=True)


def payment_letter(citizen_id: str, debt_id: str, ports: PaymentPorts) -> Staged[tuple[letters.IssuedLetter, bytes]]:
    """The carta de pago of one of the person's debts at what is due today, until the day that amount holds; the
    first print records which debt its referencia pays (the bank's file is matched against it)."""
    debt = ports.store.fetch(debt_id)
    if debt is None or debt.citizen_id != citizen_id:
        raise payments.DebtNotFoundError(f"no debt {debt_id!r} of this person")
    if debt.status == "paid":
        raise service.DebtAlreadyPaidError(f"{debt.id} is already paid")
    due = priced(debt, ports)["due"]
    if not due["payable"] or not due["amount_due_cents"] or not due["until"]:
        raise payments.DebtNotPayableError(f"{debt.id} has no amount payable by letter today: {'; '.join(due['why'])}")
    uow = UnitOfWork()
    for salt in range(letters.MAX_SALT):
        try:
            issued = letters.letter_for(debt, due, ports.emisora, salt)
        except ValueError as exc:  # the amount does not fit the letter's eight digits, say
            raise payments.DebtNotPayableError(f"{debt.id} cannot be paid by letter at a bank: {exc}") from exc
        holder = ports.store.fetch_letter(issued.key)
        if holder is None:
            ports.store.stage_letter(uow, issued.record())
        if holder is None or holder.debt_id == debt.id:
            notice = due.get("notice")
            text = notice.get("es") if isinstance(notice, dict) else notice
            return Staged(uow, (issued, letters.letter_pdf(debt, issued, text)))
    raise RuntimeError(f"{letters.MAX_SALT} letter references of {debt.id} are all another debt's")


# ---- telling the area systems ----------------------------------------------------------------------------


def webhook_for(
    data: FinePaid | TaxReceiptPaid | DirectDebitSigned | DirectDebitCancelled, event_type: str, ports: PaymentPorts
) -> tuple[str, dict[str, Any]] | None:
    """Where and what to tell the area system concerned (its webhook, by the source its debts came from): the
    issuer of a debt now paid, or of the tax object whose direct debit changed; ``None`` when it asked for none."""
    if isinstance(data, FinePaid | TaxReceiptPaid):
        debt = ports.store.fetch(data.debt_id)
        source = debt.source if debt else None
    else:
        debit = ports.store.fetch_debit(mandates.debit_id(data.citizen_id, data.object.reference))
        source = debit.source if debit else None
    url = ports.webhooks.get(source) if source else None
    if url is None:
        return None
    return url, {"type": event_type, **data.model_dump(mode="json")}


# ---- direct debits and the tax folder ------------------------------------------------------------------------


def _known_objects(citizen_id: str, ports: PaymentPorts) -> dict[str, mandates.KnownObject]:
    receipts_ = [d for d in ports.store.fetch_by_citizen(citizen_id) if isinstance(d.issued, TaxReceiptIssued)]
    receipts_.sort(key=lambda d: d.received_at)
    return mandates.known_objects([(d.issued.object, d.issued.tax, d.source) for d in receipts_])  # type: ignore[union-attr]


def sign_direct_debit(cmd: mandates.Sign, ports: PaymentPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """Debit a tax object's periodic taxes to an account: the mandate in the same unit as the event that tells
    Tributos; the same mandate again stages nothing and answers it as it is."""
    known = _known_objects(cmd.citizen_id, ports).get(cmd.object_reference)
    if known is None:
        raise mandates.TaxObjectNotFoundError(f"no receipt of {cmd.object_reference!r} names this person")
    existing = ports.store.fetch_debit(mandates.debit_id(cmd.citizen_id, cmd.object_reference))
    now = ports.clock.now()
    signed = mandates.sign(cmd, known, existing, now)
    uow = UnitOfWork()
    if signed is None:
        assert existing is not None  # nothing to sign only when this mandate is in force already
        return Staged(uow, mandates.view(existing))
    debit, event = signed
    ports.store.stage_debit(uow, debit, existing)
    stage_event(uow, event, subject=cmd.citizen_id, traceparent=traceparent, now=now)
    return Staged(uow, mandates.view(debit))


def cancel_direct_debit(
    citizen_id: str, object_reference: str, by: str, purpose: str | None, ports: PaymentPorts, traceparent: str | None
) -> Staged[dict[str, Any]]:
    """Cancel the mandate in force for a tax object, telling Tributos in the same unit; cancelling again changes
    nothing (``DirectDebitNotFoundError`` when there never was one)."""
    existing = ports.store.fetch_debit(mandates.debit_id(citizen_id, object_reference))
    now = ports.clock.now()
    cancelled = mandates.cancel(existing, by, purpose, now)
    uow = UnitOfWork()
    if cancelled is None:
        assert existing is not None
        return Staged(uow, mandates.view(existing))
    debit, event = cancelled
    ports.store.stage_debit(uow, debit, existing)
    stage_event(uow, event, subject=citizen_id, traceparent=traceparent, now=now)
    return Staged(uow, mandates.view(debit))


def tax_folder(citizen_id: str, ports: PaymentPorts) -> dict[str, Any]:
    """The person's Carpeta Tributaria: receipts by tax and year, paid or not (and when, how), each priced for
    today; their tax objects with the direct debit in force, the modalities Madrid offers and, for IBI, what the
    Sistema Especial de Pago saves (``policies/payment``)."""
    debts = [d for d in ports.store.fetch_by_citizen(citizen_id) if d.kind == "tax-receipt"]
    paid = {p.id: p for p in ports.store.fetch_payments_by_citizen(citizen_id) if p.state == "success"}
    debits = {d.object.reference: d for d in ports.store.fetch_debits_by_citizen(citizen_id)}
    receipts_ = [_folder_receipt(priced(d, ports), paid.get(d.paid_by or "")) for d in debts]
    known = mandates.known_objects([(d.issued.object, d.issued.tax, d.source) for d in debts])  # type: ignore[union-attr]
    objects = [_folder_object(k, debits.get(ref), receipts_) for ref, k in sorted(known.items())]
    return {
        "citizen_id": citizen_id,
        "taxes": service.folder_groups(receipts_),
        "objects": objects,
        "creditor_id": mandates.creditor_id(),  # the council's SEPA creditor identifier, printed with every mandate
    }


def _folder_receipt(view: dict[str, Any], payment: Payment | None) -> dict[str, Any]:
    if payment is None:
        return {**view, "payment": None}
    charged = next((c.amount_cents for c in payment.charges if c.debt_id == view["id"]), None)
    when = payment.finished_at.isoformat() if payment.finished_at else None
    return {**view, "payment": {"id": payment.id, "method": payment.method, "amount_cents": charged, "paid_at": when}}


def _folder_object(
    known: mandates.KnownObject, debit: mandates.DirectDebit | None, receipts_: list[dict[str, Any]]
) -> dict[str, Any]:
    """A tax object: its taxes, the direct debit (masked), the modalities it may have, and IBI's bonus on its
    latest receipt (``applies`` when the debit in force is the modality that earns it)."""
    mine = [r for r in receipts_ if r["object"]["reference"] == known.object.reference]
    bonuses = [
        r["due"]["direct_debit_bonus"]
        for r in sorted(mine, key=lambda r: r["period"])
        if r["due"].get("direct_debit_bonus")
    ]
    bonus = dict(bonuses[-1]) if bonuses else None
    if bonus is not None:
        bonus["applies"] = bool(debit and debit.current and debit.modality == bonus["modality"])
    return {
        "object": known.object.model_dump(),
        "taxes": list(known.taxes),
        "modalities": list(known.modalities),
        "direct_debit": mandates.view(debit) if debit else None,
        "sep_bonus": bonus,
    }


# ---- a bank's collection file -----------------------------------------------------------------------------

CollectionOutcome = Literal["paid", "refund-due", "already-recorded", "unknown-letter", "late"]


@dataclass(frozen=True)
class Collection:
    """What one record of a bank's file did: its line, the letter, and the outcome (a payment's id when one was
    recorded)."""

    line: int
    reference: str
    amount_cents: int
    outcome: CollectionOutcome
    payment_id: str | None = None
    debt_id: str | None = None


def collect_file(file: cuaderno60.ReturnFile, ports: PaymentPorts, traceparent: str | None) -> list[Collection]:
    """Every record of a bank's collection file, each in its own unit (a lost race decided again): the same
    file again, or a record twice, records nothing twice."""
    return [_collect_once(record, ports, traceparent) for record in file.records]


def _collect_once(record: cuaderno60.Collected, ports: PaymentPorts, traceparent: str | None) -> Collection:
    return retry_on_conflict(lambda: _commit_collection(record, ports, traceparent), what="a collection")


def _commit_collection(record: cuaderno60.Collected, ports: PaymentPorts, traceparent: str | None) -> Collection:
    staged = collect(record, ports, traceparent)
    ports.store.commit_ahead(staged.unit)
    return staged.result


def collect(record: cuaderno60.Collected, ports: PaymentPorts, traceparent: str | None) -> Staged[Collection]:
    """A letter a bank collected pays its debt once, as a card payment would (the same events, the receipt and
    its notice): the payment's id is drawn from the bank, the letter and the day, so the record again is
    ``already-recorded``; a debt another payment paid meanwhile is a refund due. A letter PIC never printed, or
    collected after its last day (the bank should have refused it), changes nothing and is reported."""
    key = letters.letter_key(record.reference, record.identification)
    found = ports.store.fetch_letter(key) if record.emisora == ports.emisora else None
    debt = ports.store.fetch(found.debt_id) if found else None
    outcome = Collection(record.line, record.reference, record.amount_cents, "unknown-letter")
    if found is None or debt is None or debt.citizen_id is None or found.amount_cents != record.amount_cents:
        return Staged(UnitOfWork(), outcome)
    outcome = replace(outcome, debt_id=debt.id)
    if record.collected_on > found.due:
        return Staged(UnitOfWork(), replace(outcome, outcome="late"))
    cause = f"bank|{record.entity}|{key}|{record.collected_on.isoformat()}"
    payment_id = f"pay-{hashlib.sha256(cause.encode()).hexdigest()[:32]}"
    if ports.store.fetch_payment(payment_id) is not None:
        return Staged(UnitOfWork(), replace(outcome, outcome="already-recorded", payment_id=payment_id))
    now = ports.clock.now()
    charge = Charge(debt.id, found.amount_cents, found.stage, found.legal_source)
    collected = Payment(
        payment_id, debt.citizen_id, (charge,), "bank", record.reference, now, "success", finished_at=now
    )
    uow = UnitOfWork()
    paid = _pay_debts(uow, collected, [(charge, debt)], ports, traceparent)
    ports.store.stage_payment(uow, paid, None)
    result: CollectionOutcome = "refund-due" if paid.refund_due else "paid"
    return Staged(uow, replace(outcome, outcome=result, payment_id=payment_id))


# ---- payments ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePayment:
    """Pay ``debt_ids`` (one person's) by ``method``; ``agent`` and ``purpose`` when an agent takes it by phone."""

    debt_ids: tuple[str, ...]
    method: GatewayMethod
    agent: str | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class Created:
    payment: Payment
    form: redsys.RedirectForm


def debt_owner(debt_ids: tuple[str, ...], ports: PaymentPorts) -> str:
    """Whose debts a payment would pay (the kernel authorises on that person): the first debt's owner."""
    debt = ports.store.fetch(debt_ids[0])
    if debt is None or debt.citizen_id is None:  # unknown, or named by a record C360 has not linked yet
        raise payments.DebtNotFoundError(f"no debt {debt_ids[0]!r}")
    return debt.citizen_id


def create_payment(cmd: CreatePayment, ports: PaymentPorts) -> Staged[Created]:
    """A payment of one person's debts at what is due this minute, with a fresh Redsys order, holding its debts
    while it is under way; the form that sends the citizen to the gateway. A paid debt, or one another payment
    is paying, is refused before anything is sent to the gateway."""
    now = ports.clock.now()
    debts = [_payable(debt_id, ports, now) for debt_id in dict.fromkeys(cmd.debt_ids)]
    for debt in debts[1:]:  # the kernel authorised on the first debt's owner: another's is none of theirs
        if debt.citizen_id != debts[0].citizen_id:
            raise payments.DebtNotFoundError(f"no debt {debt.id!r} of the person paying (one payment, one person)")
    owner = debts[0].citizen_id
    if owner is None:
        raise payments.DebtNotFoundError(f"no debt {debts[0].id!r} of a known person")
    payment = Payment(
        id=f"pay-{uuid.uuid4().hex}",
        citizen_id=owner,
        charges=tuple(_charge(debt, ports) for debt in debts),
        method=cmd.method,
        order=redsys.new_order(),
        created_at=now,
        agent=cmd.agent,
        purpose=cmd.purpose,
    )
    uow = UnitOfWork()
    ports.store.stage_payment(uow, payment, None)
    for debt in debts:
        ports.store.stage(uow, replace(debt, claimed_by=payment.id, version=debt.version + 1), debt)
    return Staged(uow, Created(payment, _form(payment, ports.gateway)))


def _payable(debt_id: str, ports: PaymentPorts, now: datetime) -> Debt:
    debt = ports.store.fetch(debt_id)
    if debt is None:
        raise payments.DebtNotFoundError(f"no debt {debt_id!r}")
    holder = ports.store.fetch_payment(debt.claimed_by) if debt.claimed_by else None
    payments.check_claim(debt.id, debt.status == "paid", holder, now)
    return debt


def _charge(debt: Debt, ports: PaymentPorts) -> Charge:
    """What is charged for ``debt``: the policy's amount due this minute, with its rule and legal source."""
    due = priced(debt, ports)["due"]
    if not due["payable"] or not due["amount_due_cents"]:
        raise payments.DebtNotPayableError(f"{debt.id} cannot be paid here today: {'; '.join(due['why'])}")
    return Charge(debt.id, int(due["amount_due_cents"]), str(due["stage"]), str(due["legal_source"]))


def _form(payment: Payment, gateway: Gateway) -> redsys.RedirectForm:
    channel = gateway.desk_return_url if payment.agent and gateway.desk_return_url else gateway.return_url
    back = f"{channel}/{payment.id}"
    return redsys.redirect_form(
        gateway.merchant,
        payment.order,
        payment.amount_cents,
        "bizum" if payment.method == "bizum" else "card",
        notification_url=gateway.notification_url,
        ok_url=f"{back}?outcome=ok",
        ko_url=f"{back}?outcome=ko",
        description=f"Ayuntamiento de Madrid: {', '.join(payment.debt_ids)}",
    )


def handle_notification(form: dict[str, str], ports: PaymentPorts, traceparent: str | None) -> Staged[Payment]:
    """A merchant notification from Redsys: trusted once its signature is the terminal's and its order, amount
    and currency are the payment's current attempt (``NotificationRefusedError`` otherwise, nothing changed).
    Success pays each debt once (a debt another payment paid meanwhile is a refund due) and announces it;
    any other outcome lets the debts go. The same notification again stages nothing."""
    notification = redsys.verify_notification(ports.gateway.merchant, form)
    payment = ports.store.fetch_payment_of_order(notification.order)
    if payment is None:
        raise redsys.NotificationRefusedError(f"order {notification.order} was never issued by PIC")
    now = ports.clock.now()
    finished = payments.apply_notification(payment, notification, now)
    uow = UnitOfWork()
    if finished is None:
        return Staged(uow, payment)
    debts = [(charge, ports.store.fetch(charge.debt_id)) for charge in payment.charges]
    if finished.state == "success":
        finished = _pay_debts(uow, finished, debts, ports, traceparent)
    else:
        _release_debts(uow, finished, debts, ports, traceparent)
    ports.store.stage_payment(uow, finished, payment)
    return Staged(uow, finished)


def _pay_debts(
    uow: UnitOfWork,
    paid: Payment,
    debts: list[tuple[Charge, Debt | None]],
    ports: PaymentPorts,
    traceparent: str | None,
) -> Payment:
    refund_due = []
    for charge, debt in debts:
        if debt is None or (debt.status == "paid" and debt.paid_by != paid.id):
            refund_due.append(charge.debt_id)  # paid by another payment meanwhile (or erased): charged twice
            continue
        ports.store.stage(
            uow, replace(debt, status="paid", paid_by=paid.id, claimed_by=None, version=debt.version + 1), debt
        )
        stage_event(
            uow, _debt_paid(debt, charge, paid), subject=paid.citizen_id, traceparent=traceparent, now=paid.finished_at
        )
    paid = replace(paid, refund_due=tuple(refund_due), verification_code=receipts.new_code())
    succeeded = PaymentSucceeded(
        payment_id=paid.id,
        citizen_id=paid.citizen_id,
        method=paid.method,
        amount_cents=paid.amount_cents,
        charges=[ChargeData(**vars(charge)) for charge in paid.charges],
        order=paid.order,
        authorisation_code=paid.authorisation_code,
        agent=paid.agent,
        refund_due=list(refund_due),
        finished_at=paid.finished_at,
    )
    stage_event(uow, succeeded, subject=paid.citizen_id, traceparent=traceparent, now=paid.finished_at)
    for entry in reconciliation.charge_entries(paid):
        ports.store.stage_entry(uow, entry)
    notice = receipts.receipt_notice(paid, ports.gateway.return_url, ports.gateway.verify_url)
    at = paid.finished_at
    stage_event(uow, notice, subject=paid.citizen_id, traceparent=traceparent, now=at, producer="pic-payment")
    return paid


def _debt_paid(debt: Debt, charge: Charge, paid: Payment) -> FinePaid | TaxReceiptPaid:
    common = {
        "debt_id": debt.id,
        "citizen_id": paid.citizen_id,
        "amount_cents": charge.amount_cents,
        "stage": charge.stage,
        "legal_source": charge.legal_source,
        "payment_id": paid.id,
        "method": paid.method,
        "paid_at": paid.finished_at,
    }
    if debt.kind == "fine":
        return FinePaid(fine_id=debt.id.removeprefix("fine-"), **common)
    return TaxReceiptPaid(receipt_id=debt.id.removeprefix("receipt-"), **common)


def _release_debts(
    uow: UnitOfWork,
    failed: Payment,
    debts: list[tuple[Charge, Debt | None]],
    ports: PaymentPorts,
    traceparent: str | None,
) -> None:
    for _, debt in debts:
        if debt is not None and debt.claimed_by == failed.id:
            ports.store.stage(uow, replace(debt, claimed_by=None, version=debt.version + 1), debt)
    event = PaymentFailed(
        payment_id=failed.id,
        citizen_id=failed.citizen_id,
        method=failed.method,
        amount_cents=failed.amount_cents,
        state=failed.state,  # type: ignore[arg-type]  # a finished state other than success
        outcome_code=failed.outcome_code or 0,
        finished_at=failed.finished_at,
    )
    stage_event(uow, event, subject=failed.citizen_id, traceparent=traceparent, now=failed.finished_at)


# ---- refunds ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRefund:
    """Give back ``amount_cents`` of a payment; ``expected_available`` is what the caller read as still
    available (GOV.UK Pay's ``refund_amount_available``): a refund on a stale view is refused, never doubled."""

    payment_id: str
    amount_cents: int
    expected_available: int
    reason: str
    by: str
    purpose: str | None = None


def request_refund(cmd: RequestRefund, ports: PaymentPorts, traceparent: str | None) -> Staged[tuple[Payment, Refund]]:
    """The refund, ``submitted`` and held against the payment's amount in the unit that announces it; PAY's worker
    sends it to the gateway on that event (``send_refund``)."""
    payment = find_payment(cmd.payment_id, ports)
    now = ports.clock.now()
    refund = Refund(f"ref-{uuid.uuid4().hex}", cmd.amount_cents, cmd.reason, cmd.by, now, purpose=cmd.purpose)
    held = payments.request_refund(payment, refund, cmd.expected_available)
    uow = UnitOfWork()
    ports.store.stage_payment(uow, held, payment)
    submitted = RefundSubmitted(
        payment_id=payment.id,
        refund_id=refund.id,
        citizen_id=payment.citizen_id,
        amount_cents=refund.amount_cents,
        reason=refund.reason,
        by=refund.by,
        submitted_at=now,
    )
    stage_event(uow, submitted, subject=payment.citizen_id, traceparent=traceparent, now=now)
    return Staged(uow, (held, refund))


def send_refund(data: RefundSubmitted, ports: PaymentPorts, traceparent: str | None) -> UnitOfWork:
    """Send a submitted refund to the gateway once: claimed (``sending``, committed ahead) before the call, so a
    redelivered or concurrent event finds it taken and does nothing; the outcome recorded after, decided again
    on the payment as it then is if another refund changed it meanwhile. Unreachable gateway: the claim is
    released and the event retried; an unknown outcome keeps the claim (``RefundOutcomeUnknownError``)."""
    payment = ports.store.fetch_payment(data.payment_id)
    refund = payment.refund(data.refund_id) if payment else None
    if payment is None or refund is None:
        raise ConflictError(f"refund {data.refund_id} of {data.payment_id} is not readable yet; retry")
    if refund.state != "submitted":
        return UnitOfWork()  # claimed or finished already: a redelivery
    claimed = payments.move_refund(payment, refund.id, state="sending")
    _commit_refund(ports, claimed, payment)
    try:
        answer = ports.refunds.refund(payment.order, refund.amount_cents)
    except GatewayUnreachableError:
        _commit_refund(ports, payments.move_refund(claimed, refund.id, state="submitted"), claimed)
        raise
    state = "success" if answer.done else "error"
    retry_on_conflict(lambda: _record_refund(ports, data, state, answer.code, traceparent), what="record a refund")
    return UnitOfWork()


def _commit_refund(ports: PaymentPorts, changed: Payment, previous: Payment) -> None:
    uow = UnitOfWork()
    ports.store.stage_payment(uow, changed, previous)
    ports.store.commit_ahead(uow)


def _record_refund(ports: PaymentPorts, data: RefundSubmitted, state: str, code: str, traceparent: str | None) -> None:
    """The gateway's word on the refund, on the payment as it is now (another refund may have changed it)."""
    payment = find_payment(data.payment_id, ports)
    now = ports.clock.now()
    done = payments.move_refund(payment, data.refund_id, state=state, gateway_code=code, finished_at=now)
    uow = UnitOfWork()
    ports.store.stage_payment(uow, done, payment)
    finished = RefundFinished(
        payment_id=payment.id,
        refund_id=data.refund_id,
        citizen_id=payment.citizen_id,
        amount_cents=data.amount_cents,
        state="success" if state == "success" else "error",
        gateway_code=code,
        by=data.by,
        finished_at=now,
    )
    stage_event(uow, finished, subject=payment.citizen_id, traceparent=traceparent, now=now)
    refund = done.refund(data.refund_id)
    if state == "success" and refund is not None:
        ports.store.stage_entry(uow, reconciliation.refund_entry(done, refund))
    ports.store.commit_ahead(uow)


def reconciliation_export(day: date, posting: bool, ports: PaymentPorts) -> str:
    """The money PIC settled on ``day`` (Europe/Madrid): CSV, or the fixed-width posting file."""
    entries = ports.store.fetch_entries(day)
    return reconciliation.posting_file(day, entries) if posting else reconciliation.to_csv(entries)


def verify_receipt(code: str, ports: PaymentPorts) -> dict[str, Any]:
    """What a receipt's verification code confirms, or ``ReceiptNotFoundError``."""
    payment = ports.store.fetch_payment_of_code(code) if receipts.CODE.match(code) else None
    if payment is None or payment.verification_code != code:
        raise receipts.ReceiptNotFoundError("no receipt has this verification code")
    return receipts.verification(payment)


def receipt(payment: Payment, ports: PaymentPorts) -> bytes:
    """The payment's receipt as a PDF (``ReceiptNotFoundError`` unless it succeeded)."""
    return receipts.receipt_pdf(payment, ports.gateway.verify_url)


def find_payment(payment_id: str, ports: PaymentPorts) -> Payment:
    payment = ports.store.fetch_payment(payment_id)
    if payment is None:
        raise payments.PaymentNotFoundError(f"no payment {payment_id!r}")
    return payment
