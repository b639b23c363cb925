"""Notification storage: one DynamoDB table (``pic-notification``), items by ``pk`` and ``sk``.

- ``template#<id>`` / ``current`` (the latest version, versioned) and ``v#<000001>`` (every version, kept);
- ``ntf#<id>`` / ``state``: a notification, its rendered message, status and history (versioned: every
  status change is a conditional write, so two deliveries can never both claim it), with ``recipient_key``
  (``cit#<citizen_id>``, or ``email#``/``phone#`` and the address's blind index) for the ``by-recipient``
  index through which an access or erasure request finds what was sent to the person;
- ``cit#<citizen_id>`` / ``profile``: the projection of CON and C360 events and RGPD flags (consents,
  preferences, restriction/objections, contact points with the blind index of every address the person had,
  push endpoint), each part stamped with its event time (latest wins), and after an erasure its marker;
  ``cit#<id>`` / ``sub#<topic>.<zone>``: subscriptions, with ``topic_zone`` for the ``by-topic-zone`` index
  that alert fan-out reads (absent once unsubscribed, so the index stays sparse);
- ``inbox#<citizen_id>`` / ``<created_at>#<notification id>``: in-app messages;
- ``bulk#<id>`` / ``job``, ``chunk#<n>``, ``count#<shard>``: a bulk job, its stored rows and its progress;
- ``alert#<id>`` / ``alert``: an alert as published;
- ``blk#<email#|phone#><blind index>`` / ``state``: the blocklist state of one address (``blocklist.py``).

Contact points (e-mail, phone) come from C360's ``citizen.updated`` events (this domain reads no other
domain's table): the projection is what a decision uses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.notification.service import (
    ERASED_STATUS,
    TERMINAL,
    Chunk,
    Doc,
    InboxMessage,
    Subscription,
    expiry,
)
from functions.notification.templates import Template, TemplateContent

NOTIFICATION_PK = "ntf#"

COUNTER_SHARDS = 16


class ByTopicZone(GlobalSecondaryIndex["NotificationItem"]):  # type: ignore[no-untyped-call]
    """Subscribers of a topic in a zone (alert fan-out); sparse: only live subscriptions carry the key."""

    class Meta:
        index_name = "by-topic-zone"
        projection = KeysOnlyProjection()

    topic_zone = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class ByRecipient(GlobalSecondaryIndex["NotificationItem"]):  # type: ignore[no-untyped-call]
    """The notifications sent to a citizen id or to an address (by its blind index); sparse: only notification
    items carry the key. What access and erasure requests read (eventually consistent, like any index)."""

    class Meta:
        index_name = "by-recipient"
        projection = KeysOnlyProjection()

    recipient_key = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


@defines_table
class NotificationItem(StoreModel):
    """Defines the table (keys, the by-topic-zone and by-recipient indexes, TTL) for every item kind below."""

    Meta = model_meta("notification")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    topic_zone = UnicodeAttribute(null=True)
    recipient_key = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    by_topic_zone = ByTopicZone()
    by_recipient = ByRecipient()


class TemplateItem(NotificationItem):
    template_id = UnicodeAttribute()
    template_version = NumberAttribute()
    content = UnicodeAttribute()  # JSON {purpose, subject, body}
    fields = UnicodeAttribute()  # JSON list
    readability = UnicodeAttribute()  # JSON
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    version = VersionAttribute()


class StateItem(NotificationItem):
    doc = UnicodeAttribute()  # JSON of the notification (see Notification below)
    status = UnicodeAttribute()
    version = VersionAttribute()


class ProfileItem(NotificationItem):
    parts = UnicodeAttribute()  # JSON: part -> {value, at}
    version = VersionAttribute()


class SubscriptionItem(NotificationItem):
    topic = UnicodeAttribute()
    zone = UnicodeAttribute()
    live = BooleanAttribute()
    changed_at = UTCDateTimeAttribute()


class InboxItem(NotificationItem):
    notification_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    body = UnicodeAttribute()
    language = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    read_at = UTCDateTimeAttribute(null=True)


class JobItem(NotificationItem):
    doc = UnicodeAttribute()  # JSON: template, total, chunks, malformed rows, created_at, requested_by
    version = VersionAttribute()


class ChunkItem(NotificationItem):
    rows = UnicodeAttribute()  # JSON list of {row, recipient, personalisation}
    outcome = UnicodeAttribute(null=True)  # JSON counts, once decided


class CounterItem(NotificationItem):
    delivered = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)


class AlertItem(NotificationItem):
    doc = UnicodeAttribute()


class BlockItem(NotificationItem):
    """``blk#<address blind index>`` / ``state``: the providers' feedback counted against one address."""

    state = UnicodeAttribute()  # JSON: {"seen": {rule: {notification id: at}}, "blocked", "blocked_at"}
    version = VersionAttribute()


# ---- the adapter ----------------------------------------------------------------------------------------

BATCH_GET = 100  # keys per BatchGetItem


def _template_of(item: TemplateItem) -> Template:
    raw = json.loads(item.content)
    return Template(
        id=item.template_id,
        version=int(item.template_version),
        content=TemplateContent(purpose=raw["purpose"], subject=raw["subject"], body=raw["body"]),
        fields=tuple(json.loads(item.fields)),
        readability=json.loads(item.readability),
    )


def _state_item(doc: Doc) -> StateItem:
    item = StateItem(f"{NOTIFICATION_PK}{doc['id']}", "state", doc=json.dumps(doc, default=str), status=doc["status"])
    item.recipient_key = doc.get("recipient_key")
    return item


def _subscription_of(citizen_id: str, item: SubscriptionItem) -> Subscription:
    return Subscription(citizen_id, item.sk.removeprefix("sub#"), item.topic, item.zone, bool(item.live),
                        item.changed_at)  # fmt: skip


def _message_of(citizen_id: str, item: InboxItem) -> InboxMessage:
    return InboxMessage(citizen_id, item.notification_id, item.subject, item.body, item.language, item.created_at,
                        item.read_at)  # fmt: skip


def _inbox_key(message: InboxMessage) -> tuple[str, str]:
    return f"inbox#{message.citizen_id}", f"{message.created_at.isoformat()}#{message.notification_id}"


def _inbox_item(message: InboxMessage) -> InboxItem:
    item = InboxItem(*_inbox_key(message), notification_id=message.notification_id, subject=message.subject,
                     body=message.body, language=message.language, created_at=message.created_at,
                     read_at=message.read_at)  # fmt: skip
    item.expires_at = expiry(message.created_at)
    return item


def _chunk_key(bulk_id: str, number: int) -> tuple[str, str]:
    return f"bulk#{bulk_id}", f"chunk#{number:06d}"


def _batches(keys: Sequence[Any]) -> list[Sequence[Any]]:
    return [keys[start : start + BATCH_GET] for start in range(0, len(keys), BATCH_GET)]


class DynamoNotificationStore:
    """``service.NotificationStore`` on the ``pic-notification`` table (one table per domain, ADR 0002)."""

    def commit_ahead(self, uow: UnitOfWork) -> None:
        uow.commit()

    # ---- templates ----------------------------------------------------------------------------------
    def fetch_template(self, template_id: str, version: int | None = None) -> tuple[Template, int] | None:
        sk = "current" if version is None else f"v#{version:06d}"
        try:
            item = TemplateItem.get(f"template#{template_id}", sk, consistent_read=True)
        except TemplateItem.DoesNotExist:
            return None
        return _template_of(item), int(item.version or 0)

    def fetch_template_and_profile(
        self, template_id: str, citizen_id: str | None
    ) -> tuple[tuple[Template, int] | None, dict[str, Any]]:
        """A notification's template and its recipient's profile in ONE consistent BatchGetItem (both items are
        in this table): one store call instead of two for every message to a citizen."""
        if citizen_id is None:
            return self.fetch_template(template_id), {}
        keys = [{"pk": f"template#{template_id}", "sk": "current"}, {"pk": f"cit#{citizen_id}", "sk": "profile"}]
        # pynamodb types ``keys`` as strings; it takes (and its own batch_get passes) one key map per item
        answer = TemplateItem._get_connection().batch_get_item(cast(Any, keys), consistent_read=True)
        if answer.get("UnprocessedKeys"):  # throttled: read them one by one rather than guess
            return self.fetch_template(template_id), self.fetch_profile(citizen_id)[0]
        template: tuple[Template, int] | None = None
        parts: dict[str, Any] = {}
        for raw in answer.get("Responses", {}).get(TemplateItem.Meta.table_name, []):
            if raw["sk"]["S"] == "current":
                item = TemplateItem.from_raw_data(raw)
                template = _template_of(item), int(item.version or 0)
            else:
                parts = json.loads(ProfileItem.from_raw_data(raw).parts)
        return template, parts

    def fetch_template_versions(self, template_id: str) -> list[Template]:
        items = TemplateItem.query(f"template#{template_id}", TemplateItem.sk.startswith("v#"), consistent_read=True)
        return [_template_of(i) for i in items]

    def stage_template(self, uow: UnitOfWork, template: Template, current: int | None, by: str, at: datetime) -> None:
        """The new version (must not exist) and the ``current`` pointer (conditioned on the version read)."""
        pk = f"template#{template.id}"
        content = json.dumps(
            {"purpose": template.purpose, "subject": template.content.subject, "body": template.content.body}
        )

        def item(sk: str) -> TemplateItem:
            return TemplateItem(pk, sk, template_id=template.id, template_version=template.version, content=content,
                                fields=json.dumps(list(template.fields)), readability=json.dumps(template.readability),
                                created_at=at, created_by=by)  # fmt: skip

        uow.put(item(f"v#{template.version:06d}"), condition=TemplateItem.sk.does_not_exist(), tag="template-version")
        pointer = item("current")
        if current is not None:
            pointer.version = current
        uow.put(pointer, tag="template")

    # ---- notifications ------------------------------------------------------------------------------
    def fetch_notification(self, notification_id: str) -> tuple[Doc, int] | None:
        try:
            item = StateItem.get(f"{NOTIFICATION_PK}{notification_id}", "state", consistent_read=True)
        except StateItem.DoesNotExist:
            return None
        return json.loads(item.doc), int(item.version)

    def fetch_existing(self, notification_ids: Sequence[str]) -> set[str]:
        """Which of these notifications exist already (a retried chunk or alert page skips them)."""
        found: set[str] = set()
        for batch in _batches([(f"{NOTIFICATION_PK}{i}", "state") for i in notification_ids]):
            found |= {
                item.pk.removeprefix(NOTIFICATION_PK) for item in StateItem.batch_get(batch, attributes_to_get=["pk"])
            }
        return found

    def fetch_sent_to(self, recipient_keys: Sequence[str]) -> list[tuple[Doc, int]]:
        """Every notification sent to these recipient keys, read consistently once the index has found them."""
        pks = sorted(
            {
                str(found.pk)
                for key in dict.fromkeys(recipient_keys)
                for found in NotificationItem.by_recipient.query(key, attributes_to_get=["pk"])
            }
        )
        docs: list[tuple[Doc, int]] = []
        for batch in _batches([(pk, "state") for pk in pks]):
            docs.extend((json.loads(i.doc), int(i.version)) for i in StateItem.batch_get(batch, consistent_read=True))
        return sorted(docs, key=lambda found: str(found[0].get("created_at")))

    def fetch_purposes(self, notification_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        keys = [(f"{NOTIFICATION_PK}{i}", "state") for i in dict.fromkeys(notification_ids)]
        for batch in _batches(keys):
            for item in StateItem.batch_get(batch, attributes_to_get=["pk", "doc"]):
                found[item.pk.removeprefix(NOTIFICATION_PK)] = str(json.loads(item.doc).get("purpose") or "")
        return found

    def stage_notification(self, uow: UnitOfWork, doc: Doc, at: datetime) -> None:
        """A new notification: the condition refuses a second one with the same id. One deferred by quiet hours
        gets its release marker in the same unit (``release.py``)."""
        from functions.notification.release import stage_marker  # release.py defines its items on this table

        item = _state_item(doc)
        item.expires_at = expiry(at)
        uow.put(item, condition=StateItem.pk.does_not_exist(), tag="notification")
        if doc["status"] == "accepted" and doc.get("deliver_after"):
            stage_marker(uow, doc["id"], datetime.fromisoformat(doc["deliver_after"]))

    def stage_status(self, uow: UnitOfWork, doc: Doc, version: int, expected_status: str) -> None:
        """A status change, only from the status (and version) read: the claim that makes delivery single."""
        item = _state_item(doc)
        item.version = version
        item.expires_at = doc.get("expires_at")
        condition: Condition = StateItem.status == expected_status
        uow.put(item, condition=condition, tag="notification-status")

    def stage_erase_notification(self, uow: UnitOfWork, doc: Doc, version: int, at: datetime) -> None:
        """A finished notification is deleted; one still in flight (waiting for quiet hours or a retry) becomes a
        tombstone without personal data, so that its pending delivery finds nothing to send (status ``erased``)
        instead of a missing notification it would retry."""
        if doc.get("status") in TERMINAL:
            finished = StateItem(f"{NOTIFICATION_PK}{doc['id']}", "state")
            finished.version = version  # pynamodb conditions the delete on the version read
            uow.delete(finished, tag="rgpd-erasure")
            return
        tombstone = {"id": doc["id"], "status": ERASED_STATUS, "updated_at": at.isoformat(), "history": [],
                     "expires_at": doc.get("expires_at")}  # fmt: skip
        item = _state_item(tombstone)
        item.version = version
        item.expires_at = doc.get("expires_at")
        uow.put(item, tag="rgpd-erasure")

    # ---- the citizen projection ---------------------------------------------------------------------
    def fetch_profile(self, citizen_id: str) -> tuple[dict[str, Any], int | None]:
        try:
            item = ProfileItem.get(f"cit#{citizen_id}", "profile", consistent_read=True)
        except ProfileItem.DoesNotExist:
            return {}, None
        return json.loads(item.parts), int(item.version)

    def fetch_profiles(self, citizen_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Many profiles, eventually consistent (a fan-out reads them by the hundred)."""
        found: dict[str, dict[str, Any]] = {}
        for batch in _batches([(f"cit#{c}", "profile") for c in dict.fromkeys(citizen_ids)]):
            found.update({i.pk.removeprefix("cit#"): json.loads(i.parts) for i in ProfileItem.batch_get(batch)})
        return found

    def stage_profile(self, uow: UnitOfWork, citizen_id: str, parts: dict[str, Any], version: int | None) -> None:
        item = ProfileItem(f"cit#{citizen_id}", "profile", parts=json.dumps(parts, default=str))
        if version is not None:
            item.version = version
        uow.put(item, tag="profile")

    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None:
        try:
            item = SubscriptionItem.get(f"cit#{citizen_id}", f"sub#{subscription_id}", consistent_read=True)
        except SubscriptionItem.DoesNotExist:
            return None
        return _subscription_of(citizen_id, item)

    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        found = SubscriptionItem.query(f"cit#{citizen_id}", SubscriptionItem.sk.startswith("sub#"),
                                       consistent_read=True)  # fmt: skip
        return [_subscription_of(citizen_id, item) for item in found]

    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        item = SubscriptionItem(f"cit#{sub.citizen_id}", f"sub#{sub.subscription_id}", topic=sub.topic, zone=sub.zone,
                                live=sub.live, changed_at=sub.changed_at)  # fmt: skip
        item.topic_zone = f"{sub.topic}#{sub.zone}" if sub.live else None
        uow.put(item, tag="subscription")

    def stage_delete_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        uow.delete(SubscriptionItem(f"cit#{sub.citizen_id}", f"sub#{sub.subscription_id}"), tag="rgpd-erasure")

    def fetch_subscribers(self, topic_zone: str, cursor: Any, limit: int) -> tuple[list[str], Any]:
        """One page of the citizens subscribed to ``topic#zone`` and where the next page starts."""
        result = NotificationItem.by_topic_zone.query(topic_zone, limit=limit, last_evaluated_key=cursor)
        ids = [item.pk.removeprefix("cit#") for item in result]
        return ids, result.last_evaluated_key

    # ---- the inbox ----------------------------------------------------------------------------------
    def fetch_inbox(self, citizen_id: str, limit: int) -> list[InboxMessage]:
        found = InboxItem.query(f"inbox#{citizen_id}", scan_index_forward=False, limit=limit, consistent_read=True)
        return [_message_of(citizen_id, item) for item in found]

    def stage_inbox_message(self, uow: UnitOfWork, message: InboxMessage) -> None:
        uow.put(_inbox_item(message), condition=InboxItem.sk.does_not_exist(), tag="inbox")

    def fetch_inbox_message(self, citizen_id: str, notification_id: str) -> InboxMessage | None:
        for item in InboxItem.query(f"inbox#{citizen_id}", consistent_read=True):
            if item.notification_id == notification_id:
                return _message_of(citizen_id, item)
        return None

    def stage_read(self, uow: UnitOfWork, message: InboxMessage, at: datetime) -> None:
        """Read at ``at``, unless read (or erased) meanwhile: the first time counts. The message is written whole,
        so that the unit is one conditional PutItem (not a transaction of one update: half the cost)."""
        item = _inbox_item(message)
        item.read_at = at
        condition = InboxItem.sk.exists() & InboxItem.read_at.does_not_exist()
        uow.put(item, condition=condition, tag="inbox-read")

    def stage_delete_message(self, uow: UnitOfWork, message: InboxMessage) -> None:
        uow.delete(InboxItem(*_inbox_key(message)), tag="rgpd-erasure")

    # ---- bulk jobs and alerts -----------------------------------------------------------------------
    def fetch_job(self, bulk_id: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(JobItem.get(f"bulk#{bulk_id}", "job", consistent_read=True).doc))
        except JobItem.DoesNotExist:
            return None

    def fetch_chunk(self, bulk_id: str, number: int) -> Chunk | None:
        try:
            item = ChunkItem.get(*_chunk_key(bulk_id, number), consistent_read=True)
        except ChunkItem.DoesNotExist:
            return None
        return Chunk(bulk_id, number, json.loads(item.rows), json.loads(item.outcome) if item.outcome else None)

    def fetch_progress(self, bulk_id: str) -> dict[str, int]:
        """Decided counts summed over the chunks, delivered/failed over the sharded counters."""
        totals: dict[str, int] = {"chunks_done": 0, "delivered": 0, "failed": 0}
        for chunk in ChunkItem.query(f"bulk#{bulk_id}", ChunkItem.sk.startswith("chunk#"), consistent_read=True):
            if chunk.outcome:
                totals["chunks_done"] += 1
                for name, n in json.loads(chunk.outcome).items():
                    totals[name] = totals.get(name, 0) + int(n)
        for counter in CounterItem.query(f"bulk#{bulk_id}", CounterItem.sk.startswith("count#"), consistent_read=True):
            totals["delivered"] += int(counter.delivered or 0)
            totals["failed"] += int(counter.failed or 0)
        return totals

    def stage_job(self, uow: UnitOfWork, bulk_id: str, doc: dict[str, Any], at: datetime) -> None:
        item = JobItem(f"bulk#{bulk_id}", "job", doc=json.dumps(doc, default=str))
        item.expires_at = expiry(at)
        uow.put(item, condition=JobItem.pk.does_not_exist(), tag="bulk-job")

    def stage_chunk(self, uow: UnitOfWork, chunk: Chunk, at: datetime) -> None:
        item = ChunkItem(*_chunk_key(chunk.bulk_id, chunk.number), rows=json.dumps(chunk.rows))
        item.expires_at = expiry(at)
        uow.put(item, tag="bulk-chunk")

    def stage_chunk_outcome(self, uow: UnitOfWork, chunk: Chunk, counts: dict[str, int]) -> None:
        """The chunk's counts, once: a second decision of the same chunk loses (``LostRaceError``)."""
        item = ChunkItem(*_chunk_key(chunk.bulk_id, chunk.number))
        uow.update(item, actions=[ChunkItem.outcome.set(json.dumps(counts))],
                   condition=ChunkItem.outcome.does_not_exist(), tag="bulk-chunk")  # fmt: skip

    def stage_count(self, uow: UnitOfWork, bulk_id: str, notification_id: str, outcome: str) -> None:
        shard = int(notification_id[-2:], 16) % COUNTER_SHARDS
        item = CounterItem(f"bulk#{bulk_id}", f"count#{shard:02d}")
        attribute = CounterItem.delivered if outcome == "delivered" else CounterItem.failed
        uow.update(item, actions=[attribute.add(1)], tag="bulk-count")

    def fetch_alert(self, alert_id: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(AlertItem.get(f"alert#{alert_id}", "alert", consistent_read=True).doc))
        except AlertItem.DoesNotExist:
            return None

    def stage_alert(self, uow: UnitOfWork, alert_id: str, doc: dict[str, Any], at: datetime) -> None:
        item = AlertItem(f"alert#{alert_id}", "alert", doc=json.dumps(doc, default=str))
        item.expires_at = expiry(at)
        uow.put(item, condition=AlertItem.pk.does_not_exist(), tag="alert")

    # ---- the blocklist ------------------------------------------------------------------------------
    def fetch_block(self, key: str) -> tuple[dict[str, Any], int | None]:
        try:
            item = BlockItem.get(f"blk#{key}", "state", consistent_read=True)
        except BlockItem.DoesNotExist:
            return {}, None
        return json.loads(item.state), int(item.version)

    def stage_block(self, uow: UnitOfWork, key: str, state: dict[str, Any], version: int | None) -> None:
        """The address's state, on the version read (a concurrent feedback loses and is counted again)."""
        item = BlockItem(f"blk#{key}", "state", state=json.dumps(state))
        if version is not None:
            item.version = version
        uow.put(item, tag="blocklist")
