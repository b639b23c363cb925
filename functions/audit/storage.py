"""Reading the access log (the kernel's table ``audit``, ``functions.core.audit.AccessItem``): newest first,
a page at a time; the whole log for a data-subject request; the only deletion, of entries past their
retention, on an erasure. Every function appends to it through the HTTP kernel (ADR 0010).
"""

from __future__ import annotations

import base64
import json

from functions.core.audit import AccessItem, AccessRecord, entry_key
from functions.core.store import UnitOfWork


class DynamoAuditStore:
    """The access-log domain's port (``service.AccessLogStore``) on the kernel's table."""

    def fetch_page(self, citizen_id: str, limit: int, cursor: str | None) -> tuple[list[AccessRecord], str | None]:
        """Newest first, ``limit`` at a time; the cursor is opaque to callers (ValueError if forged)."""
        start = None
        if cursor:
            start = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            if not _cursor_of(start, citizen_id):
                raise ValueError("not a cursor of this log")
        result = AccessItem.query(citizen_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        records = [AccessRecord.model_validate_json(item.record) for item in result]
        last = result.last_evaluated_key
        next_cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return records, next_cursor

    def fetch_all(self, citizen_id: str) -> list[AccessRecord]:
        """A citizen's whole access log, oldest first (the RGPD export and the erasure's retention check)."""
        return [AccessRecord.model_validate_json(item.record) for item in AccessItem.query(citizen_id)]

    def stage_erase(self, uow: UnitOfWork, record: AccessRecord) -> None:
        """The only deletion of the log: an entry whose retention period has ended, on an RGPD erasure."""
        uow.delete(AccessItem(record.citizen_id, entry_key(record)), tag="audit-erasure")


def _cursor_of(start: object, citizen_id: str) -> bool:
    """A cursor this API gave for this log: exactly the table's two string keys, the first this citizen."""
    if not isinstance(start, dict) or set(start) != {"citizen_id", "entry"}:
        return False
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in start.values()):
        return False
    return bool(start["citizen_id"]["S"] == citizen_id)
