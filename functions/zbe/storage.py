"""ZBE storage: one DynamoDB table ``zbe`` (ADR 0002), keyed by ``id``, one item kind per prefix.

- ``veh#<plate>``: Movilidad's record of a vehicle (label, holder, district, ``as_of``), under its version;
- ``app#<application id>``: an application and its decision (JSON), under its version; index ``by-citizen``
  (``citizen_id``, ``created_at``): the person's applications (their page, RGPD answers); index ``by-state``
  (``state``, ``state_at``): the desk's review queue (``pending-review``, oldest first) and the plate list
  (``granted``), each one Query, never a scan. A refused application carries no ``state`` key, so it is in
  neither list (a sparse index).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta
from functions.zbe.service import Application, Reason, Vehicle

LISTED_STATES = ("pending-review", "granted")


class ByCitizen(GlobalSecondaryIndex["ZbeItem"]):  # type: ignore[no-untyped-call]
    """A person's applications; only application items carry ``citizen_id``."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByState(GlobalSecondaryIndex["ZbeItem"]):  # type: ignore[no-untyped-call]
    """Applications awaiting review or granted (sparse: refused ones carry no ``state``)."""

    class Meta:
        index_name = "by-state"
        projection = AllProjection()

    state = UnicodeAttribute(hash_key=True)
    state_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class ZbeItem(StoreModel):
    Meta = model_meta("zbe")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON of the item's dataclass
    citizen_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    state_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(null=True)

    by_citizen = ByCitizen()
    by_state = ByState()


def _get(item_id: str) -> ZbeItem | None:
    try:
        return ZbeItem.get(item_id, consistent_read=True)
    except ZbeItem.DoesNotExist:
        return None


def _versioned(version: int | None) -> Condition:
    return ZbeItem.id.does_not_exist() if version is None else ZbeItem.version == version


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def app_doc(app: Application) -> dict[str, Any]:
    return {
        "id": app.id, "citizen_id": app.citizen_id, "plate": app.plate, "zone": app.zone, "category": app.category,
        "label": app.label, "note": app.note, "state": app.state,
        "reasons": [[r.code, r.es, r.en] for r in app.reasons], "source": app.source, "valid_days": app.valid_days,
        "created_at": app.created_at.isoformat(),
        "decided_at": app.decided_at.isoformat() if app.decided_at else None, "decided_by": app.decided_by,
        "purpose": app.purpose, "valid_from": app.valid_from.isoformat() if app.valid_from else None,
        "valid_until": app.valid_until.isoformat() if app.valid_until else None,
    }  # fmt: skip


def app_of(doc: dict[str, Any], version: int | None) -> Application:
    return Application(
        doc["id"], doc["citizen_id"], doc["plate"], doc["zone"], doc["category"], doc["label"], doc.get("note"),
        doc["state"], tuple(Reason(*r) for r in doc["reasons"]), doc.get("source", ""), int(doc["valid_days"]),
        datetime.fromisoformat(doc["created_at"]), from_iso(doc.get("decided_at")), doc.get("decided_by"),
        doc.get("purpose"), _d(doc.get("valid_from")), _d(doc.get("valid_until")), version,
    )  # fmt: skip


def _app(item: ZbeItem) -> Application:
    return app_of(json.loads(item.body or "{}"), int(item.version) if item.version is not None else None)


class DynamoZbeStore:
    """The domain's port (``service.ZbeStore``) on DynamoDB."""

    def fetch_vehicle(self, plate: str) -> Vehicle | None:
        item = _get(f"veh#{plate}")
        if item is None:
            return None
        doc = json.loads(item.body or "{}")
        return Vehicle(plate, doc["label"], doc["holder"], doc.get("district"), datetime.fromisoformat(doc["as_of"]),
                       int(item.version))  # fmt: skip

    def fetch_application(self, app_id: str) -> Application | None:
        item = _get(f"app#{app_id}")
        return _app(item) if item is not None else None

    def fetch_by_citizen(self, citizen_id: str) -> list[Application]:
        return [_app(i) for i in ZbeItem.by_citizen.query(citizen_id, scan_index_forward=False)]

    def fetch_pending(self, limit: int) -> list[Application]:
        return [_app(i) for i in ZbeItem.by_state.query("pending-review", limit=limit)]

    def fetch_granted(self) -> list[Application]:
        return [_app(i) for i in ZbeItem.by_state.query("granted")]

    def stage_vehicle(self, uow: UnitOfWork, vehicle: Vehicle) -> None:
        doc = {"label": vehicle.label, "holder": vehicle.holder, "district": vehicle.district,
               "as_of": vehicle.as_of.isoformat()}  # fmt: skip
        version = (vehicle.version or 0) + 1
        item = ZbeItem(f"veh#{vehicle.plate}", body=json.dumps(doc), version=version)
        uow.put(item, condition=_versioned(vehicle.version))

    def stage_application(self, uow: UnitOfWork, app: Application) -> None:
        listed = app.state in LISTED_STATES
        item = ZbeItem(
            f"app#{app.id}", body=json.dumps(app_doc(app)), citizen_id=app.citizen_id, created_at=app.created_at,
            state=app.state if listed else None, state_at=(app.decided_at or app.created_at) if listed else None,
            version=(app.version or 0) + 1,
        )  # fmt: skip
        uow.put(item, condition=_versioned(app.version))

    def stage_erase_application(self, uow: UnitOfWork, app: Application) -> None:
        uow.delete(ZbeItem(f"app#{app.id}"))
