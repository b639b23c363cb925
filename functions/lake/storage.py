"""The lake's staging area and erasure markers: one DynamoDB table ``lake`` (``pk`` + ``sk``).

- ``stage#<n>`` / ``<event key>``: a pseudonymised row waiting for the flusher (``table``, ``row`` as JSON,
  ``person``, ``event_time``). ``n`` is the event key's shard (``SHARDS``): the writes of a busy day spread over
  partitions; the flusher Queries each. Written with one PutItem, unconditionally: a redelivered event writes the
  same item again (idempotent), and the table's merge on the event key makes a re-staged row a no-op.
- ``erased#<pseudonym>`` / ``-``: the erasure marker (``erased_at``, ``request_id``): pseudonym only, no id.
- ``pending`` / ``<pseudonym>``: an erasure not yet applied to the tables (written with the marker, deleted by the
  flusher once the rows and their old files are gone).
- ``lease`` / ``writer``: which flusher or snapshot writes the tables now, until ``expires``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.lake.service import Marker, Row

SHARDS = 8
BATCH_GET_LIMIT = 100
PENDING = "pending"
LEASE = ("lease", "writer")
CONDITION_FAILED = "ConditionalCheckFailedException"


def shard_of(event_key: str) -> int:
    return int(event_key[:8], 16) % SHARDS


@defines_table
class LakeItem(StoreModel):
    Meta = model_meta("lake")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    table = UnicodeAttribute(null=True)
    row = UnicodeAttribute(null=True)  # JSON: the pseudonymised row
    person = UnicodeAttribute(null=True)  # a pseudonym
    event_time = UTCDateTimeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)  # staged at; a marker's erased_at; a lease's expiry
    request_id = UnicodeAttribute(null=True)
    holder = UnicodeAttribute(null=True)


def _row(item: LakeItem) -> Row:
    assert item.event_time is not None
    return Row(str(item.table), str(item.sk), item.person, item.event_time, json.loads(str(item.row)))


class DynamoLakeStore:
    """The lake's port (``service.LakeStore``) on DynamoDB."""

    def put_row(self, row: Row, now: datetime) -> None:
        LakeItem(f"stage#{shard_of(row.event_key)}", row.event_key, table=row.table, person=row.person,
                 event_time=row.event_time, at=now, row=json.dumps(row.values, ensure_ascii=False)).save()  # fmt: skip

    def fetch_staged(self, limit: int) -> list[Row]:
        rows: list[Row] = []
        for shard in range(SHARDS):
            if len(rows) >= limit:
                break
            rows += [_row(i) for i in LakeItem.query(f"stage#{shard}", limit=limit - len(rows), consistent_read=True)]
        return rows

    def delete_staged(self, rows: Iterable[Row]) -> None:
        with LakeItem.batch_write() as batch:
            for row in rows:
                batch.delete(LakeItem(f"stage#{shard_of(row.event_key)}", row.event_key))

    def fetch_markers(self, persons: Iterable[str]) -> dict[str, datetime]:
        keys = [(f"erased#{p}", "-") for p in sorted(set(persons))]
        found: dict[str, datetime] = {}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            for item in LakeItem.batch_get(keys[start : start + BATCH_GET_LIMIT], consistent_read=True):
                if item.at is not None:
                    found[str(item.pk).removeprefix("erased#")] = item.at
        return found

    def stage_marker(self, uow: UnitOfWork, marker: Marker) -> None:
        uow.put(LakeItem(f"erased#{marker.person}", "-", at=marker.erased_at, request_id=marker.request_id))
        uow.put(LakeItem(PENDING, marker.person, at=marker.erased_at, request_id=marker.request_id))

    def fetch_pending(self) -> list[Marker]:
        return [Marker(str(i.sk), i.at, str(i.request_id)) for i in LakeItem.query(PENDING, consistent_read=True)
                if i.at is not None]  # fmt: skip

    def clear_pending(self, markers: Iterable[Marker]) -> None:
        with LakeItem.batch_write() as batch:
            for marker in markers:
                batch.delete(LakeItem(PENDING, marker.person))

    def acquire(self, holder: str, now: datetime, seconds: float) -> bool:
        item = LakeItem(*LEASE, holder=holder, at=now + timedelta(seconds=seconds))
        try:
            item.save(condition=LakeItem.pk.does_not_exist() | (LakeItem.at < now) | (LakeItem.holder == holder))
        except PutError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    def release(self, holder: str) -> None:
        try:
            LakeItem(*LEASE).delete(condition=LakeItem.holder == holder)
        except DeleteError as exc:  # another holder took an expired lease meanwhile
            if exc.cause_response_code != CONDITION_FAILED:
                raise
