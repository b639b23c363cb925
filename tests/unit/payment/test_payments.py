"""A payment's states: only a verified notification for its own order, amount and currency finishes it, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.payment import payments
from functions.payment.payments import Charge, Payment
from functions.payment.redsys import Notification, NotificationRefusedError

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PAYMENT = Payment(
    id="pay-1",
    citizen_id="c-1",
    charges=(
        Charge("fine-MUL-2026-1", 10000, "reduced", "RDL 6/2015 art. 94"),
        Charge("receipt-IBI-2026-9", 4550, "voluntary", "LGT art. 62.3"),
    ),
    method="card",
    order="2026ABCDEF12",
    created_at=NOW,
)


def notification(
    response: int = 0, amount: int = 14550, order: str = "2026ABCDEF12", currency: str = "978"
) -> Notification:
    return Notification(order, amount, currency, response, "218048" if response < 100 else "", {})


def test_an_approved_notification_makes_it_a_success_with_its_authorisation() -> None:
    paid = payments.apply_notification(PAYMENT, notification(0), NOW)
    assert paid is not None
    assert (paid.state, paid.outcome_code, paid.authorisation_code, paid.version) == ("success", 0, "218048", 2)
    assert paid.amount_cents == 14550 and paid.debt_ids == ("fine-MUL-2026-1", "receipt-IBI-2026-9")


@pytest.mark.parametrize(
    ("response", "state"), [(99, "success"), (190, "failed"), (9915, "cancelled"), (180, "failed")]
)
def test_redsys_answers_map_to_govuk_pay_states(response: int, state: str) -> None:
    finished = payments.apply_notification(PAYMENT, notification(response), NOW)
    assert finished is not None and finished.state == state and finished.finished


def test_a_replayed_notification_changes_nothing() -> None:
    paid = payments.apply_notification(PAYMENT, notification(0), NOW)
    assert paid is not None
    assert payments.apply_notification(paid, notification(0), NOW + timedelta(seconds=5)) is None


def test_a_notification_contradicting_a_finished_payment_is_refused() -> None:
    failed = payments.apply_notification(PAYMENT, notification(190), NOW)
    assert failed is not None
    with pytest.raises(NotificationRefusedError, match="is failed"):
        payments.apply_notification(failed, notification(0), NOW)


@pytest.mark.parametrize(
    ("tampered", "reason"),
    [
        (notification(amount=1), "amount 1 differs"),
        (notification(currency="840"), "currency"),
        (notification(order="2026ZZZZZZZZ"), "not payment pay-1's current attempt"),
    ],
)
def test_another_amount_currency_or_order_is_refused_and_nothing_changes(tampered: Notification, reason: str) -> None:
    with pytest.raises(NotificationRefusedError, match=reason):
        payments.apply_notification(PAYMENT, tampered, NOW)


def test_the_gateway_page_moves_it_forward_only() -> None:
    started = payments.advance(PAYMENT, "started")
    assert started is not None and started.state == "started"
    assert payments.advance(started, "started") is None
    submitted = payments.advance(started, "submitted")
    assert submitted is not None and payments.advance(submitted, "started") is None
    paid = payments.apply_notification(submitted, notification(0), NOW)
    assert paid is not None and payments.advance(paid, "submitted") is None


def test_an_unfinished_payment_holds_its_debts_until_it_finishes_or_is_abandoned() -> None:
    assert payments.holds_debts(PAYMENT, NOW + timedelta(minutes=29))
    assert not payments.holds_debts(PAYMENT, NOW + timedelta(seconds=payments.CLAIM_SECONDS))
    assert not payments.holds_debts(replace(PAYMENT, state="failed"), NOW)
