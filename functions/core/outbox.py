"""The transactional outbox: the ONE way a PIC function emits a CloudEvent.

A function stages its event in the same unit of work as its state change (``stage_event``); the relay
(``functions.core.relay``) publishes pending rows to ``K_SINK`` in binary mode and marks them sent.

Pending rows are partitioned by producing domain (``consent#0``): each domain's relay publishes only its
own rows, as its own sender identity at the broker (docs/decisions/0011).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from events.base import EventData
from events.catalog import DOMAINS, spec_of
from functions.core.settings import get_settings
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta

OUTBOX_RETENTION = timedelta(days=7)


class PendingIndex(GlobalSecondaryIndex["OutboxRecord"]):
    """Sparse index of unsent rows, keyed ``<domain>#<n>``: each domain's relay reads only its own shards."""

    class Meta:
        index_name = "pending"
        projection = AllProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


@defines_table
class OutboxRecord(StoreModel):
    """One CloudEvent waiting to be (or already) published. Rows expire a week after creation (TTL)."""

    Meta = model_meta("outbox")

    id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    source = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    time = UnicodeAttribute()
    dataschema = UnicodeAttribute()
    traceparent = UnicodeAttribute(null=True)
    data = UnicodeAttribute()
    created_at = UnicodeAttribute()
    pending_shard = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    parked_at = UTCDateTimeAttribute(null=True)  # the sink can never take it (see Relay.publish); not pending
    expires_at = NumberAttribute()
    pending = PendingIndex()

    def attributes(self) -> dict[str, str]:
        """The CloudEvent context attributes of this row (spec 1.0, ``traceparent`` extension)."""
        attrs = {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time,
            "datacontenttype": "application/json",
            "dataschema": self.dataschema,
        }
        if self.subject:
            attrs["subject"] = self.subject
        if self.traceparent:
            attrs["traceparent"] = self.traceparent
        return attrs


def stage_event(
    uow: UnitOfWork,
    data: EventData,
    *,
    subject: str | None,
    traceparent: str | None,
    now: datetime | None = None,
    producer: str | None = None,
) -> OutboxRecord:
    """Add the CloudEvent for ``data`` to ``uow``: it is published if, and only if, the unit commits.

    ``producer`` names the emitting function for types that several domains emit (``rgpd.domain.answered``);
    by default it is the catalog's producer. The event ``source`` is ``/pic/<producer without pic->``.
    """
    spec = spec_of(type(data))
    settings = get_settings()
    producer = producer or spec.producer
    domain = producer.removeprefix("pic-")
    if domain not in DOMAINS:  # no relay would ever publish it
        raise ValueError(f"{producer!r} is not a PIC domain that publishes events ({', '.join(sorted(DOMAINS))})")
    now = now or datetime.now(UTC)
    event_id = str(uuid.uuid4())
    record = OutboxRecord(
        id=event_id,
        type=spec.type,
        source=f"{settings.event_source_base}/{domain}",
        subject=subject,
        time=now.isoformat().replace("+00:00", "Z"),
        dataschema=f"{settings.schema_base_url}{spec.type}.json",
        traceparent=traceparent,
        data=data.model_dump_json(),
        created_at=now.isoformat(),
        pending_shard=shard_key(domain, uuid.UUID(event_id).int % settings.outbox_shards),
        expires_at=int((now + OUTBOX_RETENTION).timestamp()),
    )
    uow.put(record, condition=OutboxRecord.id.does_not_exist(), tag="outbox")
    return record


def shard_key(domain: str, shard: int) -> str:
    """The ``pending`` index key of one of a domain's shards."""
    return f"{domain}#{shard}"


def pending_shards(domain: str) -> list[str]:
    """Every ``pending`` index key of ``domain`` (what its relay polls)."""
    return [shard_key(domain, n) for n in range(get_settings().outbox_shards)]


def event_payload(record: OutboxRecord) -> dict[str, Any]:
    """The row as a structured-mode CloudEvent dict (for logs and tests)."""
    return {**record.attributes(), "data": json.loads(record.data)}


def pending_events(limit: int = 1000) -> list[dict[str, Any]]:
    """The rows the relays have yet to publish (the sparse ``pending`` index, every domain's shards), oldest
    first per shard: what an operator, or a test waiting for the platform to settle, looks at."""
    from events.catalog import DOMAINS

    found: list[dict[str, Any]] = []
    for shard in (key for domain in sorted(DOMAINS) for key in pending_shards(domain)):
        if len(found) >= limit:
            break
        for record in OutboxRecord.pending.query(shard, limit=limit - len(found)):
            found.append({**event_payload(record), "pic_attempts": int(record.attempts or 0)})
    return found
