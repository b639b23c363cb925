"""Surveys' storage: one DynamoDB table ``survey``, keyed by ``id``, with seven item kinds.

- ``survey#<id>``: the survey (definition JSON, state, versions), written whole under the ``revision`` read; every
  survey carries ``kind=survey`` (index ``by-kind``: the editors' list, one Query).
- ``registry``: the open surveys with triggers (a string set), under its ``revision``: what a cause event reads.
- ``resp#<survey>#<key>``: one response, written new (absent) or under its revision; ``responses_of`` = the survey
  (index ``by-survey``: the results, one Query a page); an identified one carries ``citizen_id`` (index
  ``by-citizen``: the person's RGPD access and erasure). An anonymous one carries neither the citizen nor a time.
- ``mark#<survey>#<hash>``: who answered an anonymous survey (``citizen_id`` and ``survey``; no time, no key of the
  answer): the respondents' set, apart from the answers.
- ``inv#<survey>#<key>``: an invitation made (absent: a cause redelivered or re-announced invites once).
- ``stats#<survey>``: ``invited``, an atomic counter (ADD) every invitation bumps.
- ``due#<survey>#<key>``: an invitation waiting for its trigger's delay; ``due_shard`` + ``due_at`` (index
  ``by-due``: the release pass reads the due ones in order).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso
from functions.survey.service import Pending, Registry, Response, Survey, SurveyInput

BATCH_GET_LIMIT = 100
REGISTRY = "registry"
DUE_SHARD = "due"


def _survey_key(survey_id: str) -> str:
    return f"survey#{survey_id}"


def _response_key(survey_id: str, key: str) -> str:
    return f"resp#{survey_id}#{key}"


class ByKind(GlobalSecondaryIndex["SurveyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)


class BySurvey(GlobalSecondaryIndex["SurveyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-survey"
        projection = AllProjection()

    responses_of = UnicodeAttribute(hash_key=True)


class ByCitizen(GlobalSecondaryIndex["SurveyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)


class ByDue(GlobalSecondaryIndex["SurveyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class SurveyItem(StoreModel):
    Meta = model_meta("survey")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)  # "survey" on survey items: index by-kind
    body = UnicodeAttribute(null=True)  # JSON: a survey, or a response's answers
    revision = NumberAttribute(null=True)
    members = UnicodeSetAttribute(null=True)  # the registry's surveys
    responses_of = UnicodeAttribute(null=True)  # a response's survey: index by-survey
    citizen_id = UnicodeAttribute(null=True)  # an identified response's or a marker's citizen: index by-citizen
    survey = UnicodeAttribute(null=True)  # a marker's or a pending invitation's survey
    invited = NumberAttribute(null=True)  # stats#: the survey's invitations
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    pending_citizen = UnicodeAttribute(null=True)  # a pending invitation's citizen (not in by-citizen)

    by_kind = ByKind()
    by_survey = BySurvey()
    by_citizen = ByCitizen()
    by_due = ByDue()


# ---- (de)serialising ---------------------------------------------------------------------------------------------


def survey_json(survey: Survey) -> str:
    return json.dumps({"definition": survey.definition.model_dump(mode="json"), "state": survey.state,
                       "version": survey.version, "created_by": survey.created_by,
                       "created_at": survey.created_at.isoformat(), "opened_at": to_iso(survey.opened_at),
                       "closed_at": to_iso(survey.closed_at)}, ensure_ascii=False)  # fmt: skip


def _survey(item: SurveyItem) -> Survey:
    data: dict[str, Any] = json.loads(item.body or "{}")
    created_at = from_iso(data["created_at"])
    assert created_at is not None
    return Survey(
        id=str(item.id).removeprefix("survey#"),
        definition=SurveyInput.model_validate(data["definition"]),
        state=data["state"],
        version=int(data["version"]),
        revision=int(item.revision or 0),
        created_by=data["created_by"],
        created_at=created_at,
        opened_at=from_iso(data.get("opened_at")),
        closed_at=from_iso(data.get("closed_at")),
    )


def _response(item: SurveyItem) -> Response:
    data: dict[str, Any] = json.loads(item.body or "{}")
    _, survey_id, key = str(item.id).split("#", 2)
    return Response(survey_id, key, data["answers"], int(item.revision or 0), citizen_id=item.citizen_id,
                    district=data.get("district"), channel=data.get("channel", "unknown"),
                    campaign_id=data.get("campaign_id"), answered_at=from_iso(data.get("answered_at")))  # fmt: skip


class DynamoSurveyStore:
    """Surveys' port (``service.SurveyStore``) on DynamoDB."""

    def fetch_survey(self, survey_id: str) -> Survey | None:
        try:
            return _survey(SurveyItem.get(_survey_key(survey_id), consistent_read=True))
        except SurveyItem.DoesNotExist:
            return None

    def fetch_surveys(self, survey_ids: frozenset[str]) -> list[Survey]:
        keys = sorted(_survey_key(s) for s in survey_ids)
        found: list[Survey] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            found.extend(_survey(i) for i in SurveyItem.batch_get(keys[start : start + BATCH_GET_LIMIT],
                                                                  consistent_read=True))  # fmt: skip
        return sorted(found, key=lambda s: s.id)

    def fetch_all(self) -> list[Survey]:
        return [_survey(item) for item in SurveyItem.by_kind.query("survey")]

    def fetch_response(self, survey_id: str, key: str) -> Response | None:
        try:
            return _response(SurveyItem.get(_response_key(survey_id, key), consistent_read=True))
        except SurveyItem.DoesNotExist:
            return None

    def fetch_responses(self, survey_id: str) -> list[Response]:
        return [_response(item) for item in SurveyItem.by_survey.query(survey_id)]

    def fetch_citizen_responses(self, citizen_id: str) -> list[Response]:
        return [_response(i) for i in SurveyItem.by_citizen.query(citizen_id) if str(i.id).startswith("resp#")]

    def fetch_respondent_markers(self, citizen_id: str) -> list[tuple[str, str]]:
        found = SurveyItem.by_citizen.query(citizen_id)
        return [(str(i.survey), str(i.id).split("#", 2)[2]) for i in found if str(i.id).startswith("mark#")]

    def fetch_invited(self, survey_id: str) -> int:
        try:
            return int(SurveyItem.get(f"stats#{survey_id}", consistent_read=True).invited or 0)
        except SurveyItem.DoesNotExist:
            return 0

    def fetch_invitation(self, survey_id: str, key: str) -> bool:
        try:
            SurveyItem.get(f"inv#{survey_id}#{key}", consistent_read=True)
        except SurveyItem.DoesNotExist:
            return False
        return True

    def fetch_registry(self) -> Registry:
        try:
            item = SurveyItem.get(REGISTRY, consistent_read=True)
        except SurveyItem.DoesNotExist:
            return Registry()
        return Registry(frozenset(item.members or ()), int(item.revision or 0))

    def fetch_due(self, now: datetime, limit: int) -> list[Pending]:
        keys = [str(i.id) for i in SurveyItem.by_due.query(DUE_SHARD, SurveyItem.due_at <= now, limit=limit)]
        found = SurveyItem.batch_get(keys, consistent_read=True) if keys else []
        return sorted(
            (Pending(str(i.survey), str(i.pending_citizen), str(i.id).split("#", 2)[2], i.due_at) for i in found),
            key=lambda p: p.due_at,
        )

    def _versioned(self, read_revision: int | None) -> Condition:
        return SurveyItem.id.does_not_exist() if read_revision is None else SurveyItem.revision == read_revision

    def stage_survey(self, uow: UnitOfWork, survey: Survey, read_revision: int | None) -> None:
        item = SurveyItem(_survey_key(survey.id), kind="survey", body=survey_json(survey), revision=survey.revision)
        uow.put(item, condition=self._versioned(read_revision), tag="survey")

    def stage_registry(self, uow: UnitOfWork, registry: Registry) -> None:
        item = SurveyItem(REGISTRY, members=set(registry.surveys) or None, revision=registry.revision + 1)
        uow.put(item, condition=self._versioned(registry.revision or None), tag="survey-registry")

    def stage_response(self, uow: UnitOfWork, response: Response) -> None:
        body = json.dumps({"answers": response.answers, "district": response.district, "channel": response.channel,
                           "campaign_id": response.campaign_id,
                           "answered_at": to_iso(response.answered_at)})  # fmt: skip
        item = SurveyItem(_response_key(response.survey_id, response.key), body=body, revision=response.revision,
                          responses_of=response.survey_id, citizen_id=response.citizen_id)  # fmt: skip
        read = response.revision - 1
        uow.put(item, condition=self._versioned(read or None), tag="survey-response")

    def stage_respondent(self, uow: UnitOfWork, survey_id: str, marker: str, citizen_id: str) -> None:
        uow.put(SurveyItem(f"mark#{survey_id}#{marker}", citizen_id=citizen_id, survey=survey_id),
                tag="survey-respondent")  # fmt: skip

    def stage_invitation(self, uow: UnitOfWork, survey_id: str, key: str | None, citizen_id: str, count: int) -> None:
        if key is not None:
            uow.put(SurveyItem(f"inv#{survey_id}#{key}"), condition=SurveyItem.id.does_not_exist(),
                    tag="survey-invitation")  # fmt: skip
        if count:
            uow.update(SurveyItem(f"stats#{survey_id}"), actions=[SurveyItem.invited.add(count)], tag="survey-stats")

    def stage_pending(self, uow: UnitOfWork, pending: Pending) -> None:
        item = SurveyItem(f"due#{pending.survey_id}#{pending.key}", survey=pending.survey_id, due_shard=DUE_SHARD,
                          due_at=pending.due_at, pending_citizen=pending.citizen_id)  # fmt: skip
        uow.put(item, condition=SurveyItem.id.does_not_exist(), tag="survey-pending")

    def stage_release(self, uow: UnitOfWork, pending: Pending) -> None:
        uow.delete(SurveyItem(f"due#{pending.survey_id}#{pending.key}"), condition=SurveyItem.id.exists(),
                   tag="survey-pending")  # fmt: skip

    def stage_erase_response(self, uow: UnitOfWork, response: Response) -> None:
        uow.delete(SurveyItem(_response_key(response.survey_id, response.key)), tag="survey-erasure")

    def stage_erase_respondent(self, uow: UnitOfWork, survey_id: str, marker: str) -> None:
        uow.delete(SurveyItem(f"mark#{survey_id}#{marker}"), tag="survey-erasure")
