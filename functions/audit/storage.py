"""Access log storage: one DynamoDB table ``audit``; ``citizen_id`` + ``entry`` (``<at>#<access_id>``).

Append-only: each record is written once (condition: absent) and never updated; the log is read newest
first. No TTL: the access log is evidence of accountability (RGPD art. 5.2); its retention is decided by
policies/rgpd, not by expiry.
"""

from __future__ import annotations

import base64
import json

from pynamodb.attributes import UnicodeAttribute

from events.audit import AccessRecorded
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta


def entry_key(record: AccessRecorded) -> str:
    return f"{record.at.isoformat()}#{record.access_id}"


@defines_table
class AccessItem(StoreModel):
    Meta = model_meta("audit")

    citizen_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    record = UnicodeAttribute()  # JSON of events.audit.AccessRecorded


class DynamoAuditStore:
    def stage_append(self, uow: UnitOfWork, record: AccessRecorded) -> None:
        item = AccessItem(record.citizen_id, entry_key(record), record=record.model_dump_json())
        uow.put(item, condition=AccessItem.citizen_id.does_not_exist(), tag="audit-entry")

    def fetch_page(self, citizen_id: str, limit: int, cursor: str | None) -> tuple[list[AccessRecorded], str | None]:
        """Newest first, ``limit`` at a time; the cursor is opaque to callers (ValueError if forged)."""
        start = None
        if cursor:
            start = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            if not _cursor_of(start, citizen_id):
                raise ValueError("not a cursor of this log")
        result = AccessItem.query(citizen_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        records = [AccessRecorded.model_validate_json(item.record) for item in result]
        last = result.last_evaluated_key
        next_cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return records, next_cursor

    def fetch_all(self, citizen_id: str) -> list[AccessRecorded]:
        """A citizen's whole access log, oldest first (the RGPD export and the erasure's retention check)."""
        return [AccessRecorded.model_validate_json(item.record) for item in AccessItem.query(citizen_id)]

    def stage_erase(self, uow: UnitOfWork, record: AccessRecorded) -> None:
        """The only deletion of the log: an entry whose retention period has ended, on an RGPD erasure."""
        uow.delete(AccessItem(record.citizen_id, entry_key(record)), tag="audit-erasure")


def _cursor_of(start: object, citizen_id: str) -> bool:
    """A cursor this API gave for this log: exactly the table's two string keys, the first this citizen."""
    if not isinstance(start, dict) or set(start) != {"citizen_id", "entry"}:
        return False
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in start.values()):
        return False
    return bool(start["citizen_id"]["S"] == citizen_id)
