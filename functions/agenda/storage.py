"""The agenda's storage: one DynamoDB table ``agenda``, keyed by ``id``, with five item kinds.

- ``ev#<event id>``: a council event (JSON), the hash of its content (``content_hash``: unchanged, nothing is
  written) and ``withdrawn``; ``kind=event`` (index ``by-kind``: the desk's list of the agenda).
- ``cell#<H3 cell>``: the ids of the events whose place is in that cell (a string set, changed by ADD/DELETE): the
  "near me" key. A circle's cells are read in one BatchGetItem, their events in another.
- ``ingest#<file hash>``: an agenda file's report (written last: a file with a report is not read again).
- ``zones#<citizen>``: the person's zones (home barrio, chosen places, location consent, last shared), versioned.
- ``saved#<citizen>``: the ids of the events the person saved (a string set): the personal agenda.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.agenda.ingest import as_json, from_json
from functions.agenda.service import IngestReport, Stored, Zone, Zones
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta

BATCH_GET_LIMIT = 100


class ByKind(GlobalSecondaryIndex["AgendaItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)


@defines_table
class AgendaItem(StoreModel):
    Meta = model_meta("agenda")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)  # "event" on events: index by-kind
    body = UnicodeAttribute(null=True)  # JSON: an event, a report, a person's zones
    content_hash = UnicodeAttribute(null=True)
    withdrawn = BooleanAttribute(null=True)
    members = UnicodeSetAttribute(null=True)  # a cell's events, a person's saved events
    revision = NumberAttribute(null=True)

    by_kind = ByKind()


def _stored(item: AgendaItem) -> Stored:
    return Stored(from_json(json.loads(item.body or "{}")), str(item.content_hash), bool(item.withdrawn))


def _zone(data: dict[str, Any]) -> Zone:
    return Zone(data["kind"], data["label"], data["lat"], data["lon"], data["radius_m"], data.get("district"),
                data.get("barrio"))  # fmt: skip


def zones_json(zones: Zones) -> str:
    return json.dumps({"home_barrio": zones.home_barrio, "home_radius_m": zones.home_radius_m,
                       "chosen": [z.as_json() for z in zones.chosen], "location_consent": zones.location_consent,
                       "shared": [z.as_json() for z in zones.shared]}, ensure_ascii=False)  # fmt: skip


def _batch(keys: list[str]) -> list[AgendaItem]:
    found: list[AgendaItem] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        found.extend(AgendaItem.batch_get(keys[start : start + BATCH_GET_LIMIT]))
    return found


class DynamoAgendaStore:
    """The agenda's port (``service.AgendaStore``) on DynamoDB."""

    def fetch_event(self, event_id: str) -> Stored | None:
        try:
            return _stored(AgendaItem.get(f"ev#{event_id}", consistent_read=True))
        except AgendaItem.DoesNotExist:
            return None

    def fetch_events(self, event_ids: set[str]) -> list[Stored]:
        return sorted((_stored(i) for i in _batch(sorted(f"ev#{e}" for e in event_ids))), key=lambda s: s.event.id)

    def fetch_cells(self, cells: list[str]) -> set[str]:
        return {m for item in _batch([f"cell#{c}" for c in cells]) for m in (item.members or ())}

    def fetch_upcoming(self, limit: int) -> list[Stored]:
        return [_stored(i) for i in AgendaItem.by_kind.query("event", limit=limit)]

    def fetch_ingest(self, ingest_id: str) -> IngestReport | None:
        try:
            return IngestReport.from_json(json.loads(AgendaItem.get(f"ingest#{ingest_id}").body or "{}"))
        except AgendaItem.DoesNotExist:
            return None

    def fetch_zones(self, citizen_id: str) -> Zones:
        try:
            item = AgendaItem.get(f"zones#{citizen_id}", consistent_read=True)
        except AgendaItem.DoesNotExist:
            return Zones(citizen_id)
        data = json.loads(item.body or "{}")
        return Zones(citizen_id, data.get("home_barrio"), int(data.get("home_radius_m") or 1500),
                     tuple(_zone(z) for z in data.get("chosen", [])), bool(data.get("location_consent")),
                     tuple(_zone(z) for z in data.get("shared", [])), int(item.revision or 0))  # fmt: skip

    def fetch_saved(self, citizen_id: str) -> set[str]:
        try:
            return set(AgendaItem.get(f"saved#{citizen_id}", consistent_read=True).members or ())
        except AgendaItem.DoesNotExist:
            return set()

    def stage_event(self, uow: UnitOfWork, stored: Stored, previous: Stored | None) -> None:
        event = stored.event
        condition = (AgendaItem.id.does_not_exist() if previous is None
                     else AgendaItem.content_hash == previous.content_hash)  # fmt: skip
        item = AgendaItem(f"ev#{event.id}", kind="event", body=json.dumps(as_json(event), ensure_ascii=False),
                          content_hash=stored.content_hash, withdrawn=stored.withdrawn)  # fmt: skip
        uow.put(item, condition=condition, tag="agenda-event")
        old = previous.event.cell if previous and not previous.withdrawn else None
        new = event.cell if not stored.withdrawn else None
        if old and old != new:
            uow.update(AgendaItem(f"cell#{old}"), actions=[AgendaItem.members.delete({event.id})], tag="agenda-cell")
        if new and new != old:
            uow.update(AgendaItem(f"cell#{new}"), actions=[AgendaItem.members.add({event.id})], tag="agenda-cell")

    def stage_ingest(self, uow: UnitOfWork, report: IngestReport) -> None:
        body = json.dumps(report.as_json(), ensure_ascii=False)
        uow.put(AgendaItem(f"ingest#{report.ingest_id}", body=body), tag="agenda-ingest")

    def stage_zones(self, uow: UnitOfWork, zones: Zones) -> None:
        read = zones.revision - 1
        condition = AgendaItem.id.does_not_exist() if read == 0 else AgendaItem.revision == read
        item = AgendaItem(f"zones#{zones.citizen_id}", body=zones_json(zones), revision=zones.revision)
        uow.put(item, condition=condition, tag="agenda-zones")

    def stage_saved(self, uow: UnitOfWork, citizen_id: str, event_id: str, saved: bool) -> None:
        members = AgendaItem.members
        action = members.add({event_id}) if saved else members.delete({event_id})
        uow.update(AgendaItem(f"saved#{citizen_id}"), actions=[action], tag="agenda-saved")

    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None:
        uow.delete(AgendaItem(f"zones#{citizen_id}"), tag="agenda-erasure")
        uow.delete(AgendaItem(f"saved#{citizen_id}"), tag="agenda-erasure")
