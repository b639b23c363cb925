"""Paying debts (``functions.payment.handlers``: ``create_payment``, ``handle_notification``) on in-memory fakes
and the real policy engine: a payment charges what is due that minute and holds its debts; a paid or held debt
is never sent to the gateway again; only a verified notification for the current attempt, amount and currency
finishes a payment; success pays each debt once and announces it, failure lets the debts go; replays and races
change nothing twice. No DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from events.payment import FinePaid, TaxReceiptPaid
from functions.core.errors import LostRaceError
from functions.core.retry import retry_on_conflict
from functions.notification.templates import platform_templates, render
from functions.payment import handlers, payments, receipts, redsys, service
from functions.payment.handlers import PaymentPorts
from functions.payment.payments import Payment
from tests.unit.fakes import FixedClock, event_models, events_in
from tests.unit.payment.conftest import T0
from tests.unit.payment.fakes import TEST_GATEWAY, FakePaymentStore
from tests.unit.payment.test_handlers import CITIZEN, fine, issue, receipt
from tests.unit.rgpd_support import rgpd_request

APPROVED, DECLINED = 0, 190


def pay(ports: PaymentPorts, store: FakePaymentStore, *debt_ids: str, method: payments.Method = "card") -> Payment:
    staged = handlers.create_payment(handlers.CreatePayment(debt_ids, method), ports)
    store.commit(staged.unit)
    return staged.result.payment


def notify(ports: PaymentPorts, store: FakePaymentStore, form: dict[str, str]) -> tuple[Payment, list[str]]:
    """Run and commit the notification's use case: the payment after it, and the events it announced."""
    staged = handlers.handle_notification(form, ports, None)
    announced = [type_ for type_, _ in events_in(staged.unit)]
    store.commit(staged.unit)
    return staged.result, announced


def word(payment: Payment, response: int, *, amount: int | None = None) -> dict[str, str]:
    """Redsys's notification for the payment's attempt, signed with the test merchant's key."""
    cents = payment.amount_cents if amount is None else amount
    return redsys.notification_form(TEST_GATEWAY.merchant, payment.order, cents, response, authorisation_code="183947")


def test_a_payment_charges_what_is_due_today_holds_its_debts_and_sends_the_citizen_to_redsys(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN a traffic fine notified 2 March (reduced 50 % until 22 March) and an IBI receipt in its period
    issue(ports, store, fine())
    issue(ports, store, receipt())

    # WHEN the citizen pays both by Bizum
    staged = handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1", "receipt-IBI-2026-1"), "bizum"), ports)
    store.commit(staged.unit)
    payment, form = staged.result.payment, staged.result.form

    # THEN it charges the reduced fine and the receipt, with the rules that priced them
    assert [(c.debt_id, c.amount_cents) for c in payment.charges] == [
        ("fine-MUL-2026-1", 10000),
        ("receipt-IBI-2026-1", 45678),
    ]
    assert "6/2015" in payment.charges[0].legal_source
    assert payment.state == "created" and payment.citizen_id == CITIZEN
    # AND both debts are held by it
    assert {store.debts[d].claimed_by for d in payment.debt_ids} == {payment.id}
    # AND the form is Redsys's, signed, for that amount, that order, by Bizum
    sent = redsys.decode_parameters(form.merchant_parameters)
    assert form.url == TEST_GATEWAY.merchant.url
    assert sent["DS_MERCHANT_AMOUNT"] == "55678" and sent["DS_MERCHANT_ORDER"] == payment.order
    assert sent["DS_MERCHANT_PAYMETHODS"] == "z"
    assert sent["DS_MERCHANT_MERCHANTURL"] == TEST_GATEWAY.notification_url
    assert form.signature == redsys.sign(TEST_GATEWAY.merchant.key, payment.order, form.merchant_parameters)


def test_an_unknown_debt_or_debts_of_two_people_are_refused_and_nothing_is_staged(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    issue(ports, store, fine(fine_id="MUL-2026-2", citizen_id="c-other"))
    with pytest.raises(payments.DebtNotFoundError):
        handlers.create_payment(handlers.CreatePayment(("fine-nope",), "card"), ports)
    with pytest.raises(payments.DebtNotFoundError, match="of the person paying"):  # not an oracle of others' debts
        handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1", "fine-MUL-2026-2"), "card"), ports)
    assert not store.payments and all(d.claimed_by is None for d in store.debts.values())


def test_a_held_debt_is_not_sent_to_the_gateway_again_until_its_payment_finishes_or_lapses(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    issue(ports, store, fine())
    first = pay(ports, store, "fine-MUL-2026-1")
    with pytest.raises(payments.PaymentInProgressError, match=first.id):
        handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1",), "card"), ports)

    # WHEN the first attempt is abandoned for longer than a gateway session lasts
    clock.advance(seconds=payments.CLAIM_SECONDS + 1)

    # THEN a new payment may take the debt, with a new order number
    second = pay(ports, store, "fine-MUL-2026-1")
    assert second.order != first.order and store.debts["fine-MUL-2026-1"].claimed_by == second.id


def test_two_payments_racing_for_a_debt_one_wins_and_the_other_is_told_it_is_in_progress(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    one = handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1",), "card"), ports)
    two = handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1",), "bizum"), ports)
    store.commit(one.unit)
    with pytest.raises(LostRaceError):
        store.commit(two.unit)

    def again() -> None:
        store.commit(handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1",), "bizum"), ports).unit)

    with pytest.raises(payments.PaymentInProgressError):
        retry_on_conflict(again, attempts=3, what="pay")
    assert list(store.payments) == [one.result.payment.id]


def test_an_approved_notification_pays_each_debt_once_and_announces_it(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    issue(ports, store, receipt())
    payment = pay(ports, store, "fine-MUL-2026-1", "receipt-IBI-2026-1")

    done, announced = notify(ports, store, word(payment, APPROVED))

    assert done.state == "success" and done.authorisation_code == "183947" and done.refund_due == ()
    assert sorted(announced) == sorted(
        [
            "es.madrid.pic.fine.paid.v1",
            "es.madrid.pic.tax.receipt.paid.v1",
            "es.madrid.pic.payment.succeeded.v1",
            "es.madrid.pic.notification.requested.v1",  # the receipt notice, through NOT
        ]
    )
    for debt_id in payment.debt_ids:
        debt = store.debts[debt_id]
        assert (debt.status, debt.paid_by, debt.claimed_by) == ("paid", payment.id, None)

    # AND the same notification again (Redsys retries, a replay) changes nothing and announces nothing
    again, announced_again = notify(ports, store, word(payment, APPROVED))
    assert again == done and announced_again == []

    # AND a paid debt is never sent to the gateway again
    with pytest.raises(service.DebtAlreadyPaidError):
        handlers.create_payment(handlers.CreatePayment(("fine-MUL-2026-1",), "card"), ports)


def test_a_declined_notification_lets_the_debts_go_and_a_new_attempt_gets_a_new_order(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    done, announced = notify(ports, store, word(payment, DECLINED))
    assert (done.state, done.outcome_code) == ("failed", DECLINED)
    assert announced == ["es.madrid.pic.payment.failed.v1"]
    assert store.debts["fine-MUL-2026-1"].claimed_by is None and store.debts["fine-MUL-2026-1"].status == "pending"

    # AND a later "approved" for the failed attempt is refused: it does not contradict the stored outcome
    with pytest.raises(redsys.NotificationRefusedError, match="is failed"):
        handlers.handle_notification(word(payment, APPROVED), ports, None)
    retry = pay(ports, store, "fine-MUL-2026-1")
    assert retry.order != payment.order


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda p: word(p, APPROVED, amount=p.amount_cents - 1), "amount"),
        (lambda p: redsys.notification_form(TEST_GATEWAY.merchant, "9999ZZZZ0000", p.amount_cents, 0), "never issued"),
        (lambda p: {**word(p, APPROVED), "Ds_Signature": word(p, DECLINED)["Ds_Signature"]}, "Ds_Signature"),
        (lambda p: {**word(p, APPROVED), "Ds_Signature": ""}, "both required"),
    ],
    ids=["amount", "unknown-order", "signature-of-another-notification", "no-signature"],
)
def test_a_notification_that_cannot_be_trusted_changes_nothing(
    ports: PaymentPorts, store: FakePaymentStore, tamper: object, reason: str
) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    assert callable(tamper)
    with pytest.raises(redsys.NotificationRefusedError, match=reason):
        handlers.handle_notification(tamper(payment), ports, None)
    assert store.payments[payment.id] == payment and store.debts["fine-MUL-2026-1"].status == "pending"


def test_a_debt_paid_meanwhile_by_another_payment_is_a_refund_due_not_a_second_payment(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    # GIVEN a first attempt abandoned past its hold, and a second payment that succeeded
    issue(ports, store, fine())
    late = pay(ports, store, "fine-MUL-2026-1")
    clock.advance(seconds=payments.CLAIM_SECONDS + 1)
    second = pay(ports, store, "fine-MUL-2026-1")
    notify(ports, store, word(second, APPROVED))

    # WHEN the first attempt's approval arrives after all
    done, announced = notify(ports, store, word(late, APPROVED))

    # THEN the first payment is a success with the debt as a refund due, and the debt stays paid by the second
    assert done.state == "success" and done.refund_due == ("fine-MUL-2026-1",)
    assert announced == ["es.madrid.pic.payment.succeeded.v1", "es.madrid.pic.notification.requested.v1"]
    assert store.debts["fine-MUL-2026-1"].paid_by == second.id


def test_the_fine_paid_event_says_what_was_charged_and_why(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    staged = handlers.handle_notification(word(payment, APPROVED), ports, None)
    (paid,) = [e for e in event_models(staged.unit) if isinstance(e, FinePaid)]
    assert (paid.fine_id, paid.amount_cents, paid.payment_id) == ("MUL-2026-1", 10000, payment.id)
    assert paid.stage == payment.charges[0].stage and "6/2015" in paid.legal_source


def test_an_access_request_exports_the_persons_payments_with_their_debts(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    notify(ports, store, word(payment, APPROVED))
    answer = handlers.answer_rights(rgpd_request("access", CITIZEN, T0), ports, None)
    (answered,) = [data for _, data in events_in(answer)]
    exported = answered["export"]["payments"]
    assert [(p["id"], p["state"], p["amount_cents"]) for p in exported] == [(payment.id, "success", 10000)]
    assert answered["export"]["debts"][0]["status"] == "paid"


def test_an_approved_payment_has_a_receipt_verified_by_its_code(ports: PaymentPorts, store: FakePaymentStore) -> None:
    # GIVEN a fine and a receipt paid in one payment, and a receipt another payment had paid meanwhile
    issue(ports, store, fine())
    issue(ports, store, receipt())
    payment = pay(ports, store, "fine-MUL-2026-1", "receipt-IBI-2026-1")
    done, _ = notify(ports, store, word(payment, APPROVED))

    # THEN the receipt's code verifies it: the amount, how and what it paid, not who paid
    assert receipts.CODE.match(done.verification_code)
    verified = handlers.verify_receipt(done.verification_code, ports)
    assert (verified["amount_cents"], verified["method"]) == (55678, "card")
    assert [d["debt_id"] for d in verified["debts"]] == ["fine-MUL-2026-1", "receipt-IBI-2026-1"]
    assert CITIZEN not in str(verified)
    # AND the PDF says what was paid, how much, and how to verify it
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(handlers.receipt(done, ports))).pages)
    assert "Justificante de pago" in text and "556,78 EUR" in text and done.verification_code in text
    assert "fine-MUL-2026-1" in text and "/v1/payments/verify/" in text


def test_an_unknown_or_malformed_code_and_an_unpaid_payment_have_no_receipt(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    payment = pay(ports, store, "fine-MUL-2026-1")
    for code in ("PIC-0000-0000-0000-0000", "nope", "PIC-OOOO-0000-0000-0000"):
        with pytest.raises(receipts.ReceiptNotFoundError):
            handlers.verify_receipt(code, ports)
    with pytest.raises(receipts.ReceiptNotFoundError):
        handlers.receipt(payment, ports)


def test_the_receipt_notice_asks_not_for_pic_s_own_template_and_fills_every_field_it_declares(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN a fine and a receipt paid together
    issue(ports, store, fine())
    issue(ports, store, receipt())
    payment = pay(ports, store, "fine-MUL-2026-1", "receipt-IBI-2026-1")

    # WHEN Redsys approves it
    staged = handlers.handle_notification(word(payment, APPROVED), ports, None)

    # THEN NOT is asked, once, to tell the person with the platform template, and the template renders
    requests = [data for type_, data in events_in(staged.unit) if type_ == "es.madrid.pic.notification.requested.v1"]
    assert len(requests) == 1
    request = requests[0]
    assert request["recipient"] == {"citizen_id": payment.citizen_id, "email": None, "phone": None}
    assert request["reference"] == payment.id
    template = platform_templates()[request["template"]]
    rendered = render(template, request["personalisation"], "es")
    code = staged.result.verification_code
    assert code in rendered.body and f"/verify/{code}" in rendered.body
    assert f"{TEST_GATEWAY.return_url}/{payment.id}/receipt" in rendered.body
    assert "MUL-2026-1" in rendered.body and "IBI-2026-1" in rendered.body
    assert receipts.euros(payment.amount_cents) in rendered.subject


def test_the_area_system_that_issued_a_paid_debt_is_told_by_its_webhook(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN Multas asked to be told at its webhook, and Tributos did not
    told = replace(ports, webhooks={"/legacy/multas": "https://multas.example/pic"})
    issue(ports, store, fine())
    issue(ports, store, receipt())
    payment = pay(ports, store, "fine-MUL-2026-1", "receipt-IBI-2026-1")
    staged = handlers.handle_notification(word(payment, APPROVED), ports, None)
    store.commit(staged.unit)
    paid = {type(e).__name__: e for e in event_models(staged.unit) if isinstance(e, FinePaid | TaxReceiptPaid)}

    # WHEN each debt's paid event is handled THEN Multas's fine goes to its URL with the event's facts, and
    # Tributos's receipt to nobody
    found = handlers.webhook_for(paid["FinePaid"], "es.madrid.pic.fine.paid.v1", told)
    assert found is not None
    url, body = found
    assert url == "https://multas.example/pic"
    assert (body["type"], body["fine_id"], body["amount_cents"]) == ("es.madrid.pic.fine.paid.v1", "MUL-2026-1", 10000)
    assert handlers.webhook_for(paid["TaxReceiptPaid"], "es.madrid.pic.tax.receipt.paid.v1", told) is None
