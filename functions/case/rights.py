"""The case domain's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every case of the person (index ``by-citizen``) as the citizen's own
  view shows it, with the transcript that opened it (an assistant's hand-over, a chat);
- erasure (art. 17): a case is an administrative file (expediente): its record, history and the transcript that
  opened it are kept with the file (category ``cases``: Ley 39/2015 arts. 17 and 70); the citizen's satisfaction
  rating and its comment (category ``case-ratings``) are part of no file and are erased;
- rectification, restriction, objection: not applicable here (a case holds no identity attribute: C360 rectifies
  the person; the restriction is honoured where cases are shown, the global position).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.case import service
from functions.case.service import Case, CaseStore
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork

DOMAIN = "case"

ErasurePlan = rights.Erasure[Case]
Answer = rights.Answer[ErasurePlan]


def export_of(cases: list[Case], now: datetime) -> dict[str, Any]:
    views = []
    for case in cases:
        body = service.view(case, None, now, for_citizen=True)
        body["transcript"] = [line.model_dump(mode="json") for line in case.transcript]
        views.append(json.loads(json.dumps(body, default=str)))
    return {"cases": views}


def without_rating(case: Case) -> Case:
    """The case with its rating and the rating's comment gone (the history keeps that it was rated, not what)."""
    history = tuple(replace(e, text="", detail={}) if e.kind == "rated" else e for e in case.history)
    return replace(case, rating=None, history=history, version=case.version + 1)


def plan_erasure(cases: list[Case], policy: Policy, now: datetime) -> ErasurePlan:
    plan = ErasurePlan()
    rated = [c for c in cases if c.rating is not None]
    if rated:
        decision = rights.retention(policy, DOMAIN, "case-ratings", now)
        if decision.get("erase"):
            plan.erased.extend(rated)
            plan.actions.append(rights.erased("satisfaction ratings of cases and their comments", len(rated),
                                              "case-ratings"))  # fmt: skip
    if cases:
        decision = rights.retention(policy, DOMAIN, "cases", now)
        plan.actions.append(rights.kept("cases (administrative files) with their history and transcripts",
                                        len(cases), decision))  # fmt: skip
    return plan


def answer(data: RgpdRequestOpened, store: CaseStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_by_citizen(data.citizen_id), now)
        what = "cases (state, history, messages, transcripts, ratings)"
        return Answer(answering.with_export(export, rights.exported({what: len(export["cases"])})))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, case: Case, store: CaseStore) -> None:
    """The rating goes; the file stays (written under the version read: a change meanwhile loses the race)."""
    store.stage_case(uow, without_rating(case), case.version, None)
