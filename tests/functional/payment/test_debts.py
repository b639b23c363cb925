"""Functional: fines and tax receipts through the real platform (broker, Triggers, the payment functions,
DynamoDB Local, the policy engine): Multas and Tributos send debts as CloudEvents (binary and structured),
``GET /v1/citizens/{id}/debts`` prices each one for today with its rule and legal source, redeliveries change
nothing, a concurrent flood of the same fine leaves one debt, bad or foreign senders are refused, agents read
only with a purpose (level 1 a summary) and every read is in the citizen's access log."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.harness import Platform
from tests.functional.consent_support import assert_problem
from tests.functional.notification_support import send_event

pytestmark = pytest.mark.functional

FINE = "es.madrid.pic.fine.issued.v1"
RECEIPT = "es.madrid.pic.tax.receipt.issued.v1"
NOW = datetime.now(UTC).replace(microsecond=0)


def fine(citizen_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "fine_id": f"MUL-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen_id,
        "plate": "1234KLM",
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en zona de carga y descarga"},
        "severity": "grave",
        "regime": "traffic",
        "amount_cents": 20000,
        "notified_at": (NOW - timedelta(days=2)).isoformat(),
        **overrides,
    }


def receipt(citizen_id: str) -> dict[str, Any]:
    today = NOW.date()
    return {
        "receipt_id": f"IBI-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen_id,
        "tax": "IBI",
        "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
        "period": str(today.year),
        "amount_cents": 45678,
        "voluntary_period": {
            "start": (today - timedelta(days=10)).isoformat(),
            "end": (today + timedelta(days=50)).isoformat(),
        },
        "direct_debit": {"status": "active", "modality": "pago-unico"},
    }


def debts(platform: Platform, citizen_id: str, headers: dict[str, str] | None = None) -> Any:
    return platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/debts"), headers=headers or platform.as_(citizen_id), timeout=15
    )


def wait_for_debts(platform: Platform, citizen_id: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        body = debts(platform, citizen_id).json()
        return body["debts"] if len(body["debts"]) >= count else None

    return list(platform.wait_for(found, what=f"{count} debts of {citizen_id}"))


def test_a_fine_and_a_receipt_arrive_by_event_and_are_priced_for_today(platform: Platform) -> None:
    citizen = f"c-pay-{uuid.uuid4().hex[:8]}"
    sent_fine, sent_receipt = fine(citizen), receipt(citizen)
    send_event(platform, FINE, sent_fine, source="/legacy/multas", event_id=str(uuid.uuid4()))
    send_event(platform, RECEIPT, sent_receipt, source="/legacy/tributos", event_id=str(uuid.uuid4()),
               mode="structured")  # fmt: skip

    found = {d["kind"]: d for d in wait_for_debts(platform, citizen, 2)}
    traffic = found["fine"]
    assert traffic["id"] == f"fine-{sent_fine['fine_id']}" and traffic["status"] == "pending"
    # THEN the fine is halved for 20 natural days from the day after notification, the rule and its source said
    assert traffic["due"]["payable"] and traffic["due"]["amount_due_cents"] == 10000
    assert traffic["due"]["stage"] == "early-payment" and "art. 94" in traffic["due"]["legal_source"]
    assert "alegaciones" in traffic["due"]["notice"]["es"] and traffic["due"]["then"]["amount_due_cents"] == 20000
    # AND the receipt is its amount within its voluntary period, with the 5 % surcharge after it
    tax = found["tax-receipt"]
    assert tax["due"]["stage"] == "voluntary" and tax["due"]["amount_due_cents"] == 45678
    assert tax["due"]["until"] == sent_receipt["voluntary_period"]["end"]
    assert tax["due"]["then"]["amount_due_cents"] == 47962 and "art. 28" in tax["due"]["then"]["legal_source"]


@pytest.mark.units_of_work
def test_redeliveries_and_a_concurrent_flood_of_one_fine_leave_one_debt(platform: Platform) -> None:
    citizen = f"c-pay-{uuid.uuid4().hex[:8]}"
    data = fine(citizen)

    def deliver(n: int) -> None:  # 20 different deliveries of the same fine, some the same event again
        send_event(platform, FINE, data, source="/legacy/multas", event_id=f"flood-{data['fine_id']}-{n % 5}",
                   mode="structured" if n % 2 else "binary")  # fmt: skip

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(deliver, range(20)))
    wait_for_debts(platform, citizen, 1)
    platform.settle(data["fine_id"])
    (only,) = debts(platform, citizen).json()["debts"]
    assert only["reference"] == data["fine_id"] and only["amount_cents"] == 20000


def test_a_malformed_debt_or_one_from_a_system_that_does_not_issue_it_changes_nothing(platform: Platform) -> None:
    citizen = f"c-pay-{uuid.uuid4().hex[:8]}"
    bad = fine(citizen, amount_cents=-5)
    event_id = str(uuid.uuid4())
    send_event(platform, FINE, bad, source="/legacy/multas", event_id=event_id)
    letter = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )[0]
    assert "amount_cents" in str(letter)
    # Tributos does not issue fines: the broker refuses it as that sender
    refused = platform.send_event(FINE, fine(citizen), source="/legacy/tributos", event_id=str(uuid.uuid4()))
    assert refused.status_code == 403, refused.text
    platform.settle(citizen)
    assert debts(platform, citizen).json()["debts"] == []


def test_agents_read_debts_only_with_a_purpose_level_1_a_summary_and_each_read_is_logged(platform: Platform) -> None:
    citizen = f"c-pay-{uuid.uuid4().hex[:8]}"
    send_event(platform, FINE, fine(citizen), source="/legacy/multas", event_id=str(uuid.uuid4()))
    wait_for_debts(platform, citizen, 1)

    agent = platform.as_("ag-pay-1", role="agent", level=1, area="atencion-ciudadania")
    refused = assert_problem(debts(platform, citizen, agent), 403, "forbidden")
    assert "Access-Purpose" in refused["detail"]
    summary = debts(platform, citizen, {**agent, "Access-Purpose": "LLAMADA-010-77"}).json()
    assert summary == {"citizen_id": citizen, "count": 1, "amount_due_cents": 10000,
                       "next_date": summary["next_date"], "view": "summary"}  # fmt: skip
    expert = platform.as_("ag-pay-2", role="agent", level=2, area="hacienda")
    detail = debts(platform, citizen, {**expert, "Access-Purpose": "EXP-IBI-2026-9"}).json()
    assert detail["debts"][0]["due"]["amount_due_cents"] == 10000

    for other in (platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}"), platform.as_("adm-pay", role="admin")):
        assert_problem(debts(platform, citizen, other), 403, "forbidden")

    def logged() -> list[dict[str, Any]] | None:
        log = platform.http.get(platform.url(f"/v1/citizens/{citizen}/access-log"), headers=platform.as_(citizen),
                                timeout=10).json()["entries"]  # fmt: skip
        mine = [e for e in log if e["resource"] == "debts" and e["reader"]["role"] == "agent"]
        return mine if len(mine) == 3 else None

    reads = platform.wait_for(logged, what="the agents' reads of the debts")
    assert {(e["decision"], e.get("purpose")) for e in reads} == {
        ("denied", None), ("allowed", "LLAMADA-010-77"), ("allowed", "EXP-IBI-2026-9")
    }  # fmt: skip


def test_a_fine_named_by_multas_own_record_is_the_persons_once_c360_links_it(platform: Platform) -> None:
    # GIVEN Multas names the offender by its own record, one C360 has not linked yet
    local_id = f"MUL-P-{uuid.uuid4().hex[:8]}"
    sent = {**fine("c-unused"), "record": {"source": "/legacy/multas", "local_id": local_id}}
    del sent["citizen_id"]
    send_event(platform, FINE, sent, source="/legacy/multas", event_id=str(uuid.uuid4()))
    platform.settle(sent["fine_id"])
    # WHEN Multas sends the person's record and C360 links it to a golden record
    person = {"local_id": local_id, "given_name": "Rosa", "first_surname": f"Multada{uuid.uuid4().hex[:6]}"}
    send_event(platform, "es.madrid.pic.citizen.record.upserted.v1", person, source="/legacy/multas",
               event_id=str(uuid.uuid4()))  # fmt: skip
    system = platform.as_("svc-multas", role="system")

    record = {"source": "/legacy/multas", "local_id": local_id}

    def linked() -> str | None:
        found = platform.http.get(platform.url("/v1/citizens"), params=record, headers=system, timeout=10)
        return str(found.json()["citizen_id"]) if found.status_code == 200 else None

    citizen = platform.wait_for(linked, what="C360's link of Multas' record")
    # THEN the fine is that person's, priced for today
    (debt,) = wait_for_debts(platform, citizen, 1)
    assert debt["id"] == f"fine-{sent['fine_id']}" and debt["due"]["amount_due_cents"] == 10000
