"""Refunds (``handlers.request_refund``, ``handlers.send_refund``) on in-memory fakes and a fake gateway: a refund
is held against what is still available (GOV.UK Pay's guard), sent to the gateway once however often its event
arrives, recorded on the payment as it then is, and an error gives the amount back. No DynamoDB, no HTTP."""

from __future__ import annotations

import pytest

from events.payment import RefundFinished, RefundSubmitted
from functions.core.errors import LostRaceError
from functions.payment import handlers, payments, redsys
from functions.payment.gateway import GatewayUnreachableError, RefundOutcomeUnknownError
from functions.payment.handlers import PaymentPorts
from functions.payment.payments import Payment
from tests.unit.fakes import event_models
from tests.unit.payment.fakes import FakePaymentStore, FakeRefunds
from tests.unit.payment.test_handlers import fine, issue
from tests.unit.payment.test_payment_handlers import APPROVED, notify, pay, word

AGENT = "agent:ag-hacienda-7"


@pytest.fixture
def paid(ports: PaymentPorts, store: FakePaymentStore) -> Payment:
    """A fine of 200 EUR paid at 100 EUR (50 % off), approved by Redsys."""
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    done, _ = notify(ports, store, word(payment, APPROVED))
    assert done.state == "success" and done.refund_amount_available == 10000
    return done


def ask(ports: PaymentPorts, store: FakePaymentStore, payment: Payment, amount: int, available: int) -> RefundSubmitted:
    """Request a refund and commit it, as the route does: the submitted event it announced."""
    cmd = handlers.RequestRefund(payment.id, amount, available, "Recurso estimado", AGENT, purpose="case-1")
    staged = handlers.request_refund(cmd, ports, None)
    (submitted,) = [e for e in event_models(staged.unit) if isinstance(e, RefundSubmitted)]
    store.commit(staged.unit)
    return submitted


def test_a_partial_refund_is_held_sent_once_and_leaves_the_rest_available(
    ports: PaymentPorts, store: FakePaymentStore, refunds: FakeRefunds, paid: Payment
) -> None:
    # WHEN an agent refunds 40 EUR of the 100 EUR paid, believing 100 EUR available
    submitted = ask(ports, store, paid, 4000, 10000)

    # THEN the payment holds it (60 EUR still available) before anything reaches the gateway
    held = store.payments[paid.id]
    assert held.refund_amount_available == 6000 and held.refunds[0].state == "submitted"
    assert (held.refunds[0].by, held.refunds[0].purpose) == (AGENT, "case-1")
    assert refunds.calls == []

    # WHEN PAY's worker takes the event, and the broker delivers it twice more
    for _ in range(3):
        store.commit(handlers.send_refund(submitted, ports, None))

    # THEN Redsys was asked once, for that order and amount, and the refund succeeded
    assert refunds.calls == [(paid.order, 4000)]
    (refund,) = store.payments[paid.id].refunds
    assert (refund.state, refund.gateway_code) == ("success", "0900")
    assert store.payments[paid.id].refund_amount_available == 6000
    announced = [e for unit in store.ahead for e in event_models(unit) if isinstance(e, RefundFinished)]
    assert [(e.state, e.amount_cents) for e in announced] == [("success", 4000)]


def test_a_stale_view_of_the_amount_available_or_too_much_is_refused_and_nothing_is_held(
    ports: PaymentPorts, store: FakePaymentStore, paid: Payment
) -> None:
    ask(ports, store, paid, 4000, 10000)
    # GIVEN a second agent who read the payment before the first refund: 100 EUR available
    with pytest.raises(payments.RefundAmountAvailableMismatchError):
        ask(ports, store, paid, 4000, 10000)
    # AND one who asks for more than is left
    with pytest.raises(payments.RefundExceedsAvailableError):
        ask(ports, store, paid, 6001, 6000)
    assert [r.amount_cents for r in store.payments[paid.id].refunds] == [4000]


def test_two_refunds_racing_on_the_same_view_one_wins_and_the_other_is_refused_when_decided_again(
    ports: PaymentPorts, store: FakePaymentStore, paid: Payment
) -> None:
    cmd = handlers.RequestRefund(paid.id, 10000, 10000, "Duplicado", AGENT)
    one, two = handlers.request_refund(cmd, ports, None), handlers.request_refund(cmd, ports, None)
    store.commit(one.unit)
    with pytest.raises(LostRaceError):
        store.commit(two.unit)
    with pytest.raises(payments.RefundAmountAvailableMismatchError):
        handlers.request_refund(cmd, ports, None)  # decided again on what the first wrote
    assert store.payments[paid.id].refund_amount_available == 0


def test_only_a_successful_payment_is_refunded(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    with pytest.raises(payments.PaymentNotRefundableError):
        ask(ports, store, payment, 100, 0)


def test_a_refund_the_gateway_refuses_is_an_error_and_gives_the_amount_back(
    ports: PaymentPorts, store: FakePaymentStore, refunds: FakeRefunds, paid: Payment
) -> None:
    refunds.answer = redsys.RestAnswer(False, "SIS0057")
    submitted = ask(ports, store, paid, 10000, 10000)
    store.commit(handlers.send_refund(submitted, ports, None))
    (refund,) = store.payments[paid.id].refunds
    assert (refund.state, refund.gateway_code) == ("error", "SIS0057")
    assert store.payments[paid.id].refund_amount_available == 10000


def test_an_unreachable_gateway_releases_the_claim_for_a_retry_and_an_unknown_outcome_keeps_it(
    ports: PaymentPorts, store: FakePaymentStore, refunds: FakeRefunds, paid: Payment
) -> None:
    submitted = ask(ports, store, paid, 2500, 10000)
    # WHEN the gateway cannot be reached THEN the refund is submitted again, for the broker's retry
    refunds.error = GatewayUnreachableError("connection refused")
    with pytest.raises(GatewayUnreachableError):
        handlers.send_refund(submitted, ports, None)
    assert store.payments[paid.id].refunds[0].state == "submitted"
    # WHEN the retry reaches it but no trustworthy answer comes back THEN it stays claimed, never sent again
    refunds.error = RefundOutcomeUnknownError("read timeout")
    with pytest.raises(RefundOutcomeUnknownError):
        handlers.send_refund(submitted, ports, None)
    assert store.payments[paid.id].refunds[0].state == "sending"
    refunds.error = None
    store.commit(handlers.send_refund(submitted, ports, None))  # a redelivery of the dead-lettered event
    assert len(refunds.calls) == 2 and store.payments[paid.id].refund_amount_available == 7500


def test_a_refund_recorded_after_another_refund_changed_the_payment_is_decided_again(
    ports: PaymentPorts, store: FakePaymentStore, refunds: FakeRefunds, paid: Payment
) -> None:
    # GIVEN a refund whose gateway call is under way WHEN a second refund is asked for meanwhile
    first = ask(ports, store, paid, 1000, 10000)

    class Meanwhile(FakeRefunds):
        def refund(self, order: str, amount_cents: int) -> redsys.RestAnswer:
            ask(ports, store, paid, 2000, 9000)  # changes the payment between the claim and the outcome
            return super().refund(order, amount_cents)

    racing = handlers.PaymentPorts(ports.store, ports.policy, ports.clock, ports.gateway, Meanwhile())
    store.commit(handlers.send_refund(first, racing, None))

    # THEN both refunds are on the payment: the first done, the second submitted
    states = {r.amount_cents: r.state for r in store.payments[paid.id].refunds}
    assert states == {1000: "success", 2000: "submitted"}
    assert store.payments[paid.id].refund_amount_available == 7000


def test_redsys_s_refund_answer_is_trusted_only_when_signed_for_that_order_and_amount() -> None:
    merchant = redsys.Merchant.test()
    body = redsys.rest_answer_body(merchant, "1234ABCD", 500, redsys.REFUND_DONE, redsys.REFUND)
    assert redsys.read_refund_answer(merchant, "1234ABCD", 500, body) == redsys.RestAnswer(True, "0900")
    assert redsys.read_refund_answer(merchant, "1234ABCD", 500, {"errorCode": "SIS0057"}).done is False
    with pytest.raises(redsys.NotificationRefusedError):
        redsys.read_refund_answer(merchant, "1234ABCD", 600, body)  # another amount
    forged = {
        **body,
        "Ds_Signature": redsys.sign("Zm9yZ2VkZm9yZ2VkZm9yZ2VkZm9yZ2Vk", "1234ABCD", body["Ds_MerchantParameters"]),
    }
    with pytest.raises(redsys.NotificationRefusedError):
        redsys.read_refund_answer(merchant, "1234ABCD", 500, forged)
    request = redsys.refund_request(merchant, "1234ABCD", 500)
    sent = redsys.decode_parameters(request["Ds_MerchantParameters"])
    assert (sent["DS_MERCHANT_TRANSACTIONTYPE"], sent["DS_MERCHANT_AMOUNT"]) == ("3", "500")
