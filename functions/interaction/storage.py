"""Interaction log storage: one DynamoDB table ``interaction``, keyed by ``id``, with two item kinds.

- ``id=intx-<hash>`` (``InteractionItem``): one interaction, written once (condition: absent); its content
  never changes: the log is append-only. Its ``citizen_id`` is the golden record it is attached to — named
  when recorded, or stamped through C360's link of the record it was recorded against (the only update). No
  TTL here: how long interactions are kept is a retention rule (policies/rgpd), applied by the erasure path —
  the only delete.
- ``id=rec#<source>#<local_id>`` (``RecordItem``): an area system's record as projected from
  ``citizen.updated``: the golden record it is linked to (``linked_citizen_id``, ``linked_at``: the latest
  wins), PIC's ids of the interactions recorded against it (``members``: what a link stamps, read by key,
  never a scan) and a ``version`` every write is conditioned on.
Index ``by-citizen`` (``citizen_id``, ``recorded_at``): a golden record's interactions, for the RGPD export
and erasure and the citizen's timeline (newest first, a page per Query); sparse, only interactions attached
to a golden record carry it (record items use ``linked_citizen_id``, so they are not in it). Index
``by-linked-citizen`` (``linked_citizen_id``, keys only, sparse): the records linked to a golden record, which
the person's erasure deletes.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from events.interaction import InteractionRecorded
from functions.core.links import RecordLinks
from functions.core.paging import Position
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.interaction.service import Stored

INTERACTION_PREFIX = "intx-"
RECORD_PREFIX = "rec#"
BATCH_GET_LIMIT = 100


def record_id(source: str, local_id: str) -> str:
    return f"{RECORD_PREFIX}{source}#{local_id}"


class ByCitizen(GlobalSecondaryIndex["InteractionItem"]):  # type: ignore[no-untyped-call]
    """A golden record's interactions, oldest first; only interactions with a ``citizen_id`` carry it."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    recorded_at = UTCDateTimeAttribute(range_key=True)


class ByLinkedCitizen(GlobalSecondaryIndex["InteractionItem"]):  # type: ignore[no-untyped-call]
    """The records C360 links to a golden record (keys only): what an erasure deletes of this projection."""

    class Meta:
        index_name = "by-linked-citizen"
        projection = KeysOnlyProjection()

    linked_citizen_id = UnicodeAttribute(hash_key=True)


@defines_table
class InteractionItem(StoreModel):
    Meta = model_meta("interaction")

    id = UnicodeAttribute(hash_key=True)
    interaction = UnicodeAttribute()  # JSON of events.interaction.InteractionRecorded
    content_sha256 = UnicodeAttribute()
    recorded_by = UnicodeAttribute()
    recorded_at = UTCDateTimeAttribute()
    citizen_id = UnicodeAttribute(null=True)  # the golden record it is attached to, if known: index by-citizen
    linked_citizen_id = UnicodeAttribute(null=True)  # record items only (``RecordItem``): index by-linked-citizen

    by_citizen = ByCitizen()
    by_linked_citizen = ByLinkedCitizen()


class RecordItem(StoreModel):
    """An area system's record in the same table (``id=rec#<source>#<local_id>``): C360's link of it and the
    interactions recorded against it. The table is defined by ``InteractionItem``."""

    Meta = model_meta("interaction")

    id = UnicodeAttribute(hash_key=True)
    linked_citizen_id = UnicodeAttribute(null=True)
    linked_at = UTCDateTimeAttribute(null=True)
    members = UnicodeSetAttribute(null=True)
    version = NumberAttribute()


def _stored(item: InteractionItem) -> Stored:
    recorded_at: datetime = item.recorded_at
    return Stored(
        id=item.id,
        interaction=InteractionRecorded.model_validate_json(item.interaction),
        content_sha256=item.content_sha256,
        recorded_by=item.recorded_by,
        recorded_at=recorded_at,
        citizen_id=item.citizen_id,
    )


def _record_of_id(item_id: str, citizen_id: str) -> RecordLinks:
    """``rec#<source>#<local_id>``: neither part holds a ``#`` (``events.citizen.SOURCE_PATTERN``,
    ``events.citizen.LOCAL_ID_PATTERN``)."""
    _, source, local_id = item_id.split("#", 2)
    return RecordLinks(source, local_id, citizen_id=citizen_id)


class DynamoInteractionStore:
    """The interaction log's port (``service.InteractionStore``) on DynamoDB."""

    def fetch(self, interaction_id: str) -> Stored | None:
        if not interaction_id.startswith(INTERACTION_PREFIX):  # a record item is not an interaction
            return None
        try:
            item = InteractionItem.get(interaction_id, consistent_read=True)
        except InteractionItem.DoesNotExist:
            return None
        return _stored(item)

    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        """Every interaction attached to this golden record's ``citizen_id``, oldest first."""
        return [_stored(item) for item in InteractionItem.by_citizen.query(citizen_id)]

    def fetch_citizen_page(self, citizen_id: str, limit: int, after: Position | None) -> list[Stored]:
        """One Query of ``by-citizen``, newest first, starting after ``after`` (its keys as the index holds
        them: the index's and the table's)."""
        start = None
        if after is not None:
            recorded_at: str = InteractionItem.recorded_at.serialize(after.at)  # type: ignore[no-untyped-call]
            start = {"citizen_id": {"S": citizen_id}, "recorded_at": {"S": recorded_at}, "id": {"S": after.id}}
        found = InteractionItem.by_citizen.query(
            citizen_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
        )
        return [_stored(item) for item in found]

    def fetch_many(self, interaction_ids: frozenset[str]) -> list[Stored]:
        """Consistent BatchGetItem, 100 keys a call; erased interactions are simply absent."""
        ids = sorted(interaction_ids)
        found: list[Stored] = []
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            batch = ids[start : start + BATCH_GET_LIMIT]
            found.extend(_stored(item) for item in InteractionItem.batch_get(batch, consistent_read=True))
        return sorted(found, key=lambda s: (s.recorded_at, s.id))

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        try:
            item = RecordItem.get(record_id(source, local_id), consistent_read=True)
        except RecordItem.DoesNotExist:
            return RecordLinks(source, local_id)
        linked_at: datetime | None = item.linked_at
        return RecordLinks(
            source,
            local_id,
            citizen_id=item.linked_citizen_id,
            linked_at=linked_at,
            members=frozenset(item.members or ()),
            version=int(item.version),
        )

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        """The records linked to this golden record (one Query of ``by-linked-citizen``: their keys)."""
        found = InteractionItem.by_linked_citizen.query(citizen_id)
        return [_record_of_id(str(item.id), citizen_id) for item in found]

    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """The person's erasure: the record's link goes (an interaction recorded meanwhile loses its race)."""
        uow.delete(RecordItem(record_id(links.source, links.local_id)), tag="interaction-record-erasure")

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """The whole record item, one version up, if it is still at the version read (tag ``interaction-record``)."""
        condition: Condition = (
            RecordItem.id.does_not_exist() if links.version is None else RecordItem.version == links.version
        )
        item = RecordItem(
            record_id(links.source, links.local_id),
            linked_citizen_id=links.citizen_id,
            linked_at=links.linked_at,
            members=set(links.members) or None,
            version=(links.version or 0) + 1,
        )
        uow.put(item, condition=condition, tag="interaction-record")

    def stage_stamp(self, uow: UnitOfWork, stored: Stored, citizen_id: str) -> None:
        """Attach the interaction to its golden record (joins ``by-citizen``); fails the commit if it was erased."""
        uow.update(
            InteractionItem(stored.id),
            actions=[InteractionItem.citizen_id.set(citizen_id)],
            condition=InteractionItem.id.exists(),
            tag="interaction-stamp",
        )

    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None:
        """The only deletion of the log: an RGPD erasure of an interaction no law keeps."""
        uow.delete(InteractionItem(stored.id), tag="interaction-erasure")

    def stage(self, uow: UnitOfWork, stored: Stored) -> None:
        """Append only: a second write of the same id cancels the transaction (tag ``interaction``)."""
        item = InteractionItem(
            stored.id,
            interaction=stored.interaction.model_dump_json(),
            content_sha256=stored.content_sha256,
            recorded_by=stored.recorded_by,
            recorded_at=stored.recorded_at,
            citizen_id=stored.citizen_id,
        )
        uow.put(item, condition=InteractionItem.id.does_not_exist(), tag="interaction")
