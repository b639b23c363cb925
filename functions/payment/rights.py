"""Fines and taxes' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every fine and tax receipt held for the person, as the area systems
  issued them, with their state, every payment of them (what it charged, how, its outcome), and every direct
  debit with its SEPA mandates (the whole account number: it is the person's own);
- erasure (art. 17): each debt asked of ``policies/rgpd/retention``: a fine is kept while the sanction can be
  enforced (RDL 6/2015 art. 112: 4 years), a tax receipt while the debt can be demanded or a refund asked
  (Ley 58/2003 arts. 66–67: 4 years from the day after its voluntary period), a direct debit's mandates for 13
  months after they ended (an unauthorised debit may be disputed that long: RDL 19/2018 art. 43; one in force
  is kept while it is: cancelling it is one action); what has passed its period is erased;
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
from functions.core.links import RecordLinks
from functions.core.policy import Policy
from functions.payment import mandates, payments
from functions.payment.mandates import DirectDebit
from functions.payment.payments import Payment
from functions.payment.service import Debt, PaymentStore

DOMAIN = "payment"

ErasurePlan = rights.Erasure[Debt | DirectDebit | RecordLinks]
Answer = rights.Answer[ErasurePlan]


def category_of(debt: Debt) -> str:
    return "fines" if debt.kind == "fine" else "tax-receipts"


def due_from(debt: Debt) -> str:
    """The date the retention period runs from: a fine's notification, a receipt's voluntary period end."""
    if isinstance(debt.issued, FineIssued):
        return debt.issued.notified_at.isoformat()
    return f"{debt.issued.voluntary_period.end.isoformat()}T23:59:59+00:00"


def export_of(
    debts: list[Debt], made: list[Payment], debits: list[DirectDebit], records: list[RecordLinks] | None = None
) -> dict[str, Any]:
    """Every debt as the area system issued it, with its state; every payment as the API shows it; every direct
    debit with its mandates in full; the area systems' records of the person that debts were named by."""
    rows = [
        {"id": d.id, "kind": d.kind, "status": d.status, "issued": d.issued.model_dump(mode="json"), "source": d.source}
        for d in debts
    ]
    return rights.json_ready(
        {
            "debts": rows,
            "payments": [payments.view(p) for p in made],
            "direct_debits": [mandates.view(d, full=True) for d in debits],
            "records": [
                {"source": r.source, "local_id": r.local_id, "debts": sorted(r.members)} for r in records or []
            ],
        }
    )


def ended_on(debit: DirectDebit, now: datetime) -> str:
    """When the direct debit's last mandate ended (a mandate in force is kept as if it ended today: while it is
    in force it is needed, and then for the period)."""
    last = debit.mandates[-1] if debit.mandates else None
    day = last.ended_on if last and last.ended_on else now.date()
    return f"{day.isoformat()}T23:59:59+00:00"


KEPT_WHAT = {
    "fines": "fines and sanctions",
    "tax-receipts": "tax receipts",
    "direct-debits": "direct debits (SEPA mandates)",
}


def plan_erasure(
    debts: list[Debt],
    debits: list[DirectDebit],
    policy: Policy,
    now: datetime,
    records: list[RecordLinks] | None = None,
) -> ErasurePlan:
    """Erase what no law keeps any more; keep the rest by category and legal basis, and say why. A record's link
    goes with the last of its debts (it only serves to attach them to the person)."""
    plan = ErasurePlan()
    kept: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    facts: list[tuple[Debt | DirectDebit, str, dict[str, str]]] = [
        *((d, category_of(d), {"due_from": due_from(d)}) for d in debts),
        *((d, "direct-debits", {"ended_on": ended_on(d, now)}) for d in debits),
    ]
    for held, category, dates in facts:
        decision = rights.retention(policy, DOMAIN, category, now, dates)
        if decision["erase"] and not (isinstance(held, DirectDebit) and held.current):
            plan.erased.append(held)
        else:
            key = (category, rights.legal_basis(decision))
            kept[key] = (kept.get(key, (0, decision))[0] + 1, decision)
    gone = {held.id for held in plan.erased if isinstance(held, Debt)}
    plan.erased.extend(r for r in records or [] if r.members <= gone)
    if plan.erased:
        what = "fines, tax receipts and direct debits past their legal period"
        plan.actions.append(rights.erased(what, len(plan.erased)))
    for (category, _), (count, decision) in sorted(kept.items(), key=lambda entry: entry[0]):
        plan.actions.append(
            rights.kept(KEPT_WHAT[category], count, decision, until="{what}, kept at least until {until}")
        )
    return plan


def answer(data: RgpdRequestOpened, store: PaymentStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        person = data.citizen_id
        export = export_of(
            store.fetch_by_citizen(person),
            store.fetch_payments_by_citizen(person),
            store.fetch_debits_by_citizen(person),
            store.fetch_records_of(person),
        )
        counts = {
            "fines and tax receipts": len(export["debts"]),
            "payments": len(export["payments"]),
            "direct debits": len(export["direct_debits"]),
        }
        return Answer(answering.with_export(export, rights.exported(counts)))
    if data.right == "erasure":
        person = data.citizen_id
        held = store.fetch_by_citizen(person), store.fetch_debits_by_citizen(person)
        plan = plan_erasure(*held, policy, now, store.fetch_records_of(person))
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
