"""Surveys' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the person's identified responses (index ``by-citizen``), each with its
  survey, answers, district, channel and time; the anonymous surveys they answered are listed by survey only (the
  respondents' marker: the answer itself is not theirs to find, it cannot be linked to them);
- erasure (art. 17): identified responses erased (category ``survey-responses``), and the respondents' markers
  (``survey-respondents``); an anonymous answer stays in the results: it holds nothing of the person and, the
  marker gone, nothing links it to them (recital 26: not personal data);
- rectification, restriction, objection: not applicable (the person edits an answer through its link until the
  survey closes; invitations are decided by NOT with the ``surveys`` consent and the objection flags).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.survey.service import Response, SurveyStore

DOMAIN = "survey"

Marker = tuple[str, str]  # (survey_id, marker key)
ErasurePlan = rights.Erasure[Response | Marker]
Answer = rights.Answer[ErasurePlan]


def export_of(responses: list[Response], markers: list[Marker]) -> dict[str, Any]:
    return rights.json_ready(
        {
            "responses": [
                {
                    "survey_id": r.survey_id,
                    "answers": r.answers,
                    "district": r.district,
                    "channel": r.channel,
                    "answered_at": r.answered_at,
                    "revision": r.revision,
                }
                for r in responses
            ],
            "anonymous_surveys_answered": sorted({s for s, _ in markers}),
        }
    )


def _decided(policy: Policy, category: str, now: datetime) -> dict[str, Any]:
    return rights.retention(policy, DOMAIN, category, now)


def plan_erasure(responses: list[Response], markers: list[Marker], policy: Policy, now: datetime) -> ErasurePlan:
    """Erase what no law keeps (both categories, as ``policies/rgpd/retention`` says); keep the rest and say why."""
    plan = ErasurePlan()
    for items, category, what in (
        (responses, "survey-responses", "identified survey responses"),
        (markers, "survey-respondents", "markers of anonymous surveys answered (the answers stay, anonymous)"),
    ):
        if not items:
            continue
        decision = _decided(policy, category, now)
        if decision["erase"]:
            plan.erased.extend(items)
            plan.actions.append(rights.erased(what, len(items), category))
        else:
            plan.actions.append(rights.kept(what, len(items), decision))
    return plan


def answer(data: RgpdRequestOpened, store: SurveyStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        responses = store.fetch_citizen_responses(data.citizen_id)
        markers = store.fetch_respondent_markers(data.citizen_id)
        export = export_of(responses, markers)
        counts = {"identified survey responses": len(responses), "anonymous surveys answered": len(markers)}
        return Answer(answering.with_export(export, rights.exported(counts)))
    if data.right == "erasure":
        responses = store.fetch_citizen_responses(data.citizen_id)
        markers = store.fetch_respondent_markers(data.citizen_id)
        plan = plan_erasure(responses, markers, policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, item: Response | Marker, store: SurveyStore) -> None:
    if isinstance(item, Response):
        store.stage_erase_response(uow, item)
    else:
        store.stage_erase_respondent(uow, item[0], item[1])
