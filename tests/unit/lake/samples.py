"""Events as their producers send them (the models' JSON), for the lake's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CID = "cit-5f1c2a9e"
DNI = "12345678Z"
CASE = "es.madrid.pic.case.updated.v1"
PAYMENT = "es.madrid.pic.payment.succeeded.v1"
TICKET = "es.madrid.pic.office.ticket.served.v1"


def case(version: int = 1, *, citizen_id: str = CID, area: str = "hacienda", at: datetime = NOW,
         case_id: str = "case-" + "0" * 23 + "1") -> dict[str, Any]:  # fmt: skip
    when = at.isoformat()
    return {
        "case_id": case_id, "reference": "EXP-2026-7F3A9C", "citizen_id": citizen_id, "area": area,
        "category": "ibi-recibo", "level": 1, "state": "open" if version == 1 else "resolved", "channel": "call",
        "subject": f"No me llega el recibo del IBI, DNI {DNI}", "opened_at": NOW.isoformat(), "updated_at": when,
        "version": version, "parent_id": None, "children": [], "related": ["case-" + "0" * 23 + "2"],
        "merged_into": None,
    }  # fmt: skip


def payment(at: datetime = NOW) -> dict[str, Any]:
    return {
        "payment_id": "pay-" + "9a" * 16, "citizen_id": CID, "method": "card", "amount_cents": 4500,
        "charges": [{"debt_id": "fine-MUL-2026-000123", "amount_cents": 4500, "stage": "voluntary",
                     "legal_source": "RDL 6/2015 art. 94"}], "order": "2612071000ab",
        "authorisation_code": "123456", "agent": None, "refund_due": [], "finished_at": at.isoformat(),
    }  # fmt: skip


def ticket(area: str = "padron") -> dict[str, Any]:
    return {
        "office": "oac-centro", "ticket": "A023", "issued_at": (NOW - timedelta(minutes=20)).isoformat(),
        "queue": "padron", "service": "alta-padron", "area": area, "at": NOW.isoformat(), "citizen_id": CID,
        "record": None, "desk": "3", "agent_id": "agent-77", "outcome": "resolved",
    }  # fmt: skip
