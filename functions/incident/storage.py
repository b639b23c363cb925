"""Incidents' storage: one DynamoDB table ``incident``, keyed by ``id``, with five item kinds.

- ``inc#<id>``: the report (JSON body), written whole under the ``revision`` read. While it is open it carries
  ``near`` = ``<service_code>#<cell>`` (index ``by-near``, sparse: a closed report leaves it), what a duplicate
  suggestion reads (at most four Queries); always ``month`` (``YYYY-MM`` of ``requested_at``) and ``requested_at``
  (index ``by-month``: Open311's date-range search, one Query per month of the span, newest first); a citizen's
  report carries ``citizen_id`` (index ``by-citizen``: the person's reports and their RGPD requests).
- ``fol#<id>#<citizen>``: a "me too" citizen (``citizen_id``, ``incident``; index ``by-citizen``).
- ``tok#<token>``: a batch service's token → the report's id (GeoReport v2 'GET service_request_id from a token').
- ``key#<sha256>``: a registered Open311 client (``name``); the api_key itself is never stored.
- ``photo#<id>#<n>``: a photo as published (re-encoded, at most 350 KB: one item).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso
from functions.incident.service import Incident, Photo, Place, StageChange, cell_of

BATCH_GET_LIMIT = 100


def _key(incident_id: str) -> str:
    return f"inc#{incident_id}"


class ByNear(GlobalSecondaryIndex["IncidentItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-near"
        projection = AllProjection()

    near = UnicodeAttribute(hash_key=True)


class ByMonth(GlobalSecondaryIndex["IncidentItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-month"
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)
    requested_at = UTCDateTimeAttribute(range_key=True)


class ByCitizen(GlobalSecondaryIndex["IncidentItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-citizen"
        projection = KeysOnlyProjection()

    citizen_id = UnicodeAttribute(hash_key=True)


@defines_table
class IncidentItem(StoreModel):
    Meta = model_meta("incident")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON: the report
    revision = NumberAttribute(null=True)
    near = UnicodeAttribute(null=True)  # an open report's <service_code>#<cell>: index by-near
    month = UnicodeAttribute(null=True)  # YYYY-MM of requested_at: index by-month
    requested_at = UTCDateTimeAttribute(null=True)
    citizen_id = UnicodeAttribute(null=True)  # the reporter, or a follower's marker: index by-citizen
    incident = UnicodeAttribute(null=True)  # a follower marker's or a token's report
    name = UnicodeAttribute(null=True)  # a registered client's name
    content_type = UnicodeAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)  # a photo
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    located = NumberAttribute(null=True)

    by_near = ByNear()
    by_month = ByMonth()
    by_citizen = ByCitizen()


# ---- (de)serialising ---------------------------------------------------------------------------------------------


def incident_json(i: Incident) -> str:
    return json.dumps({
        "service_code": i.service_code, "lat": i.lat, "lon": i.lon, "address": i.address, "description": i.description,
        "attributes": i.attributes, "place": i.place.__dict__ if i.place else None, "channel": i.channel,
        "citizen_id": i.citizen_id, "client": i.client, "contact": i.contact, "requested_at": to_iso(i.requested_at),
        "updated_at": to_iso(i.updated_at), "expected_at": to_iso(i.expected_at), "stage": i.stage,
        "status_notes": i.status_notes, "reiterations": i.reiterations, "followers": sorted(i.followers),
        "history": [{"stage": c.stage, "at": to_iso(c.at), "note": c.note, "by": c.by} for c in i.history],
        "photos": i.photos, "media_url": i.media_url, "token": i.token, "resolved_at": to_iso(i.resolved_at),
        "duplicate_of": i.duplicate_of, "version": i.version,
    }, ensure_ascii=False)  # fmt: skip


def _incident(item: IncidentItem) -> Incident:
    d: dict[str, Any] = json.loads(item.body or "{}")
    requested, updated = from_iso(d["requested_at"]), from_iso(d["updated_at"])
    assert requested is not None and updated is not None
    return Incident(
        id=str(item.id).removeprefix("inc#"), service_code=d["service_code"], lat=d["lat"], lon=d["lon"],
        address=d["address"], description=d["description"], attributes=d["attributes"],
        place=Place(**d["place"]) if d["place"] else None, channel=d["channel"], citizen_id=d["citizen_id"],
        client=d["client"], contact=d["contact"], requested_at=requested, updated_at=updated,
        expected_at=from_iso(d["expected_at"]), stage=d["stage"], status_notes=d["status_notes"],
        history=tuple(StageChange(c["stage"], from_iso(c["at"]), c["note"], c["by"]) for c in d["history"]),  # type: ignore[arg-type]
        reiterations=d["reiterations"], followers=frozenset(d["followers"]), photos=d["photos"],
        media_url=d["media_url"], token=d["token"], resolved_at=from_iso(d["resolved_at"]),
        duplicate_of=d["duplicate_of"],
        revision=int(item.revision or 0), version=d["version"],
    )  # fmt: skip


def _months(start: datetime, end: datetime) -> list[str]:
    """``YYYY-MM`` of every month from ``end`` back to ``start`` (newest first)."""
    found, year, month = [], end.year, end.month
    while (year, month) >= (start.year, start.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


class DynamoIncidentStore:
    """Incidents' port (``service.IncidentStore``) on DynamoDB."""

    def fetch_incident(self, incident_id: str) -> Incident | None:
        try:
            return _incident(IncidentItem.get(_key(incident_id), consistent_read=True))
        except IncidentItem.DoesNotExist:
            return None

    def fetch_incidents(self, incident_ids: list[str]) -> list[Incident]:
        keys = sorted({_key(i) for i in incident_ids})
        found: list[Incident] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            found.extend(_incident(i) for i in IncidentItem.batch_get(keys[start : start + BATCH_GET_LIMIT]))
        return sorted(found, key=lambda i: i.requested_at, reverse=True)

    def fetch_near(self, service_code: str, cells: list[str]) -> list[Incident]:
        return [_incident(item) for cell in cells for item in IncidentItem.by_near.query(f"{service_code}#{cell}")]

    def fetch_between(self, start: datetime, end: datetime, limit: int) -> list[Incident]:
        found: list[Incident] = []
        for month in _months(start, end):
            left = limit - len(found)
            if left <= 0:
                break
            query = IncidentItem.by_month.query(month, IncidentItem.requested_at.between(start, end),
                                                scan_index_forward=False, limit=left)  # fmt: skip
            found.extend(_incident(item) for item in query)
        return found

    def fetch_of_citizen(self, citizen_id: str) -> list[Incident]:
        ids = set()
        for item in IncidentItem.by_citizen.query(citizen_id):
            key = str(item.id)
            ids.add(key.removeprefix("inc#") if key.startswith("inc#") else key.split("#")[1])
        return self.fetch_incidents(sorted(ids)) if ids else []

    def fetch_token(self, token: str) -> str | None:
        try:
            return str(IncidentItem.get(f"tok#{token}", consistent_read=True).incident)
        except IncidentItem.DoesNotExist:
            return None

    def fetch_client(self, key_hash: str) -> str | None:
        try:
            return str(IncidentItem.get(f"key#{key_hash}").name)
        except IncidentItem.DoesNotExist:
            return None

    def fetch_photo(self, incident_id: str, n: int) -> Photo | None:
        try:
            item = IncidentItem.get(f"photo#{incident_id}#{n}")
        except IncidentItem.DoesNotExist:
            return None
        return Photo(str(item.content_type), bytes(item.data or b""), int(item.width or 0), int(item.height or 0),
                     bool(item.located))  # fmt: skip

    def stage_incident(self, uow: UnitOfWork, incident: Incident, read_revision: int | None) -> None:
        at = incident.requested_at.astimezone(UTC)
        item = IncidentItem(
            _key(incident.id), body=incident_json(incident), revision=incident.revision + 1,
            near=f"{incident.service_code}#{cell_of(incident.lat, incident.lon)}" if incident.is_open else None,
            month=f"{at.year:04d}-{at.month:02d}", requested_at=at, citizen_id=incident.citizen_id,
        )  # fmt: skip
        read = IncidentItem.id.does_not_exist() if read_revision is None else IncidentItem.revision == read_revision
        uow.put(item, condition=read, tag="incident")
        if read_revision is None and incident.token:
            uow.put(IncidentItem(f"tok#{incident.token}", incident=incident.id),
                    condition=IncidentItem.id.does_not_exist(), tag="incident-token")  # fmt: skip

    def stage_photo(self, uow: UnitOfWork, incident_id: str, n: int, photo: Photo) -> None:
        item = IncidentItem(f"photo#{incident_id}#{n}", content_type=photo.content_type, data=photo.data,
                            width=photo.width, height=photo.height, located=int(photo.located))  # fmt: skip
        uow.put(item, condition=IncidentItem.id.does_not_exist(), tag="incident-photo")

    def stage_client(self, uow: UnitOfWork, key_hash: str, name: str) -> None:
        uow.put(IncidentItem(f"key#{key_hash}", name=name), tag="incident-client")

    def stage_follower(self, uow: UnitOfWork, incident_id: str, citizen_id: str) -> None:
        uow.put(IncidentItem(f"fol#{incident_id}#{citizen_id}", citizen_id=citizen_id, incident=incident_id),
                condition=IncidentItem.id.does_not_exist(), tag="incident-follower")  # fmt: skip

    def stage_erase(self, uow: UnitOfWork, incident: Incident, citizen_id: str) -> None:
        reporter = incident.citizen_id == citizen_id
        anonymous = replace(
            incident, citizen_id=None if reporter else incident.citizen_id,
            contact={} if reporter else incident.contact,
            followers=incident.followers - {citizen_id},
        )  # fmt: skip
        self.stage_incident(uow, anonymous, incident.revision)
        if not reporter:
            uow.delete(IncidentItem(f"fol#{incident.id}#{citizen_id}"), tag="incident-erasure")
