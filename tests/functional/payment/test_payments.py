"""Functional: paying debts through the real platform (the payment function under gunicorn, DynamoDB Local,
the policy engine, the outbox and the broker). A citizen pays a fine by card: ``POST /v1/payments`` answers
the Redsys form; Redsys's signed notification, posted form-urlencoded as Redsys posts it, finishes the payment,
marks the debt paid and announces it once. Fifty concurrent payments of the same debt and every notification
replayed three times end with one charge, one fine.paid and one payment.succeeded. Notifications that cannot be
trusted, another person's debt, a reused Idempotency-Key and an agent without a purpose change nothing."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
import requests

from functions.payment import cuaderno60, redsys
from local.harness import Platform
from tests.functional.consent_support import assert_problem
from tests.functional.notification_support import citizen_with, send_event, sink, unique_email
from tests.functional.payment.test_debts import FINE, debts, fine, wait_for_debts
from tests.functional.position.test_position import wait_position

pytestmark = pytest.mark.functional

NOTIFICATIONS = "/v1/payments/redsys/notifications"
SUCCEEDED, FAILED = "es.madrid.pic.payment.succeeded.v1", "es.madrid.pic.payment.failed.v1"
FINE_PAID = "es.madrid.pic.fine.paid.v1"
RECEIPT_NOTICE = "es.madrid.pic.notification.requested.v1"
MERCHANT = redsys.Merchant.test()  # make run's default terminal: Redsys's public test merchant


def a_fine(platform: Platform, citizen: str | None = None) -> tuple[str, str]:
    """A citizen with one traffic fine notified two days ago (50 % off today): (citizen, debt id)."""
    citizen = citizen or f"c-payer-{uuid.uuid4().hex[:8]}"
    sent = fine(citizen)
    send_event(platform, FINE, sent, source="/legacy/multas", event_id=str(uuid.uuid4()))
    wait_for_debts(platform, citizen, 1)
    return citizen, f"fine-{sent['fine_id']}"


def create(
    platform: Platform, headers: dict[str, str], debt_ids: list[str], method: str = "card", key: str | None = None
) -> requests.Response:
    return platform.http.post(
        platform.url("/v1/payments"),
        json={"debt_ids": debt_ids, "method": method},
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
        timeout=30,
    )


def notify(platform: Platform, form: dict[str, str], **headers: str) -> requests.Response:
    """What Redsys does: a form-urlencoded POST of the three fields, no token."""
    return platform.http.post(platform.url(NOTIFICATIONS), data=form, headers=headers, timeout=30)


def approval(payment: dict[str, Any], *, amount: int | None = None, response: int = 0) -> dict[str, str]:
    cents = payment["amount_cents"] if amount is None else amount
    return redsys.notification_form(MERCHANT, payment["order"], cents, response, authorisation_code="183947")


def test_a_citizen_pays_a_fine_by_card_and_the_signed_notification_marks_it_paid_once(platform: Platform) -> None:
    # GIVEN a citizen with an e-mail address, and their traffic fine of 200 EUR, 50 % off today
    email = unique_email()
    citizen, debt_id = a_fine(platform, citizen_with(platform, email=email))
    me = platform.as_(citizen)

    # WHEN they pay it by card
    made = create(platform, me, [debt_id])

    # THEN the payment charges 100 EUR and sends them to Redsys with a signed form for that amount
    assert made.status_code == 201, made.text
    payment = made.json()
    assert (payment["state"], payment["amount_cents"], payment["citizen_id"]) == ("created", 10000, citizen)
    fields = payment["redirect"]["fields"]
    assert set(fields) == set(redsys.FORM_FIELDS)
    sent = redsys.decode_parameters(fields["Ds_MerchantParameters"])
    assert (sent["DS_MERCHANT_AMOUNT"], sent["DS_MERCHANT_ORDER"]) == ("10000", payment["order"])
    assert sent["DS_MERCHANT_MERCHANTURL"].endswith(NOTIFICATIONS)
    assert made.headers["Location"] == f"/v1/payments/{payment['id']}"

    # WHEN Redsys notifies the approval
    answered = notify(platform, approval(payment), **{"Content-Type": "application/x-www-form-urlencoded"})

    # THEN it is stored before the 200, the debt is paid by that payment, and each fact is announced once
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"payment_id": payment["id"], "state": "success"}
    shown = platform.http.get(platform.url(f"/v1/payments/{payment['id']}"), headers=me, timeout=15).json()
    assert (shown["state"], shown["authorisation_code"]) == ("success", "183947")
    (debt,) = debts(platform, citizen).json()["debts"]
    assert debt["status"] == "paid"
    platform.wait_for(lambda: platform.events(FINE_PAID, citizen), what="fine.paid")
    platform.settle(payment["id"])
    assert len(platform.events(FINE_PAID, citizen)) == 1
    assert len(platform.events(SUCCEEDED, citizen)) == 1

    # AND the global position shows the fine paid, at what was charged
    found = wait_position(
        platform, citizen, lambda s: any(i["status"] == "paid" for i in s.get("fines", {}).get("items", [])), "paid"
    )
    (shown_fine,) = [i for i in found["fines"]["items"] if i["item_id"] == debt_id]
    assert (shown_fine["amount_eur"], shown_fine["reference"]) == ("100", payment["id"])

    # AND its receipt is a PDF with a verification code anyone can check, without learning who paid
    pdf = platform.http.get(platform.url(f"/v1/payments/{payment['id']}/receipt"), headers=me, timeout=15)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf", pdf.text[:200]
    assert pdf.content.startswith(b"%PDF-")
    verified = platform.http.get(platform.url(f"/v1/payments/verify/{shown['verification_code']}"), timeout=15)
    assert verified.json()["valid"] is True and verified.json()["amount_cents"] == 10000
    assert citizen not in verified.text
    assert_problem(platform.http.get(platform.url("/v1/payments/verify/PIC-0000-0000-0000-0000"), timeout=15),
                   404, "receipt-not-found")  # fmt: skip
    nosy = platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}")
    assert_problem(platform.http.get(platform.url(f"/v1/payments/{payment['id']}/receipt"), headers=nosy,
                                     timeout=15), 403, "forbidden")  # fmt: skip

    # AND NOT told them by e-mail, once: the amount, where the receipt is, and its code
    code = shown["verification_code"]
    (mail,) = platform.wait_for(lambda: sink(platform, "mail", email), what="the receipt notice by e-mail")
    assert "100,00 EUR" in mail["subject"] and code in mail["body"]
    assert f"/app/payments/{payment['id']}/receipt" in mail["body"]

    # AND paying it again is refused before anything reaches the gateway
    assert_problem(create(platform, me, [debt_id]), 422, "debt-already-paid")
    platform.settle(payment["id"])
    assert len(sink(platform, "mail", email)) == 1

    # AND Multas, which issued the fine, was told by its webhook, signed, once
    told = [w for w in sink(platform, "webhooks", "multas") if debt_id in w["body"]]
    assert [w["subject"] for w in told] == ["verified"], told


@pytest.mark.units_of_work
def test_fifty_concurrent_payments_and_every_notification_three_times_charge_once(platform: Platform) -> None:
    # GIVEN a citizen's fine
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)

    # WHEN fifty payments of it arrive at once (fifty taps, fifty keys)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: create(platform, me, [debt_id]), range(50)))

    # THEN one payment is created and every other is told another payment is in progress
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: 49}, statuses
    assert all(a.json()["type"].endswith("/payment-in-progress") for a in answers if a.status_code == 409)
    (payment,) = [a.json() for a in answers if a.status_code == 201]

    # WHEN Redsys's approval arrives three times at once, and then three times more
    form = approval(payment)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = list(pool.map(lambda _: notify(platform, form), range(3)))
    again = [notify(platform, form) for _ in range(3)]

    # THEN each is answered 200 (stored), and there is one charge, one fine.paid and one payment.succeeded
    assert [r.status_code for r in first + again] == [200] * 6, [r.text for r in first + again]
    platform.wait_for(lambda: platform.events(SUCCEEDED, citizen), what="payment.succeeded")
    platform.settle(payment["id"])
    assert len(platform.events(SUCCEEDED, citizen)) == 1
    assert len(platform.events(FINE_PAID, citizen)) == 1
    assert len(platform.events(RECEIPT_NOTICE, citizen)) == 1  # one receipt notice asked of NOT
    (debt,) = debts(platform, citizen).json()["debts"]
    assert debt["status"] == "paid"


def test_a_declined_payment_frees_the_fine_for_a_new_attempt_with_a_new_order(platform: Platform) -> None:
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    declined = create(platform, me, [debt_id], method="bizum").json()
    assert notify(platform, approval(declined, response=190)).json()["state"] == "failed"
    platform.wait_for(lambda: platform.events(FAILED, citizen), what="payment.failed")

    retried = create(platform, me, [debt_id])
    assert retried.status_code == 201, retried.text
    assert retried.json()["order"] != declined["order"]
    # the failed attempt's order is not the current one of any payment that could be approved later
    late = notify(platform, approval(declined))
    assert_problem(late, 400, "gateway-notification-refused")


def test_notifications_that_cannot_be_trusted_are_refused_and_change_nothing(platform: Platform) -> None:
    citizen, debt_id = a_fine(platform)
    payment = create(platform, platform.as_(citizen), [debt_id]).json()
    good = approval(payment)
    refused = {
        "amount tampered": approval(payment, amount=1),
        "another merchant's key": redsys.notification_form(
            redsys.Merchant(MERCHANT.code, "1", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", MERCHANT.url),
            payment["order"],
            payment["amount_cents"],
            0,
        ),
        "an order never issued": redsys.notification_form(MERCHANT, "0000NEVER000", payment["amount_cents"], 0),
        "no signature": {**good, "Ds_Signature": ""},
        "garbage parameters": {**good, "Ds_MerchantParameters": "%%%"},
    }
    for what, form in refused.items():
        assert_problem(notify(platform, form), 400, "gateway-notification-refused"), what
    as_json = platform.http.post(platform.url(NOTIFICATIONS), json=good, timeout=15)
    assert_problem(as_json, 415, "unsupported-media-type")

    # THEN the payment is as it was and the debt unpaid
    shown = platform.http.get(platform.url(f"/v1/payments/{payment['id']}"), headers=platform.as_(citizen), timeout=15)
    assert shown.json()["state"] == "created"
    assert debts(platform, citizen).json()["debts"][0]["status"] == "pending"


def test_another_persons_debt_a_reused_key_and_an_agent_without_a_purpose_are_refused(platform: Platform) -> None:
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    # another citizen may not pay someone's debt; a citizen is not told whether an unknown debt exists
    nosy = platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}")
    assert_problem(create(platform, nosy, [debt_id]), 403, "forbidden")
    assert_problem(create(platform, me, ["fine-NOPE-1"]), 403, "forbidden")

    # an agent on the phone pays only with a purpose, and the payment records the agent
    agent = platform.as_("ag-pay-phone", role="agent", level=2, area="hacienda")
    assert_problem(create(platform, agent, [debt_id]), 403, "forbidden")
    calling = {**agent, "Access-Purpose": "LLAMADA-010-4411"}
    assert_problem(create(platform, calling, ["fine-NOPE-1"]), 404, "debt-not-found")
    made = create(platform, calling, [debt_id], key="phone-1")
    assert made.status_code == 201, made.text
    assert made.json()["agent"] == "agent:ag-pay-phone"

    # the same key and body is the same payment; the same key with another body is refused
    replay = create(platform, calling, [debt_id], key="phone-1")
    assert replay.json()["id"] == made.json()["id"] and replay.headers.get("Idempotent-Replayed") == "true"
    other = create(platform, calling, [debt_id], "bizum", key="phone-1")
    assert_problem(other, 422, "idempotency-key-reused")


def test_a_citizen_prints_a_payment_letter_for_a_bank_counter(platform: Platform) -> None:
    # GIVEN a citizen's fine, 100 EUR today
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    url = platform.url(f"/v1/citizens/{citizen}/debts/{debt_id}/letter")

    # WHEN they print its letter, twice
    first = platform.http.get(url, headers=me, timeout=15)
    again = platform.http.get(url, headers=me, timeout=15)

    # THEN it is a PDF with the Cuaderno 60 reference, the same both times
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/pdf", first.text[:300]
    assert first.content.startswith(b"%PDF-")
    reference = first.headers["X-Cuaderno60-Reference"]
    assert len(reference) == 12 and again.headers["X-Cuaderno60-Reference"] == reference

    # AND another person, or a debt that is not theirs, gets none
    nosy = platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}")
    assert_problem(platform.http.get(url, headers=nosy, timeout=15), 403, "forbidden")
    other = platform.url(f"/v1/citizens/{citizen}/debts/fine-NOPE-1/letter")
    assert_problem(platform.http.get(other, headers=me, timeout=15), 404, "debt-not-found")


def test_a_bank_s_collection_file_pays_the_printed_letter_once(platform: Platform) -> None:
    # GIVEN a fine whose letter the citizen printed and paid at a bank counter today
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    printed = platform.http.get(platform.url(f"/v1/citizens/{citizen}/debts/{debt_id}/letter"), headers=me, timeout=15)
    assert printed.status_code == 200, printed.text[:300]
    record = cuaderno60.Collected(
        "280796",  # make run's emisora (PIC_CUADERNO60_EMISORA)
        printed.headers["X-Cuaderno60-Reference"],
        printed.headers["X-Cuaderno60-Identification"],
        10000,
        date.today(),
        "2100",
    )
    text = cuaderno60.render_return_file([record], entity="2100", created_on=date.today())
    system = {**platform.as_("svc-recaudacion", role="system"), "Content-Type": "text/plain"}
    url = platform.url("/v1/payments/bank-collections")

    # WHEN the bank's file arrives, and again
    first = platform.http.post(url, data=text, headers=system, timeout=30)
    again = platform.http.post(url, data=text, headers=system, timeout=30)

    # THEN the letter paid the fine once
    assert first.status_code == 200, first.text
    assert first.json()["outcomes"] == {"paid": 1} and again.json()["outcomes"] == {"already-recorded": 1}
    (debt,) = debts(platform, citizen).json()["debts"]
    assert debt["status"] == "paid"
    platform.wait_for(lambda: platform.events(FINE_PAID, citizen), what="fine.paid")
    platform.settle(citizen)
    assert len(platform.events(FINE_PAID, citizen)) == 1

    # AND a citizen may not send one, and a tampered file is refused whole, naming the line
    assert_problem(platform.http.post(url, data=text, headers={**me, "Content-Type": "text/plain"}, timeout=15), 403,
                   "forbidden")  # fmt: skip
    lines = text.splitlines(keepends=True)
    tampered = lines[0] + lines[1][:35] + "00000001" + lines[1][43:] + lines[2]
    refused = assert_problem(platform.http.post(url, data=tampered, headers=system, timeout=15), 422,
                             "collection-file-invalid")  # fmt: skip
    assert refused["errors"][0]["line"] == 2
