"""The access log's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every entry of the person's access log — who read their data
  (id, role, level, area), why, what was shown, the decision and its reasons (art. 15.1.c: the recipients);
- erasure (art. 17): the access log is KEPT (``policies/rgpd/retention``, category ``access-log``): it is
  the evidence that every read was lawful (accountability, art. 5.2) for 3 years from each read, while the
  infringements it could prove prescribe (LOPDGDD arts. 72-74); only entries past that period are erased;
- rectification, restriction, objection: not applicable (a log of what happened is not rectified, and
  keeping it is the legal basis itself).
What is held and kept is this domain's; the answer's envelope is ``functions.core.rights``. Plain functions
over the domain's port and the policy: the use case that runs them is in ``handlers.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.audit.service import AccessLogStore
from functions.core import rights
from functions.core.audit import AccessRecord
from functions.core.policy import Policy

DOMAIN = "audit"
CATEGORY = "access-log"
WHAT = "access-log entries (who read the person's data, why, what, the decision)"

ErasurePlan = rights.Erasure[AccessRecord]
Answer = rights.Answer[ErasurePlan]


def export_of(records: list[AccessRecord]) -> dict[str, Any]:
    """The person's access log, oldest first, as they read it at ``GET /v1/citizens/{id}/access-log``."""
    return {"access_log": [r.model_dump(mode="json", exclude={"citizen_id"}) for r in records]}


def retention(policy: Policy, record: AccessRecord, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one entry: its period runs from the read (``at``)."""
    return rights.retention(policy, DOMAIN, CATEGORY, now, {"at": record.at.isoformat()})


def plan_erasure(records: list[AccessRecord], policy: Policy, now: datetime) -> ErasurePlan:
    """Keep every entry still within its period (reporting the latest end and the legal basis); erase the
    entries whose period has ended."""
    plan = ErasurePlan()
    kept: list[dict[str, Any]] = []
    for record in records:
        decision = retention(policy, record, now)
        if decision["erase"]:
            plan.erased.append(record)
        else:
            kept.append(decision)
    if plan.erased:
        plan.actions.append(rights.erased("access-log entries past their retention period", len(plan.erased)))
    if kept:
        latest = max(kept, key=lambda d: str(d.get("keep_until") or "9999"))
        until = "{what}, each kept 3 years from the read, the last until {until}"
        plan.actions.append(rights.kept(WHAT, len(kept), latest, until=until))
    return plan


def answer(data: RgpdRequestOpened, store: AccessLogStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_all(data.citizen_id))
        actions = rights.exported({WHAT: len(export["access_log"])})
        return Answer(answering.with_export(export, actions, label="access-log"))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_all(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
