"""Fines and taxes' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every fine and tax receipt held for the person, as the area systems
  issued them, with their state, and every payment of them (what it charged, how, its outcome);
- erasure (art. 17): each debt asked of ``policies/rgpd/retention``: a fine is kept while the sanction can be
  enforced (RDL 6/2015 art. 112: 4 years), a tax receipt while the debt can be demanded or a refund asked
  (Ley 58/2003 arts. 66–67: 4 years from the day after its voluntary period); what has passed its period is
  erased;
- rectification, restriction, objection: not applicable here. The debts are processed to meet a legal
  obligation (RGPD art. 6.1.c; art. 21 does not apply to it) and their content is the area system's: a
  rectification is asked of the system that issued the debt, which sends the correction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.payment import FineIssued
from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.payment import payments
from functions.payment.payments import Payment
from functions.payment.service import Debt, PaymentStore

DOMAIN = "payment"

ErasurePlan = rights.Erasure[Debt]
Answer = rights.Answer[ErasurePlan]


def category_of(debt: Debt) -> str:
    return "fines" if debt.kind == "fine" else "tax-receipts"


def due_from(debt: Debt) -> str:
    """The date the retention period runs from: a fine's notification, a receipt's voluntary period end."""
    if isinstance(debt.issued, FineIssued):
        return debt.issued.notified_at.isoformat()
    return f"{debt.issued.voluntary_period.end.isoformat()}T23:59:59+00:00"


def export_of(debts: list[Debt], made: list[Payment]) -> dict[str, Any]:
    """Every debt as the area system issued it, with its state; every payment as the API shows it."""
    rows = [
        {"id": d.id, "kind": d.kind, "status": d.status, "issued": d.issued.model_dump(mode="json"), "source": d.source}
        for d in debts
    ]
    return rights.json_ready({"debts": rows, "payments": [payments.view(p) for p in made]})


def plan_erasure(debts: list[Debt], policy: Policy, now: datetime) -> ErasurePlan:
    """Erase what no law keeps any more; keep the rest by category and legal basis, and say why."""
    plan = ErasurePlan()
    kept: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for debt in debts:
        category = category_of(debt)
        decision = rights.retention(policy, DOMAIN, category, now, {"due_from": due_from(debt)})
        if decision["erase"]:
            plan.erased.append(debt)
        else:
            key = (category, rights.legal_basis(decision))
            kept[key] = (kept.get(key, (0, decision))[0] + 1, decision)
    if plan.erased:
        plan.actions.append(rights.erased("fines and tax receipts past their legal period", len(plan.erased)))
    for (category, _), (count, decision) in sorted(kept.items(), key=lambda entry: entry[0]):
        what = "fines and sanctions" if category == "fines" else "tax receipts"
        plan.actions.append(rights.kept(what, count, decision, until="{what}, kept at least until {until}"))
    return plan


def answer(data: RgpdRequestOpened, store: PaymentStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_by_citizen(data.citizen_id), store.fetch_payments_by_citizen(data.citizen_id))
        counts = {"fines and tax receipts": len(export["debts"]), "payments": len(export["payments"])}
        return Answer(answering.with_export(export, rights.exported(counts)))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
