"""Payments (PAY), pure logic: a payment's life in GOV.UK Pay's states, and what a gateway's word changes.

A payment pays one or more debts of one person at the amounts priced when it was created (what was due that
minute: ``policies/payment``). Each attempt at the gateway has its own Redsys order number, since Redsys
refuses a number it has seen (SIS0051). The states are GOV.UK Pay's:

    created -> started (the citizen reached the gateway) -> submitted (details entered)
            -> success | failed | cancelled | error          (finished: never left)

Only a verified merchant notification (``redsys.verify_notification``) finishes a payment; the citizen's return
to URLOK/URLKO never does. A notification for an order the payment did not issue, or for another amount or
currency, is refused before anything changes. A finished payment is never changed again: a replayed
notification with the same word changes nothing, and one that contradicts the stored outcome is refused (and
logged) rather than applied, so a debt is charged once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from functions.core.errors import ConflictError, NotFoundError, PicError, ValidationError
from functions.payment.redsys import EURO, Notification, NotificationRefusedError
from functions.payment.service import DebtAlreadyPaidError

State = Literal["created", "started", "submitted", "success", "failed", "cancelled", "error"]
Method = Literal["card", "bizum", "bank"]  # bank: a payment letter (Cuaderno 60) collected at a bank counter
GatewayMethod = Literal["card", "bizum"]
FINISHED: frozenset[State] = frozenset({"success", "failed", "cancelled", "error"})
# how long a payment not yet finished holds its debts: Redsys's payment page expires its session well before
CLAIM_SECONDS = 30 * 60
MAX_DEBTS = 20  # one payment, one person's debts: a tax folder's year at most
MAX_REFUNDS = 20  # refunds are rare and kept on the payment they give back from
RefundState = Literal["submitted", "sending", "success", "error"]
# what still counts against the amount available: asked for, at the gateway, or done (an error gives it back)
HELD: frozenset[RefundState] = frozenset({"submitted", "sending", "success"})


class PaymentInProgressError(ConflictError):
    """Another payment of the same debt is under way at the gateway: paying it again could charge twice."""

    slug, title = "payment-in-progress", "Another payment of this debt is in progress"


class PaymentNotFoundError(NotFoundError):
    slug, title = "payment-not-found", "No such payment"


class DebtNotFoundError(NotFoundError):
    slug, title = "debt-not-found", "No such debt"


class DebtNotPayableError(PicError):
    status, slug, title = 422, "debt-not-payable", "This debt cannot be paid here today"


class PaymentNotRefundableError(PicError):
    status, slug, title = 422, "payment-not-refundable", "This payment cannot be refunded"


class RefundExceedsAvailableError(ValidationError):
    slug, title = "refund-exceeds-available", "The refund is more than the amount still available"


class RefundAmountAvailableMismatchError(PicError):
    """GOV.UK Pay's guard: the caller states what it believes is still available; another refund since then
    makes that belief stale, and a second refund on a stale view could give back twice."""

    status, slug, title = 412, "refund-amount-available-mismatch", "The amount available has changed"


@dataclass(frozen=True)
class Refund:
    """Money given back from a successful payment (all or part of it): who asked, why, and what Redsys said."""

    id: str
    amount_cents: int
    reason: str
    by: str  # ``role:id`` of the agent or system that asked
    created_at: datetime
    purpose: str | None = None  # the agent's Access-Purpose
    state: RefundState = "submitted"
    gateway_code: str = ""  # Redsys's Ds_Response (0900: done) or its SIS error code
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Charge:
    """One debt in a payment, at the amount due when the payment was created, and the rule that priced it."""

    debt_id: str
    amount_cents: int
    stage: str
    legal_source: str


@dataclass(frozen=True)
class Payment:
    id: str
    citizen_id: str
    charges: tuple[Charge, ...]
    method: Method
    order: str  # the current attempt's Redsys order number
    created_at: datetime
    state: State = "created"
    agent: str | None = None  # the agent who took it by phone
    purpose: str | None = None  # the agent's Access-Purpose (the call's case)
    outcome_code: int | None = None  # Redsys's Ds_Response, once finished
    authorisation_code: str = ""
    finished_at: datetime | None = None
    refund_due: tuple[str, ...] = ()  # debts another payment had paid meanwhile: their charge goes back
    verification_code: str = ""  # the receipt's, once the payment succeeded (functions.payment.receipts)
    refunds: tuple[Refund, ...] = ()
    version: int = 1

    @property
    def amount_cents(self) -> int:
        return sum(charge.amount_cents for charge in self.charges)

    @property
    def debt_ids(self) -> tuple[str, ...]:
        return tuple(charge.debt_id for charge in self.charges)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def refund_amount_available(self) -> int:
        """What may still be given back: the amount charged, less every refund asked for, under way or done."""
        if self.state != "success":
            return 0
        return self.amount_cents - sum(r.amount_cents for r in self.refunds if r.state in HELD)

    def refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.id == refund_id), None)


def outcome_of(notification: Notification) -> State:
    """The state a verified notification means: approved is success, the holder's cancel is cancelled, any
    other answer (declined, expired, refused by the issuer) is failed."""
    if notification.approved:
        return "success"
    if notification.cancelled:
        return "cancelled"
    return "failed"


def apply_notification(payment: Payment, notification: Notification, now: datetime) -> Payment | None:
    """The payment after a verified notification, or ``None`` when it changes nothing (a replay).

    Raises ``NotificationRefusedError`` for another order, amount or currency, and for a word that contradicts
    a finished payment's outcome: the notification is refused with the reason, the payment stays as it was.
    """
    if notification.order != payment.order:
        raise NotificationRefusedError(f"order {notification.order} is not payment {payment.id}'s current attempt")
    if notification.currency != EURO:
        raise NotificationRefusedError(f"currency {notification.currency!r} is not {EURO} (EUR)")
    if notification.amount_cents != payment.amount_cents:
        raise NotificationRefusedError(
            f"amount {notification.amount_cents} differs from the payment's {payment.amount_cents} cents"
        )
    state = outcome_of(notification)
    if payment.finished:
        if state == payment.state:
            return None
        raise NotificationRefusedError(
            f"payment {payment.id} is {payment.state}; a later {state} notification does not change it"
        )
    return replace(
        payment,
        state=state,
        outcome_code=notification.response,
        authorisation_code=notification.authorisation_code if state == "success" else "",
        finished_at=now,
        version=payment.version + 1,
    )


def advance(payment: Payment, state: Literal["started", "submitted"]) -> Payment | None:
    """A step the gateway's page reports before the outcome; ``None`` when it is no step forward."""
    order: tuple[State, ...] = ("created", "started", "submitted")
    if payment.finished or order.index(state) <= order.index(payment.state):
        return None
    return replace(payment, state=state, version=payment.version + 1)


def holds_debts(payment: Payment, now: datetime) -> bool:
    """Whether an unfinished payment still keeps its debts from being paid by another: until it finishes or
    ``CLAIM_SECONDS`` after it was created, when an abandoned attempt lets them go."""
    return not payment.finished and (now - payment.created_at).total_seconds() < CLAIM_SECONDS


def check_claim(debt_id: str, paid: bool, holder: Payment | None, now: datetime) -> None:
    """Whether a new payment may take a debt: never once paid, nor while another payment of it is under way
    (until it finishes, or ``CLAIM_SECONDS`` after it started). Raises the reason."""
    if paid:
        raise DebtAlreadyPaidError(f"{debt_id} is already paid: it is not sent to the gateway again")
    if holder is not None and holds_debts(holder, now):
        raise PaymentInProgressError(
            f"payment {holder.id} of {debt_id} is {holder.state}; wait for its outcome or "
            f"{CLAIM_SECONDS // 60} minutes after it started"
        )


def request_refund(payment: Payment, refund: Refund, expected_available: int) -> Payment:
    """The payment holding a new refund (``submitted``), once the caller's view of what is available is still
    true and the amount fits in it; the gateway is asked afterwards (``send_refund``)."""
    if payment.state != "success":
        raise PaymentNotRefundableError(f"payment {payment.id} is {payment.state}: only a successful one is refunded")
    if len(payment.refunds) >= MAX_REFUNDS:
        raise PaymentNotRefundableError(f"payment {payment.id} has {MAX_REFUNDS} refunds already")
    available = payment.refund_amount_available
    if expected_available != available:
        raise RefundAmountAvailableMismatchError(
            f"{available} cents are available, not {expected_available}: read the payment again before refunding"
        )
    if refund.amount_cents > available:
        raise RefundExceedsAvailableError(
            f"{refund.amount_cents} cents is more than the {available} still available",
            errors=[{"field": "amount_cents", "message": f"at most {available}"}],
        )
    return replace(payment, refunds=(*payment.refunds, refund), version=payment.version + 1)


def move_refund(payment: Payment, refund_id: str, **changes: object) -> Payment:
    """The payment with one refund changed (its state, code, time), one version on."""
    refunds = tuple(replace(r, **changes) if r.id == refund_id else r for r in payment.refunds)  # type: ignore[arg-type]
    return replace(payment, refunds=refunds, version=payment.version + 1)


def refund_view(refund: Refund) -> dict[str, object]:
    return {
        "id": refund.id,
        "amount_cents": refund.amount_cents,
        "state": refund.state,
        "reason": refund.reason,
        "by": refund.by,
        "purpose": refund.purpose,
        "gateway_code": refund.gateway_code or None,
        "created_at": refund.created_at.isoformat(),
        "finished_at": refund.finished_at.isoformat() if refund.finished_at else None,
    }


def view(payment: Payment) -> dict[str, object]:
    """A payment as ``GET /v1/payments/{id}`` shows it (no card data: PIC never sees any)."""
    return {
        "id": payment.id,
        "citizen_id": payment.citizen_id,
        "state": payment.state,
        "finished": payment.finished,
        "method": payment.method,
        "amount_cents": payment.amount_cents,
        "charges": [
            {"debt_id": c.debt_id, "amount_cents": c.amount_cents, "stage": c.stage, "legal_source": c.legal_source}
            for c in payment.charges
        ],
        "order": payment.order,
        "outcome_code": payment.outcome_code,
        "authorisation_code": payment.authorisation_code or None,
        "refund_due": list(payment.refund_due),
        "refund_amount_available": payment.refund_amount_available,
        "refunds": [refund_view(r) for r in payment.refunds],
        "verification_code": payment.verification_code or None,
        "receipt": f"/v1/payments/{payment.id}/receipt" if payment.verification_code else None,
        "agent": payment.agent,
        "purpose": payment.purpose,
        "created_at": payment.created_at.isoformat(),
        "finished_at": payment.finished_at.isoformat() if payment.finished_at else None,
    }


def summary(body: dict[str, object]) -> dict[str, object]:
    """What an agent whose view is a summary sees of a payment: its state and amount, not what it paid."""
    keys = ("id", "citizen_id", "state", "finished", "method", "amount_cents", "created_at", "finished_at")
    return {**{k: body[k] for k in keys}, "view": "summary"}
