"""The access log's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every entry of the person's access log — who read their data
  (id, role, level, area), why, what was shown, the decision and its reasons (art. 15.1.c: the recipients);
- erasure (art. 17): the access log is KEPT (``policies/rgpd/retention``, category ``access-log``): it is
  the evidence that every read was lawful (accountability, art. 5.2) for 3 years from each read, while the
  infringements it could prove prescribe (LOPDGDD arts. 72-74); only entries past that period are erased;
- rectification, restriction, objection: not applicable (a log of what happened is not rectified, and
  keeping it is the legal basis itself).
Plain functions over the store and the policy: the entry points are in ``main.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from events.audit import AccessRecorded
from events.rgpd import DomainAction, RgpdDomainAnswered, RgpdRequestOpened
from functions.core.policy import Policy
from functions.core.store import UnitOfWork

DOMAIN = "audit"
PRODUCER = "pic-audit"
RETENTION = "rgpd.retention"
CATEGORY = "access-log"
MAX_EXPORT_CHARS = 300_000
MAX_DELETES_IN_TRANSACTION = 90


class RightsStore(Protocol):
    def fetch_all(self, citizen_id: str) -> list[AccessRecorded]: ...
    def stage_erase(self, uow: UnitOfWork, record: AccessRecorded) -> None: ...
    def erase_now(self, record: AccessRecorded) -> None: ...


def export_of(records: list[AccessRecorded]) -> dict[str, Any]:
    """The person's access log, oldest first, as they read it at ``GET /v1/citizens/{id}/access-log``."""
    return {"access_log": [r.model_dump(mode="json", exclude={"citizen_id"}) for r in records]}


@dataclass
class ErasurePlan:
    erased: list[AccessRecorded] = field(default_factory=list)
    actions: list[DomainAction] = field(default_factory=list)


def retention(policy: Policy, record: AccessRecorded, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one entry: its period runs from the read (``at``)."""
    question = {"domain": DOMAIN, "category": CATEGORY, "record": {"at": record.at.isoformat()}, "now": now.isoformat()}
    return policy.decide(RETENTION, question).result


def plan_erasure(records: list[AccessRecorded], policy: Policy, now: datetime) -> ErasurePlan:
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
        plan.actions.append(
            DomainAction(what="access-log entries past their retention period", count=len(plan.erased), result="erased")
        )
    if kept:
        latest = max(kept, key=lambda d: str(d.get("keep_until") or "9999"))
        until = latest.get("keep_until")
        basis = latest.get("legal_basis") or "kept for review: " + "; ".join(latest.get("reasons", []))
        legal = f"{basis} ({latest['legal_source']})" if latest.get("legal_source") else basis
        what = "access-log entries (who read the person's data, why, what, the decision)"
        plan.actions.append(
            DomainAction(
                what=f"{what}, each kept 3 years from the read, the last until {until}" if until else what,
                count=len(kept),
                result="kept",
                legal_basis=legal[:500],
            )
        )
    return plan


def stage_erasure(uow: UnitOfWork, plan: ErasurePlan, store: RightsStore) -> None:
    """Stage the deletions in ``uow``; those beyond what one transaction holds are done at once, before it."""
    for i, record in enumerate(plan.erased):
        if i < MAX_DELETES_IN_TRANSACTION:
            store.stage_erase(uow, record)
        else:
            store.erase_now(record)


@dataclass(frozen=True)
class Answer:
    event: RgpdDomainAnswered
    erasure: ErasurePlan | None = None


def answer(data: RgpdRequestOpened, store: RightsStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    base = RgpdDomainAnswered(
        request_id=data.request_id, citizen_id=data.citizen_id, domain=DOMAIN, outcome="done", answered_at=now
    )
    if data.right in ("access", "portability"):
        export = export_of(store.fetch_all(data.citizen_id))
        size = len(json.dumps(export))
        if size > MAX_EXPORT_CHARS:
            reason = (
                f"the access-log export is {size} characters, more than one event carries ({MAX_EXPORT_CHARS}); "
                "it must be delivered by reference"
            )
            return Answer(_replace(base, outcome="failed", reason=reason))
        action = DomainAction(
            what="access-log entries (who read the person's data, why, what, the decision)",
            count=len(export["access_log"]),
            result="exported",
        )
        return Answer(_replace(base, actions=[action], export=export))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_all(data.citizen_id), policy, now)
        return Answer(_replace(base, outcome="done" if plan.actions else "not-applicable", actions=plan.actions), plan)
    return Answer(_replace(base, outcome="not-applicable"))


def _replace(base: RgpdDomainAnswered, **changes: Any) -> RgpdDomainAnswered:
    """A frozen event with some fields changed, validated again."""
    return RgpdDomainAnswered.model_validate({**base.model_dump(), **changes})
