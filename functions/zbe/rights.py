"""ZBE's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the person's applications (index ``by-citizen``) as the API shows them:
  plate, zone, category, label, state, reasons, validity;
- erasure (art. 17): each application asked of ``policies/rgpd/retention`` (category ``zbe-applications``): an
  application is an administrative procedure of the council's (Ley 39/2015) and its decision is kept 4 years after
  it was decided (the limitation period of the infringement it may have to prove: entering a ZBE unauthorised);
  what retention lets go is erased;
- rectification, restriction, objection: not applicable here (the vehicle's facts are Movilidad's, rectified
  there and projected again; the plate list has no purpose but enforcement, RGPD art. 6.1.e).
Movilidad's vehicle records projected here are keyed by plate, not by person: they are not found by the person's
id (README, "What is left").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.zbe import service
from functions.zbe.service import Application, ZbeStore

DOMAIN = "zbe"
CATEGORY = "zbe-applications"

ErasurePlan = rights.Erasure[Application]
Answer = rights.Answer[ErasurePlan]


def export_of(apps: list[Application]) -> dict[str, Any]:
    return rights.json_ready({"applications": [service.view(a) for a in apps]})


def plan_erasure(apps: list[Application], policy: Policy, now: datetime) -> ErasurePlan:
    """Erase what retention lets go (each application from the day it was decided); keep the rest and say why."""
    plan = ErasurePlan()
    for app in apps:
        at = (app.decided_at or app.created_at).isoformat()
        decision = rights.retention(policy, DOMAIN, CATEGORY, now, {"decided_at": at})
        if decision["erase"]:
            plan.erased.append(app)
            plan.actions.append(rights.erased(f"ZBE application {app.id}", 1, CATEGORY))
        else:
            plan.actions.append(rights.kept(f"ZBE application {app.id}", 1, decision))
    return plan


def answer(data: RgpdRequestOpened, store: ZbeStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        apps = store.fetch_by_citizen(data.citizen_id)
        return Answer(answering.with_export(export_of(apps), rights.exported({"ZBE applications": len(apps)})))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
