"""The debts' event contracts (PAY): what Multas and Tributos may send, and what is refused before any store."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from events.payment import FineIssued, TaxReceiptIssued

FINE: dict[str, Any] = {
    "fine_id": "MUL-2026-0004211",
    "citizen_id": "c-1",
    "plate": "1234KLM",
    "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en zona de carga y descarga"},
    "severity": "grave",
    "regime": "traffic",
    "amount_cents": 20000,
    "notified_at": "2026-03-01T23:30:00Z",
}
SANCTION: dict[str, Any] = {
    **FINE,
    "fine_id": "SAN-2026-77",
    "plate": None,
    "regime": "administrative",
    "early_payment": [{"ground": "recognition", "percent": 20}, {"ground": "voluntary-payment", "percent": 20}],
    "early_payment_until": "2026-03-31",
}
RECEIPT: dict[str, Any] = {
    "receipt_id": "IBI-2026-000912345",
    "citizen_id": "c-1",
    "tax": "IBI",
    "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
    "period": "2026",
    "amount_cents": 45678,
    "voluntary_period": {"start": "2026-04-01", "end": "2026-06-30"},
    "direct_debit": {"status": "active", "modality": "fraccionado-bonificado"},
}


def test_a_fine_a_sanction_and_a_receipt_round_trip_through_json() -> None:
    for model, data in ((FineIssued, FINE), (FineIssued, SANCTION), (TaxReceiptIssued, RECEIPT)):
        parsed = model.model_validate(data)
        assert model.model_validate_json(parsed.model_dump_json()) == parsed


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"amount_cents": 0}, "greater than 0"),
        ({"amount_cents": -100}, "greater than 0"),
        ({"amount_cents": 12.5}, "integer"),
        ({"notified_at": "2026-03-01T23:30:00"}, "timezone"),
        ({"severity": "gravísima"}, "leve"),
        ({"regime": "parking"}, "traffic"),
        ({"early_payment": [{"ground": "recognition", "percent": 20}]}, "the law's"),
        ({"fine_id": "../etc/passwd"}, "pattern"),
        ({"plate": "12 34"}, "pattern"),
        ({"surprise": True}, "Extra inputs"),
    ],
)
def test_a_fine_that_is_not_one_is_refused_saying_why(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=why):
        FineIssued.model_validate({**FINE, **changes})


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"early_payment": [{"ground": "recognition", "percent": 10}]}, "greater than or equal to 20"),
        ({"early_payment": [{"ground": "recognition", "percent": 20}] * 2}, "at most once"),
    ],
)
def test_a_sanctions_reductions_follow_the_law(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=why):
        FineIssued.model_validate({**SANCTION, **changes})


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"voluntary_period": {"start": "2026-06-30", "end": "2026-04-01"}}, "ends before it starts"),
        ({"tax": "tasa"}, "names its concept"),
        ({"direct_debit": {"status": "none", "modality": "pago-unico"}}, "only with status active"),
        ({"period": "last year"}, "pattern"),
        ({"tax": "IRPF"}, "IBI"),
    ],
)
def test_a_receipt_that_is_not_one_is_refused_saying_why(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=why):
        TaxReceiptIssued.model_validate({**RECEIPT, **changes})
