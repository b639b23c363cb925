"""The interaction log's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every interaction recorded with the person's ``citizen_id``
  (index ``by-citizen``), as the API shows it: channel detail, area, topic, outcome, times, agent, case;
- erasure (art. 17): each interaction asked of ``policies/rgpd/retention``: one that concerns an
  administrative file (``case_id``, category ``case-interactions``) follows that file and is kept (Ley
  39/2015 arts. 17 and 70: the file's documents are kept in the Administration's archive); the others
  (category ``interactions``) are erased;
- rectification, restriction, objection: not applicable (the log holds no identity attribute; the
  restriction is honoured where interactions are shown, the global position; the log runs no campaign).
Interactions recorded against an area system's record (``record``: source + local_id) are not found by the
person's id here: the global position, which knows C360's links, exports and erases its copy of them.
Plain functions over the store and the policy: the entry points are in ``main.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from events.rgpd import DomainAction, RgpdDomainAnswered, RgpdRequestOpened
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.interaction import service
from functions.interaction.service import Stored

DOMAIN = "interaction"
PRODUCER = "pic-interaction"
RETENTION = "rgpd.retention"
MAX_EXPORT_CHARS = 300_000
# The answer's outbox row and the idempotency record share the transaction (at most 100 items).
MAX_DELETES_IN_TRANSACTION = 90


class RightsStore(Protocol):
    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]: ...
    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None: ...
    def erase_now(self, stored: Stored) -> None: ...


def category_of(stored: Stored) -> str:
    """The retention category: an interaction about an administrative file (expediente) follows the file."""
    return "case-interactions" if stored.interaction.case_id else "interactions"


# ---- access and portability -------------------------------------------------------------------------


def export_of(interactions: list[Stored]) -> dict[str, Any]:
    """Every interaction recorded with the person's id, as the API shows it (JSON-ready)."""
    return {"interactions": [json.loads(json.dumps(service.view(s), default=str)) for s in interactions]}


# ---- erasure ------------------------------------------------------------------------------------------


@dataclass
class ErasurePlan:
    erased: list[Stored] = field(default_factory=list)
    actions: list[DomainAction] = field(default_factory=list)


def retention(policy: Policy, category: str, stored: Stored, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one interaction."""
    record = {"recorded_at": stored.recorded_at.isoformat()}
    question = {"domain": DOMAIN, "category": category, "record": record, "now": now.isoformat()}
    return policy.decide(RETENTION, question).result


def plan_erasure(interactions: list[Stored], policy: Policy, now: datetime) -> ErasurePlan:
    """Erase what no law keeps; keep the rest, grouped by category and legal basis, and say why."""
    plan = ErasurePlan()
    kept: dict[tuple[str, str], int] = {}
    for stored in interactions:
        category = category_of(stored)
        decision = retention(policy, category, stored, now)
        if decision["erase"]:
            plan.erased.append(stored)
        else:
            key = (category, _basis(decision))
            kept[key] = kept.get(key, 0) + 1
    if plan.erased:
        plan.actions.append(
            DomainAction(
                what="interactions (office visits, calls, chats, messages, app sessions) no law keeps",
                count=len(plan.erased),
                result="erased",
                legal_basis=None,
            )
        )
    for (category, basis), count in sorted(kept.items()):
        what = (
            "interactions about an administrative file (case), kept with the file"
            if category == "case-interactions"
            else f"interactions of category {category}"
        )
        plan.actions.append(DomainAction(what=what, count=count, result="kept", legal_basis=basis))
    return plan


def _basis(decision: dict[str, Any]) -> str:
    basis = decision.get("legal_basis") or "kept for review: " + "; ".join(decision.get("reasons", []))
    legal = f"{basis} ({decision['legal_source']})" if decision.get("legal_source") else basis
    return str(legal)[:500]


def stage_erasure(uow: UnitOfWork, plan: ErasurePlan, store: RightsStore) -> None:
    """Stage the deletions in ``uow``; those beyond what one transaction holds are done at once, before it."""
    for i, stored in enumerate(plan.erased):
        if i < MAX_DELETES_IN_TRANSACTION:
            store.stage_erase(uow, stored)
        else:
            store.erase_now(stored)


# ---- the answer ---------------------------------------------------------------------------------------


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
        export = export_of(store.fetch_by_citizen(data.citizen_id))
        size = len(json.dumps(export))
        if size > MAX_EXPORT_CHARS:
            reason = (
                f"the interaction export is {size} characters, more than one event carries "
                f"({MAX_EXPORT_CHARS}); it must be delivered by reference"
            )
            return Answer(_replace(base, outcome="failed", reason=reason))
        action = DomainAction(
            what="interactions (channel, area, topic, outcome, times, agent, case)",
            count=len(export["interactions"]),
            result="exported",
            legal_basis=None,
        )
        return Answer(_replace(base, actions=[action], export=export))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now)
        return Answer(_replace(base, outcome="done" if plan.actions else "not-applicable", actions=plan.actions), plan)
    return Answer(_replace(base, outcome="not-applicable"))


def _replace(base: RgpdDomainAnswered, **changes: Any) -> RgpdDomainAnswered:
    """A frozen event with some fields changed, validated again."""
    return RgpdDomainAnswered.model_validate({**base.model_dump(), **changes})
