"""Intake storage: one DynamoDB table ``intake`` (ADR 0002), keyed by ``id``.

- ``led#<system>#<kind>:<record key>``: the ledger, the hash of what was last sent for that record (``hash``) and
  the file that sent it. Read in batches of 100 keys (BatchGetItem), written in batches of 25 (BatchWriteItem):
  plain puts of facts already accepted by the broker, idempotent, so no unit of work or version is needed;
- ``file#<file id>``: a file's report (JSON), with ``kind`` = ``file`` and ``received_at`` for the index
  ``by-received`` (the reports newest first; sparse: only reports carry ``kind``).
"""

from __future__ import annotations

import json

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.store import StoreModel, defines_table, model_meta
from functions.intake.service import Report

FILE = "file"


class ByReceived(GlobalSecondaryIndex["IntakeItem"]):  # type: ignore[no-untyped-call]
    """The files' reports by when they were received."""

    class Meta:
        index_name = "by-received"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class IntakeItem(StoreModel):
    Meta = model_meta("intake")

    id = UnicodeAttribute(hash_key=True)
    hash = UnicodeAttribute(null=True)  # ledger
    file_id = UnicodeAttribute(null=True)  # ledger: the file that last sent the record
    body = UnicodeAttribute(null=True)  # report: JSON
    system = UnicodeAttribute(null=True)  # report
    kind = UnicodeAttribute(null=True)  # report: "file" (index by-received)
    received_at = UTCDateTimeAttribute(null=True)

    by_received = ByReceived()


def _ledger_id(system: str, key: str) -> str:
    return f"led#{system}#{key}"


class DynamoIntakeStore:
    """The intake's port (``service.IntakeStore``) on DynamoDB."""

    def fetch_hashes(self, system: str, keys: list[str]) -> dict[str, str]:
        prefix = _ledger_id(system, "")
        found: dict[str, str] = {}
        for start in range(0, len(keys), 100):
            ids = [_ledger_id(system, k) for k in keys[start : start + 100]]
            for item in IntakeItem.batch_get(ids, consistent_read=True):
                if item.hash:
                    found[item.id.removeprefix(prefix)] = item.hash
        return found

    def put_hashes(self, system: str, hashes: dict[str, str], file_id: str) -> None:
        with IntakeItem.batch_write() as batch:
            for key, digest in hashes.items():
                batch.save(IntakeItem(_ledger_id(system, key), hash=digest, file_id=file_id))

    def fetch_report(self, file_id: str) -> Report | None:
        try:
            item = IntakeItem.get(f"{FILE}#{file_id}", consistent_read=True)
        except IntakeItem.DoesNotExist:
            return None
        return Report.from_json(json.loads(item.body or "{}"))

    def put_report(self, report: Report) -> None:
        IntakeItem(
            f"{FILE}#{report.file_id}",
            body=json.dumps(report.as_json(), ensure_ascii=False),
            system=report.system,
            kind=FILE,
            received_at=report.received_at,
        ).save()

    def fetch_reports(self, system: str | None, limit: int) -> list[Report]:
        condition = IntakeItem.system == system if system else None
        query = IntakeItem.by_received.query(
            FILE, scan_index_forward=False, filter_condition=condition, limit=None if system else limit
        )
        found = []
        for item in query:
            found.append(Report.from_json(json.loads(item.body or "{}")))
            if len(found) >= limit:
                break
        return found
