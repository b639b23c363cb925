"""The flags domain's answer to data-subject requests (RGPD arts. 15 to 21).

The only personal data here is a citizen's home arrangement (the micro-apps they pinned and hid):
- access and portability (arts. 15, 20): the arrangement as the API shows it;
- erasure (art. 17): erased (category ``home-apps`` of ``policies/rgpd/retention``: no law keeps it); the
  home then shows the catalogue's order;
- rectification, restriction, objection: not applicable (the citizen changes it themselves at any time).
The flags themselves name no citizen (who changed one is an administrator, kept in the audit trail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.flags.service import Arrangement, FlagStore

DOMAIN = "flags"
CATEGORY = "home-apps"

ErasurePlan = rights.Erasure[Arrangement]
Answer = rights.Answer[ErasurePlan]


def export_of(arrangement: Arrangement) -> dict[str, Any]:
    """The arrangement, JSON-ready (empty when the citizen never arranged their home)."""
    if not arrangement.version:
        return {"home_apps": []}
    at = arrangement.arranged_at.isoformat() if arrangement.arranged_at else None
    return {"home_apps": [{"pinned": list(arrangement.pinned), "hidden": list(arrangement.hidden), "arranged_at": at}]}


def plan_erasure(arrangement: Arrangement, policy: Policy, now: datetime) -> ErasurePlan:
    """Erase the arrangement unless ``policies/rgpd/retention`` keeps it (it keeps none today)."""
    plan = ErasurePlan()
    if not arrangement.version:
        return plan
    decision = rights.retention(policy, DOMAIN, CATEGORY, now, {})
    if decision["erase"]:
        plan.erased.append(arrangement)
        plan.actions.append(rights.erased("the micro-apps pinned and hidden on the home", 1, CATEGORY))
    else:
        plan.actions.append(rights.kept("the micro-apps pinned and hidden on the home", 1, decision))
    return plan


def answer(data: RgpdRequestOpened, store: FlagStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_arrangement(data.citizen_id))
        counts = rights.exported({"micro-apps pinned and hidden on the home": len(export["home_apps"])})
        return Answer(answering.with_export(export, counts))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_arrangement(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
