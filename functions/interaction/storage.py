"""Interaction log storage: one DynamoDB table ``interaction``, one item per interaction, keyed by PIC's id.

Written once (condition: absent) and never changed: the log is append-only. No TTL here: how long
interactions are kept is a retention rule (policies/rgpd), applied by the erasure path — the only delete.
Index ``by-citizen`` (``citizen_id``, ``recorded_at``): a golden record's interactions, for the RGPD export
and erasure and the citizen's timeline (newest first, a page per Query); sparse, only interactions recorded
with a ``citizen_id`` carry it.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from events.interaction import InteractionRecorded
from functions.core.paging import Position
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.interaction.service import Stored


class ByCitizen(GlobalSecondaryIndex["InteractionItem"]):  # type: ignore[no-untyped-call]
    """A golden record's interactions, oldest first; only interactions with a ``citizen_id`` carry it."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    recorded_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class InteractionItem(StoreModel):
    Meta = model_meta("interaction")

    id = UnicodeAttribute(hash_key=True)
    interaction = UnicodeAttribute()  # JSON of events.interaction.InteractionRecorded
    content_sha256 = UnicodeAttribute()
    recorded_by = UnicodeAttribute()
    recorded_at = UTCDateTimeAttribute()
    citizen_id = UnicodeAttribute(null=True)  # the golden record it is about, if named: index by-citizen

    by_citizen = ByCitizen()


def _stored(item: InteractionItem) -> Stored:
    recorded_at: datetime = item.recorded_at
    return Stored(
        id=item.id,
        interaction=InteractionRecorded.model_validate_json(item.interaction),
        content_sha256=item.content_sha256,
        recorded_by=item.recorded_by,
        recorded_at=recorded_at,
    )


class DynamoInteractionStore:
    """The interaction log's port (``service.InteractionStore``) on DynamoDB."""

    def fetch(self, interaction_id: str) -> Stored | None:
        try:
            item = InteractionItem.get(interaction_id, consistent_read=True)
        except InteractionItem.DoesNotExist:
            return None
        return _stored(item)

    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        """Every interaction recorded with this golden record's ``citizen_id``, oldest first."""
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
            citizen_id=stored.interaction.citizen_id,
        )
        uow.put(item, condition=InteractionItem.id.does_not_exist(), tag="interaction")
