"""The fines and taxes use cases (``functions.payment.handlers``) on in-memory fakes of their ports and the real
policy engine: a debt stored once, a correction while unpaid, refused once paid, a race decided again; a
person's debts priced for the instant asked (``policies/payment``); the answer to data-subject requests. No
DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.payment import FineIssued, TaxReceiptIssued
from functions.core.errors import LostRaceError
from functions.core.retry import retry_on_conflict
from functions.payment import handlers, service
from functions.payment.handlers import PaymentPorts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.payment.conftest import T0
from tests.unit.payment.fakes import FakePaymentStore
from tests.unit.rgpd_support import rgpd_request

CITIZEN = "c-lucia"
MULTAS, TRIBUTOS = "/legacy/multas", "/legacy/tributos"


def fine(**overrides: Any) -> FineIssued:
    data: dict[str, Any] = {
        "fine_id": "MUL-2026-1",
        "citizen_id": CITIZEN,
        "plate": "1234KLM",
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en carga y descarga"},
        "severity": "grave",
        "regime": "traffic",
        "amount_cents": 20000,
        "notified_at": "2026-03-01T23:30:00Z",  # 2 March in Madrid: reduced until 22 March
    }
    return FineIssued.model_validate({**data, **overrides})


def receipt(**overrides: Any) -> TaxReceiptIssued:
    data: dict[str, Any] = {
        "receipt_id": "IBI-2026-1",
        "citizen_id": CITIZEN,
        "tax": "IBI",
        "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
        "period": "2026",
        "amount_cents": 45678,
        "voluntary_period": {"start": "2026-03-01", "end": "2026-06-30"},
    }
    return TaxReceiptIssued.model_validate({**data, **overrides})


def issue(ports: PaymentPorts, store: FakePaymentStore, issued: FineIssued | TaxReceiptIssued) -> int:
    """Run and commit the use case as the issuing system would send it (Multas, Tributos); how many writes it
    staged."""
    uow = handlers.record_debt(issued, MULTAS if isinstance(issued, FineIssued) else TRIBUTOS, ports)
    staged = len(store.ledger.staged(uow))
    store.commit(uow)
    return staged


def test_a_fine_is_stored_once_and_its_redelivery_changes_nothing(ports: PaymentPorts, store: FakePaymentStore) -> None:
    assert issue(ports, store, fine()) == 1
    assert issue(ports, store, fine()) == 0
    (debt,) = store.debts.values()
    assert debt.id == "fine-MUL-2026-1" and debt.source == MULTAS and debt.version == 1 and debt.status == "pending"


def test_a_correction_replaces_an_unpaid_debt_and_is_refused_once_paid(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    assert issue(ports, store, fine(amount_cents=9000)) == 1
    assert store.debts["fine-MUL-2026-1"].issued.amount_cents == 9000
    assert store.debts["fine-MUL-2026-1"].version == 2

    store.debts["fine-MUL-2026-1"] = replace(store.debts["fine-MUL-2026-1"], status="paid")
    with pytest.raises(service.DebtAlreadyPaidError, match="paid"):
        handlers.record_debt(fine(amount_cents=1), MULTAS, ports)
    assert issue(ports, store, fine(amount_cents=9000)) == 0  # the paid content again: a replay, not an error


def test_two_corrections_at_once_one_wins_the_other_is_decided_again(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    first = handlers.record_debt(fine(amount_cents=15000), MULTAS, ports)
    second = handlers.record_debt(fine(amount_cents=12000), MULTAS, ports)
    store.commit(first)
    with pytest.raises(LostRaceError):
        store.commit(second)
    retry_on_conflict(lambda: store.commit(handlers.record_debt(fine(amount_cents=12000), MULTAS, ports)))
    assert store.debts["fine-MUL-2026-1"].issued.amount_cents == 12000
    assert store.debts["fine-MUL-2026-1"].version == 3


def test_a_persons_debts_are_priced_for_the_instant_asked(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    issue(ports, store, fine())
    issue(ports, store, receipt())
    issue(ports, store, fine(fine_id="MUL-OTHER", citizen_id="c-other"))

    debts = handlers.citizen_debts(CITIZEN, ports)
    assert [d["id"] for d in debts] == ["receipt-IBI-2026-1", "fine-MUL-2026-1"]
    traffic = debts[1]["due"]
    assert traffic["payable"] and traffic["amount_due_cents"] == 10000 and traffic["until"] == "2026-03-22"
    assert "art. 94" in traffic["legal_source"] and "alegaciones" in traffic["notice"]["es"]
    assert traffic["then"]["amount_due_cents"] == 20000 and traffic["then"]["from"] == "2026-03-23"
    assert debts[0]["due"]["stage"] == "voluntary" and debts[0]["due"]["amount_due_cents"] == 45678

    clock.at = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)  # the receipt's voluntary period has ended
    later = {d["id"]: d["due"] for d in handlers.citizen_debts(CITIZEN, ports)}
    assert later["fine-MUL-2026-1"]["amount_due_cents"] == 20000
    assert later["receipt-IBI-2026-1"]["stage"] == "executive-ejecutivo"
    assert later["receipt-IBI-2026-1"]["amount_due_cents"] == 47962  # + 5 % (LGT art. 28.2)


def test_the_summary_counts_what_is_pending_and_due_today(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, fine())
    issue(ports, store, receipt())
    summary = service.summary(handlers.citizen_debts(CITIZEN, ports))
    assert summary == {"count": 2, "amount_due_cents": 10000 + 45678, "next_date": "2026-03-22", "view": "summary"}


def test_access_exports_every_debt_and_erasure_keeps_what_the_law_keeps(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    issue(ports, store, fine())
    issue(ports, store, receipt())
    old = receipt(receipt_id="IBI-2019-1", period="2019", voluntary_period={"start": "2019-03-01", "end": "2019-06-30"})
    issue(ports, store, old)

    access = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, T0), ports, None))
    ((_, answered),) = access
    assert answered["outcome"] == "done" and len(answered["export"]["debts"]) == 3

    erasure = handlers.answer_rights(rgpd_request("erasure", CITIZEN, T0), ports, None)
    ((_, answer),) = events_in(erasure)
    store.commit(erasure)
    assert set(store.debts) == {"fine-MUL-2026-1", "receipt-IBI-2026-1"}  # 2019's receipt is past its 4 years
    kept = [a for a in answer["actions"] if a["result"] == "kept" and a.get("category") in ("fines", "tax-receipts")]
    assert {a["category"] for a in kept} == {"fines", "tax-receipts"}
    assert any("Ley 58/2003" in a["legal_basis"] for a in kept)


def test_rectification_restriction_and_objection_are_not_applicable_here(ports: PaymentPorts) -> None:
    for right in ("rectification", "restriction", "objection"):
        request = rgpd_request(right, CITIZEN, T0 + timedelta(days=1))
        ((_, answered),) = events_in(handlers.answer_rights(request, ports, None))
        assert answered["outcome"] == "not-applicable"


def test_reads_within_a_minute_ask_the_policy_the_same_question(ports: PaymentPorts, store: FakePaymentStore) -> None:
    # GIVEN a debt WHEN it is priced twice in the same minute THEN the policy is asked the same question (its memo
    # answers the second); the next minute is another question
    issue(ports, store, fine())
    debt = store.debts["fine-MUL-2026-1"]
    first, again = (service.pricing_input(debt, T0.replace(second=s, microsecond=7)) for s in (1, 59))
    assert first == again and first["now"] == "2026-03-10T09:00:00+00:00"
    assert service.pricing_input(debt, T0 + timedelta(minutes=1)) != first
