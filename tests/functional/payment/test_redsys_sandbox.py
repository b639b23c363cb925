"""Functional: a payment through ``make run``'s local Redsys (``local/redsys_sandbox.py``), as a browser goes
through it: the form ``POST /v1/payments`` answered is posted to the sandbox's realizarPago, which checks it as
Redsys does (a reused order is SIS0051, a bad signature SIS0042) and shows the payment page; the holder's choice
makes the sandbox sign the merchant notification and deliver it to the platform before sending the browser back
to URLOK or URLKO; redelivering it changes nothing."""

from __future__ import annotations

import uuid

import pytest

from local.harness import Platform
from tests.functional.payment.test_debts import debts
from tests.functional.payment.test_payments import FINE_PAID, SUCCEEDED, a_fine, create

pytestmark = pytest.mark.functional


def to_gateway(platform: Platform, payment: dict[str, str | dict[str, str]]) -> tuple[int, str]:
    """The browser's auto-submitted form: the three fields to the redirect URL."""
    redirect = payment["redirect"]
    assert isinstance(redirect, dict)
    page = platform.http.post(str(redirect["url"]), data=redirect["fields"], timeout=15)
    return page.status_code, page.text


def choose(platform: Platform, order: str, outcome: str) -> str:
    """The holder's choice on the payment page; where the browser is sent back."""
    answered = platform.http.post(
        platform.url("/dev/redsys/answer"), data={"order": order, "outcome": outcome}, allow_redirects=False, timeout=30
    )
    assert answered.status_code == 303, answered.text
    return str(answered.headers["Location"])


def test_a_bizum_payment_through_the_local_redsys_is_settled_by_its_notification(platform: Platform) -> None:
    # GIVEN a citizen's fine, and a Bizum payment of it
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    payment = create(platform, me, [debt_id], method="bizum").json()
    assert payment["redirect"]["url"] == platform.url("/dev/redsys/realizarPago")

    # WHEN the browser reaches the sandbox: the payment page, in Spanish, with what is paid and how
    status, page = to_gateway(platform, payment)
    assert status == 200, page
    assert "100,00 €" in page and "Bizum" in page and payment["order"] in page and '<html lang="es">' in page
    # AND the same order again is refused as Redsys refuses it
    again, refused = to_gateway(platform, payment)
    assert again == 400 and "SIS0051" in refused

    # WHEN the holder pays
    back = choose(platform, payment["order"], "approve")

    # THEN the browser goes back to URLOK, and the outcome was stored before: the payment succeeded, the debt paid
    assert back == f"{platform.base}/app/payments/{payment['id']}?outcome=ok"
    shown = platform.http.get(platform.url(f"/v1/payments/{payment['id']}"), headers=me, timeout=15).json()
    assert shown["state"] == "success" and shown["authorisation_code"]
    assert debts(platform, citizen).json()["debts"][0]["status"] == "paid"

    # AND Redsys's retries of the notification are answered 200 and change nothing
    for _ in range(3):
        resent = platform.http.post(platform.url("/dev/redsys/resend"), data={"order": payment["order"]}, timeout=30)
        assert resent.json()["merchant_status"] == 200, resent.text
    platform.wait_for(lambda: platform.events(FINE_PAID, citizen), what="fine.paid")
    platform.settle(payment["id"])
    assert len(platform.events(FINE_PAID, citizen)) == len(platform.events(SUCCEEDED, citizen)) == 1
    (seen,) = [o for o in platform.http.get(platform.url("/dev/redsys/orders"), timeout=15).json()["orders"]
               if o["order"] == payment["order"]]  # fmt: skip
    assert seen["outcome"] == "approve" and [d["status"] for d in seen["deliveries"]] == [200] * 4


def test_a_declined_card_goes_back_to_urlko_and_the_fine_can_be_paid_again(platform: Platform) -> None:
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    payment = create(platform, me, [debt_id]).json()
    assert to_gateway(platform, payment)[0] == 200
    assert choose(platform, payment["order"], "decline").endswith(f"/app/payments/{payment['id']}?outcome=ko")
    shown = platform.http.get(platform.url(f"/v1/payments/{payment['id']}"), headers=me, timeout=15).json()
    assert (shown["state"], shown["outcome_code"]) == ("failed", 190)
    assert create(platform, me, [debt_id]).status_code == 201


def test_a_form_the_terminal_did_not_sign_is_refused_by_the_sandbox(platform: Platform) -> None:
    citizen, debt_id = a_fine(platform)
    payment = create(platform, platform.as_(citizen), [debt_id]).json()
    fields = dict(payment["redirect"]["fields"])
    fields["Ds_Signature"] = fields["Ds_Signature"][::-1]
    page = platform.http.post(payment["redirect"]["url"], data=fields, timeout=15)
    assert page.status_code == 400 and "SIS0042" in page.text
    unknown = platform.http.post(platform.url("/dev/redsys/answer"), data={"order": str(uuid.uuid4())}, timeout=15)
    assert unknown.status_code == 400
