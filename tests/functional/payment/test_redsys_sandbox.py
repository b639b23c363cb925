"""Functional: a payment through ``make run``'s local Redsys (``local/redsys_sandbox.py``), as a browser goes
through it: the form ``POST /v1/payments`` answered is posted to the sandbox's realizarPago, which checks it as
Redsys does (a reused order is SIS0051, a bad signature SIS0042) and shows the payment page; the holder's choice
makes the sandbox sign the merchant notification and deliver it to the platform before sending the browser back
to URLOK or URLKO; redelivering it changes nothing. A refund an agent of Hacienda asks for goes to the sandbox's
REST endpoint once, and the payment shows it done."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem
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


def refund(
    platform: Platform, headers: dict[str, str], payment_id: str, amount: int, available: int, key: str | None = None
) -> requests.Response:
    body = {"amount_cents": amount, "refund_amount_available": available, "reason": "Recurso estimado"}
    return platform.http.post(
        platform.url(f"/v1/payments/{payment_id}/refunds"),
        json=body,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
        timeout=30,
    )


def test_an_agent_of_hacienda_refunds_part_of_a_payment_through_the_gateway_once(platform: Platform) -> None:
    # GIVEN a fine paid at 100 EUR through the local Redsys
    citizen, debt_id = a_fine(platform)
    me = platform.as_(citizen)
    payment = create(platform, me, [debt_id]).json()
    assert to_gateway(platform, payment)[0] == 200
    choose(platform, payment["order"], "approve")
    agent = platform.as_("ag-refund-1", role="agent", level=2, area="hacienda")
    calling = {**agent, "Access-Purpose": "RECURSO-2026-77"}

    # WHEN the citizen, an agent without a purpose or of another area ask for a refund THEN they are refused
    assert_problem(refund(platform, me, payment["id"], 4000, 10000), 403, "forbidden")
    assert_problem(refund(platform, agent, payment["id"], 4000, 10000), 403, "forbidden")
    elsewhere = platform.as_("ag-refund-2", role="agent", level=3, area="atencion-ciudadania")
    assert_problem(refund(platform, {**elsewhere, "Access-Purpose": "X-1"}, payment["id"], 4000, 10000), 403,
                   "forbidden")  # fmt: skip

    # WHEN an agent of Hacienda, with the appeal as purpose, refunds 40 EUR (the same request sent twice)
    first = refund(platform, calling, payment["id"], 4000, 10000, key="refund-1")
    again = refund(platform, calling, payment["id"], 4000, 10000, key="refund-1")

    # THEN one refund is submitted and 60 EUR stay available
    assert first.status_code == 202, first.text
    assert again.json()["id"] == first.json()["id"] and first.json()["refund_amount_available"] == 6000

    # AND PAY's worker gives it back through the gateway, once
    def done() -> dict[str, Any] | None:
        shown = platform.http.get(platform.url(f"/v1/payments/{payment['id']}"), headers=me, timeout=15).json()
        return shown if shown["refunds"] and shown["refunds"][0]["state"] == "success" else None

    shown = platform.wait_for(done, what="the refund's success")
    assert shown["refund_amount_available"] == 6000 and shown["refunds"][0]["by"] == "agent:ag-refund-1"
    platform.settle(payment["id"])
    orders = platform.http.get(platform.url("/dev/redsys/orders"), timeout=15).json()["orders"]
    (order,) = [o for o in orders if o["order"] == payment["order"]]
    assert order["refunds_cents"] == [4000]
    assert len(platform.events("es.madrid.pic.payment.refund.finished.v1", citizen)) == 1

    # AND the day's reconciliation shows the charge and the refund, for accounting (not for a citizen)
    day = datetime.now(ZoneInfo("Europe/Madrid")).date().isoformat()
    books = platform.url(f"/v1/payments/reconciliation/{day}")
    accounting = platform.as_("svc-contabilidad", role="system")
    answered = platform.http.get(books, headers=accounting, timeout=15)
    assert answered.status_code == 200 and answered.headers["Content-Type"].startswith("text/csv"), answered.text
    rows = list(csv.DictReader(io.StringIO(answered.text)))
    mine = sorted((r["kind"], int(r["amount_cents"])) for r in rows if r["payment_id"] == payment["id"])
    assert mine == [("charge", 10000), ("refund", -4000)]
    posting = platform.http.get(books, params={"format": "posting"}, headers=accounting, timeout=15)
    assert posting.status_code == 200 and posting.text.startswith(f"H{day.replace('-', '')}PIC-PAY")
    assert_problem(platform.http.get(books, headers=me, timeout=15), 403, "forbidden")

    # AND a refund on a stale view of what is available, or of more than is left, is refused
    assert_problem(refund(platform, calling, payment["id"], 4000, 10000), 412, "refund-amount-available-mismatch")
    assert_problem(refund(platform, calling, payment["id"], 6001, 6000), 422, "refund-exceeds-available")
