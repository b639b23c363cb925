"""Functional: direct debits and the tax folder through the real platform (broker, Triggers, the payment functions,
DynamoDB Local, the policy engine, the local webhook receiver): Tributos issues receipts by event; the citizen signs a
SEPA mandate for their home's IBI (``PUT /v1/citizens/{id}/direct-debits/{object}``) and sees it masked in the tax
folder with the Sistema Especial de Pago bonus; Tributos is told by its signed webhook; bad input is a typed problem
that writes nothing; concurrent signatures leave one mandate in force; an agent needs Hacienda and a purpose; a
cancel is one call; every read is in the access log."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.harness import Platform
from tests.functional.consent_support import assert_problem
from tests.functional.notification_support import send_event, sink
from tests.functional.payment.test_debts import RECEIPT, receipt, wait_for_debts

pytestmark = pytest.mark.functional

HOME = "9872023VH5797S0001WX"
IBAN = "ES91 2100 0418 4502 0005 1332"


def folder(platform: Platform, citizen: str, headers: dict[str, str] | None = None) -> Any:
    return platform.http.get(
        platform.url(f"/v1/citizens/{citizen}/tax-folder"), headers=headers or platform.as_(citizen), timeout=15
    )


def put_debit(
    platform: Platform, citizen: str, obj: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/direct-debits/{obj}"),
        json=body,
        headers=headers or platform.as_(citizen),
        timeout=15,
    )


def with_ibi(platform: Platform) -> str:
    citizen = f"c-dd-{uuid.uuid4().hex[:8]}"
    sent = {**receipt(citizen), "direct_debit": {"status": "none"}}
    send_event(platform, RECEIPT, sent, source="/legacy/tributos", event_id=str(uuid.uuid4()))
    wait_for_debts(platform, citizen, 1)
    return citizen


def test_a_citizen_signs_a_mandate_sees_it_masked_with_the_bonus_and_tributos_is_told(platform: Platform) -> None:
    citizen = with_ibi(platform)
    before = folder(platform, citizen).json()
    assert "objects" in before, before
    (home,) = before["objects"]
    # THEN the folder offers Madrid's three IBI modalities and says what the SEP would save: 3.25 % of 456.78 €
    assert home["direct_debit"] is None and "fraccionado-bonificado" in home["modalities"]
    assert home["sep_bonus"]["bonus_cents"] == 1485 and home["sep_bonus"]["applies"] is False
    (ibi,) = before["taxes"]
    assert ibi["tax"] == "IBI" and ibi["years"][0]["pending"] == 1

    body = {"iban": IBAN, "holder": "Lola Ruiz", "modality": "fraccionado-bonificado"}
    signed = put_debit(platform, citizen, HOME, body)
    assert signed.status_code == 200, signed.text
    mandate = signed.json()["mandate"]
    assert mandate["iban"] == "ES91 **** **** **** **** 1332" and "2100" not in signed.text
    again = put_debit(platform, citizen, HOME, body)  # the same mandate again: the same answer, nothing new
    assert again.json()["mandate"]["reference"] == mandate["reference"]

    after = folder(platform, citizen).json()["objects"][0]
    assert after["direct_debit"]["state"] == "active" and after["sep_bonus"]["applies"] is True

    # AND Tributos was told once, by its signed webhook, with the whole mandate
    def told() -> list[dict[str, Any]] | None:
        found = [w for w in sink(platform, "webhooks", "tributos") if mandate["reference"] in w["body"]]
        return found or None

    (hook,) = platform.wait_for(told, what="Tributos' webhook")
    assert hook["subject"] == "verified" and "ES9121000418450200051332" in hook["body"]

    # AND cancelling is one call; again answers it cancelled
    url = platform.url(f"/v1/citizens/{citizen}/direct-debits/{HOME}")
    cancelled = platform.http.delete(url, headers=platform.as_(citizen), timeout=15)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    assert platform.http.delete(url, headers=platform.as_(citizen), timeout=15).json()["state"] == "cancelled"
    assert folder(platform, citizen).json()["objects"][0]["sep_bonus"]["applies"] is False


def test_bad_input_is_a_typed_problem_and_writes_nothing(platform: Platform) -> None:
    citizen = with_ibi(platform)
    body = {"iban": "ES91 2100 0418 4502 0005 1333", "holder": "Lola Ruiz", "modality": "pago-unico"}
    assert_problem(put_debit(platform, citizen, HOME, body), 422, "iban-invalid")
    assert_problem(
        put_debit(platform, citizen, HOME, {**body, "iban": "BR1800360305000010009795493C1"}), 422, "iban-invalid"
    )
    assert_problem(
        put_debit(platform, citizen, "0000000XX0000X0001XX", {**body, "iban": IBAN}), 404, "tax-object-not-found"
    )
    assert_problem(put_debit(platform, citizen, HOME, {**body, "iban": IBAN, "modality": "mensual"}), 422, "validation")
    assert_problem(put_debit(platform, citizen, HOME, {**body, "iban": IBAN, "extra": 1}), 422, "validation")
    url = platform.url(f"/v1/citizens/{citizen}/direct-debits/{HOME}")
    assert_problem(platform.http.delete(url, headers=platform.as_(citizen), timeout=15), 404, "direct-debit-not-found")
    assert folder(platform, citizen).json()["objects"][0]["direct_debit"] is None


@pytest.mark.units_of_work
def test_concurrent_signatures_leave_one_mandate_in_force(platform: Platform) -> None:
    citizen = with_ibi(platform)
    accounts = ["ES91 2100 0418 4502 0005 1332", "ES79 2100 0813 6101 2345 6789"]

    def sign(n: int) -> tuple[int, str]:
        body = {"iban": accounts[n % 2], "holder": "Lola Ruiz", "modality": "pago-unico"}
        answer = put_debit(platform, citizen, HOME, body)
        return answer.status_code, answer.json().get("type", "")

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(sign, range(16)))
    # THEN each is signed, or (when every retry lost the race to another signature) a typed 409 to send again
    assert (200, "") in answers and answers <= {(200, ""), (409, "/problems/conflict")}, answers
    debit = folder(platform, citizen).json()["objects"][0]["direct_debit"]
    states = [m["state"] for m in debit["history"]] + [debit["mandate"]["state"]]
    assert states.count("active") == 1 and set(states) <= {"active", "replaced"}


def test_an_agent_of_hacienda_with_a_purpose_records_a_mandate_others_may_not(platform: Platform) -> None:
    citizen = with_ibi(platform)
    body = {"iban": IBAN, "holder": "Lola Ruiz", "modality": "pago-unico"}
    clerk = platform.as_("ag-dd-1", role="agent", level=1, area="atencion-ciudadania")
    assert_problem(put_debit(platform, citizen, HOME, body, {**clerk, "Access-Purpose": "OAC-77"}), 403, "forbidden")
    hacienda = platform.as_("ag-dd-2", role="agent", level=2, area="hacienda")
    assert_problem(put_debit(platform, citizen, HOME, body, hacienda), 403, "forbidden")  # no purpose
    recorded = put_debit(platform, citizen, HOME, body, {**hacienda, "Access-Purpose": "OAC-CENTRO-12"})
    assert recorded.status_code == 200 and recorded.json()["mandate"]["by"] == "agent", recorded.text
    nosy = platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}")
    assert_problem(folder(platform, citizen, nosy), 403, "forbidden")
    summary = folder(platform, citizen, {**clerk, "Access-Purpose": "LLAMADA-010-9"}).json()
    assert summary == {"citizen_id": citizen, "receipts": 1, "pending": 1, "direct_debits": 1, "view": "summary"}

    def logged() -> list[dict[str, Any]] | None:
        log = platform.http.get(platform.url(f"/v1/citizens/{citizen}/access-log"), headers=platform.as_(citizen),
                                timeout=10).json()["entries"]  # fmt: skip
        mine = [e for e in log if e["resource"] in ("tax-folder", "direct-debit") and e["reader"]["role"] == "agent"]
        return mine if len(mine) >= 4 else None

    reads = platform.wait_for(logged, what="the agents' reads of the tax folder and the mandate")
    assert ("allowed", "OAC-CENTRO-12") in {(e["decision"], e.get("purpose")) for e in reads}
