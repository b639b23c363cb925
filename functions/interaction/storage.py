"""Interaction log storage: one DynamoDB table ``interaction``, one item per interaction, keyed by PIC's id.

Written once (condition: absent) and never changed: the log is append-only. No TTL here: how long
interactions are kept is a retention rule (policies/rgpd), applied by the erasure path.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from events.interaction import InteractionRecorded
from functions.core.store import UnitOfWork, defines_table, model_meta
from functions.interaction.service import Stored


@defines_table
class InteractionItem(Model):
    Meta = model_meta("interaction")

    id = UnicodeAttribute(hash_key=True)
    interaction = UnicodeAttribute()  # JSON of events.interaction.InteractionRecorded
    content_sha256 = UnicodeAttribute()
    recorded_by = UnicodeAttribute()
    recorded_at = UTCDateTimeAttribute()


class DynamoInteractionStore:
    def fetch(self, interaction_id: str) -> Stored | None:
        try:
            item = InteractionItem.get(interaction_id, consistent_read=True)
        except InteractionItem.DoesNotExist:
            return None
        recorded_at: datetime = item.recorded_at
        return Stored(
            id=item.id,
            interaction=InteractionRecorded.model_validate_json(item.interaction),
            content_sha256=item.content_sha256,
            recorded_by=item.recorded_by,
            recorded_at=recorded_at,
        )

    def stage(self, uow: UnitOfWork, stored: Stored) -> None:
        """Append only: a second write of the same id cancels the transaction (tag ``interaction``)."""
        item = InteractionItem(
            stored.id,
            interaction=stored.interaction.model_dump_json(),
            content_sha256=stored.content_sha256,
            recorded_by=stored.recorded_by,
            recorded_at=stored.recorded_at,
        )
        uow.put(item, condition=InteractionItem.id.does_not_exist(), tag="interaction")
