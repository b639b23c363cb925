"""Recommendations storage: one DynamoDB table ``recommend`` (ADR 0002), keyed by ``id``, one item kind per prefix.

- ``profile#<citizen_id>``: the citizen's projected facts and feedback (JSON), under its version;
- ``event#<event_id>``: an agenda event (JSON) with its ``district``; index ``by-district`` (``district``,
  ``id``): the events of a person's zones, one Query per zone district.
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.recommend.service import AgendaEvent, Profile

NO_DISTRICT = "none"  # an event without a location: kept, never near anyone


class ByDistrict(GlobalSecondaryIndex["RecommendItem"]):  # type: ignore[no-untyped-call]
    """The agenda's events of one district; only event items carry ``district``."""

    class Meta:
        index_name = "by-district"
        projection = AllProjection()

    district = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@defines_table
class RecommendItem(StoreModel):
    Meta = model_meta("recommend")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)
    district = UnicodeAttribute(null=True)  # event items only: index by-district
    version = NumberAttribute(null=True)

    by_district = ByDistrict()


def _get(item_id: str) -> RecommendItem | None:
    try:
        return RecommendItem.get(item_id, consistent_read=True)
    except RecommendItem.DoesNotExist:
        return None


def _versioned(version: int | None) -> Condition:
    return RecommendItem.id.does_not_exist() if version is None else RecommendItem.version == version


def _event(item: RecommendItem) -> AgendaEvent:
    doc = json.loads(item.body or "{}")
    return AgendaEvent(
        doc["event_id"], doc["title"], doc["category"], doc.get("district"), doc.get("barrio"),
        tuple(datetime.fromisoformat(d) for d in doc.get("next_dates", [])), bool(doc.get("withdrawn")),
    )  # fmt: skip


class DynamoRecommendStore:
    """REC's port (``service.RecommendStore``) on DynamoDB."""

    def fetch_profile(self, citizen_id: str) -> Profile:
        item = _get(f"profile#{citizen_id}")
        if item is None:
            return Profile(citizen_id)
        return Profile.from_json(citizen_id, json.loads(item.body or "{}"), int(item.version))

    def fetch_events(self, districts: list[str]) -> list[AgendaEvent]:
        return [_event(item) for d in districts for item in RecommendItem.by_district.query(d)]

    def fetch_event(self, event_id: str) -> AgendaEvent | None:
        item = _get(f"event#{event_id}")
        return _event(item) if item is not None else None

    def stage_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        item = RecommendItem(f"profile#{profile.citizen_id}", body=json.dumps(profile.to_json()),
                             version=(profile.version or 0) + 1)  # fmt: skip
        uow.put(item, condition=_versioned(profile.version), tag="recommend-profile")

    def stage_event(self, uow: UnitOfWork, event: AgendaEvent, previous: AgendaEvent | None) -> None:
        """The event under its district (the last write wins: the agenda's loader sends one event's changes in
        order); a withdrawn one keeps its item, shown to no one."""
        doc = {
            "event_id": event.event_id, "title": event.title, "category": event.category, "district": event.district,
            "barrio": event.barrio, "next_dates": [d.isoformat() for d in event.next_dates],
            "withdrawn": event.withdrawn,
        }  # fmt: skip
        item = RecommendItem(f"event#{event.event_id}", body=json.dumps(doc), district=event.district or NO_DISTRICT)
        uow.put(item, tag="recommend-event")

    def stage_erase_profile(self, uow: UnitOfWork, citizen_id: str) -> None:
        uow.delete(RecommendItem(f"profile#{citizen_id}"), tag="recommend-profile-erasure")
