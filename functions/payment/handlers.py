"""Fines and taxes use cases: one function per event or question, over the domain's ports.

A debt issued by an area system (``fine.issued``, ``tax.receipt.issued``) is read through the
``PaymentStore`` port, decided with ``service`` (new, a replay, a correction, or refused once paid) and staged
in one unit of work the entry point commits with the event's dedupe record; a lost race runs it again. A
person's debts are read and each one priced by ``policies/payment`` for the instant asked. Nothing here
knows HTTP, CloudEvents or DynamoDB; the unit tests run these on in-memory fakes
(``tests/unit/payment/test_handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core.clock import Clock
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.payment import rights, service
from functions.payment.service import Issued, PaymentStore


@dataclass(frozen=True)
class PaymentPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: PaymentStore
    policy: Policy
    clock: Clock


# ---- events -------------------------------------------------------------------------------------------


def record_debt(issued: Issued, source: str, ports: PaymentPorts) -> UnitOfWork:
    """A fine or a tax receipt an area system issued: stored once; the same again stages nothing; a correction
    replaces it while unpaid (``DebtAlreadyPaidError`` once paid)."""
    existing = ports.store.fetch(service.debt_id(issued))
    uow = UnitOfWork()
    debt = service.prepare(issued, source, existing, ports.clock.now())
    if debt is not None:
        ports.store.stage(uow, debt, existing)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: PaymentPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: plan.stage(uow, lambda u, debt: ports.store.stage_erase(u, debt)))


# ---- questions ----------------------------------------------------------------------------------------


def priced(debt: service.Debt, ports: PaymentPorts) -> dict[str, Any]:
    """One debt as the API shows it, with what is due at this instant (``policies/payment``)."""
    decision = ports.policy.decide(service.POLICY, service.pricing_input(debt, ports.clock.now()))
    return service.view(debt, service.due_view(decision.result))


def citizen_debts(citizen_id: str, ports: PaymentPorts) -> list[dict[str, Any]]:
    """Every fine and receipt of the person, newest first (a fine by its notification, a receipt by the end of
    its voluntary period), each priced for now."""
    debts = [priced(d, ports) for d in ports.store.fetch_by_citizen(citizen_id)]
    return sorted(debts, key=lambda d: d.get("notified_at") or d["voluntary_period"]["end"], reverse=True)
