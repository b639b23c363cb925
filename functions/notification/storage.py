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
- ``alert#<id>`` / ``alert``: an alert as published.

Contact points (e-mail, phone) come from C360's ``citizen.updated`` events (this domain reads no other
domain's table): the projection is what a decision uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

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
from functions.notification.service import TERMINAL, CitizenView, usable_email, usable_phone
from functions.notification.templates import Template, TemplateContent

NOTIFICATION_PK = "ntf#"
ERASED_STATUS = "erased"  # a notification erased while in flight: nothing left to deliver

RETENTION = timedelta(days=400)  # a year of proof that a notice was sent, then TTL
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


def expiry(now: datetime) -> int:
    return int((now + RETENTION).timestamp())


# ---- templates -----------------------------------------------------------------------------------------


def template_of(item: TemplateItem) -> Template:
    raw = json.loads(item.content)
    return Template(
        id=item.template_id,
        version=int(item.template_version),
        content=TemplateContent(purpose=raw["purpose"], subject=raw["subject"], body=raw["body"]),
        fields=tuple(json.loads(item.fields)),
        readability=json.loads(item.readability),
    )


class TemplateStore:
    def fetch(self, template_id: str, version: int | None = None) -> tuple[Template, TemplateItem] | None:
        sk = "current" if version is None else f"v#{version:06d}"
        try:
            item = TemplateItem.get(f"template#{template_id}", sk, consistent_read=True)
        except TemplateItem.DoesNotExist:
            return None
        return template_of(item), item

    def versions(self, template_id: str) -> list[Template]:
        items = TemplateItem.query(f"template#{template_id}", TemplateItem.sk.startswith("v#"), consistent_read=True)
        return [template_of(i) for i in items]

    def stage(self, uow: UnitOfWork, template: Template, current: TemplateItem | None, by: str, now: datetime) -> None:
        """The new version (must not exist) and the ``current`` pointer (conditioned on the one read)."""
        pk = f"template#{template.id}"
        content = json.dumps(
            {"purpose": template.purpose, "subject": template.content.subject, "body": template.content.body}
        )

        def item(sk: str) -> TemplateItem:
            return TemplateItem(
                pk,
                sk,
                template_id=template.id,
                template_version=template.version,
                content=content,
                fields=json.dumps(list(template.fields)),
                readability=json.dumps(template.readability),
                created_at=now,
                created_by=by,
            )

        uow.put(item(f"v#{template.version:06d}"), condition=TemplateItem.sk.does_not_exist(), tag="template-version")
        pointer = item("current")
        if current is not None:
            pointer.version = current.version
        uow.put(pointer, tag="template")


# ---- notifications --------------------------------------------------------------------------------------


class NotificationStore:
    def fetch(self, notification_id: str) -> tuple[dict[str, Any], int] | None:
        try:
            item = StateItem.get(f"ntf#{notification_id}", "state", consistent_read=True)
        except StateItem.DoesNotExist:
            return None
        return json.loads(item.doc), int(item.version)

    def existing(self, ids: Iterable[str]) -> set[str]:
        """Which of these notifications exist already (a retried chunk or alert page skips them)."""
        keys = [(f"ntf#{i}", "state") for i in ids]
        return {item.pk.removeprefix("ntf#") for item in StateItem.batch_get(keys, attributes_to_get=["pk"])}

    def stage_new(self, uow: UnitOfWork, doc: dict[str, Any], now: datetime) -> None:
        """A new notification: the condition refuses a second one with the same id."""
        item = _state_item(doc)
        item.expires_at = expiry(now)
        uow.put(item, condition=StateItem.pk.does_not_exist(), tag="notification")

    def stage_update(self, uow: UnitOfWork, doc: dict[str, Any], version: int, expected_status: str) -> None:
        """A status change, only from the status (and version) read: the claim that makes delivery single."""
        item = _state_item(doc)
        item.version = version
        item.expires_at = doc.get("expires_at")
        condition: Condition = StateItem.status == expected_status
        uow.put(item, condition=condition, tag="notification-status")

    def fetch_sent_to(self, keys: Iterable[str]) -> list[tuple[dict[str, Any], int]]:
        """Every notification sent to these recipient keys (a citizen id, addresses' blind indexes), read
        consistently once the index has found them."""
        ids = sorted(
            {
                str(found.pk)
                for key in dict.fromkeys(keys)
                for found in NotificationItem.by_recipient.query(key, attributes_to_get=["pk"])
            }
        )
        docs: list[tuple[dict[str, Any], int]] = []
        for start in range(0, len(ids), 100):
            for item in StateItem.batch_get([(pk, "state") for pk in ids[start : start + 100]], consistent_read=True):
                docs.append((json.loads(item.doc), int(item.version)))
        return sorted(docs, key=lambda found: str(found[0].get("created_at")))

    def stage_erase(self, uow: UnitOfWork, doc: dict[str, Any], version: int, at: datetime) -> None:
        """Erase a notification: a finished one is deleted; one still in flight (waiting for quiet hours or a
        retry) becomes a tombstone without personal data, so that its pending delivery finds nothing to send
        (``status`` ``erased``) instead of a missing notification it would retry."""
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


# ---- the citizen projection --------------------------------------------------------------------------------


class ProfileStore:
    def fetch(self, citizen_id: str) -> tuple[dict[str, Any], int | None]:
        try:
            item = ProfileItem.get(f"cit#{citizen_id}", "profile", consistent_read=True)
        except ProfileItem.DoesNotExist:
            return {}, None
        return json.loads(item.parts), int(item.version)

    def fetch_many(self, citizen_ids: list[str]) -> dict[str, dict[str, Any]]:
        keys = [(f"cit#{c}", "profile") for c in citizen_ids]
        return {i.pk.removeprefix("cit#"): json.loads(i.parts) for i in ProfileItem.batch_get(keys)}

    def stage(self, uow: UnitOfWork, citizen_id: str, parts: dict[str, Any], version: int | None) -> None:
        item = ProfileItem(f"cit#{citizen_id}", "profile", parts=json.dumps(parts, default=str))
        if version is not None:
            item.version = version
        uow.put(item, tag="profile")

    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> SubscriptionItem | None:
        try:
            return SubscriptionItem.get(f"cit#{citizen_id}", f"sub#{subscription_id}", consistent_read=True)
        except SubscriptionItem.DoesNotExist:
            return None

    def fetch_subscriptions(self, citizen_id: str) -> list[SubscriptionItem]:
        found = SubscriptionItem.query(
            f"cit#{citizen_id}", SubscriptionItem.sk.startswith("sub#"), consistent_read=True
        )
        return [s for s in found if s.live]

    def stage_subscription(
        self, uow: UnitOfWork, citizen_id: str, subscription_id: str, topic: str, zone: str, live: bool, at: datetime
    ) -> None:
        item = SubscriptionItem(
            f"cit#{citizen_id}", f"sub#{subscription_id}", topic=topic, zone=zone, live=live, changed_at=at
        )
        item.topic_zone = f"{topic}#{zone}" if live else None
        uow.put(item, tag="subscription")

    def subscribers(self, topic_zone: str, cursor: dict[str, Any] | None, limit: int) -> tuple[list[str], Any]:
        """One page of the citizens subscribed to ``topic#zone`` and where the next page starts."""
        result = NotificationItem.by_topic_zone.query(topic_zone, limit=limit, last_evaluated_key=cursor)
        ids = [item.pk.removeprefix("cit#") for item in result]
        return ids, result.last_evaluated_key


def _state_item(doc: dict[str, Any]) -> StateItem:
    item = StateItem(f"{NOTIFICATION_PK}{doc['id']}", "state", doc=json.dumps(doc, default=str), status=doc["status"])
    item.recipient_key = doc.get("recipient_key")
    return item


def citizen_view(citizen_id: str, parts: dict[str, Any]) -> CitizenView:
    """What the policy and delivery need about a citizen: the projection, C360's contact points included."""
    value = {name: part.get("value") for name, part in parts.items()}
    prefs = value.get("preferences") or {}
    flags = value.get("flags") or {}
    contacts = value.get("contacts") or {}
    return CitizenView(
        citizen_id=citizen_id,
        known=bool(parts),
        consents=value.get("consents") or {},
        language=prefs.get("language", "es"),
        channels=tuple(prefs.get("channels") or ()),
        quiet_hours=prefs.get("quiet_hours"),
        restricted=bool(flags.get("restricted", False)),
        objections=tuple(flags.get("objections") or ()),
        email=usable_email(contacts.get("email")),
        phone=usable_phone(contacts.get("phone")),
        push_endpoint=value.get("push_endpoint"),
    )


# ---- inbox ----------------------------------------------------------------------------------------------


class InboxStore:
    def stage_message(
        self,
        uow: UnitOfWork,
        citizen_id: str,
        notification_id: str,
        subject: str,
        body: str,
        language: str,
        at: datetime,
    ) -> None:
        item = InboxItem(
            f"inbox#{citizen_id}",
            f"{at.isoformat()}#{notification_id}",
            notification_id=notification_id,
            subject=subject,
            body=body,
            language=language,
            created_at=at,
        )
        item.expires_at = expiry(at)
        uow.put(item, condition=InboxItem.sk.does_not_exist(), tag="inbox")

    def messages(self, citizen_id: str, limit: int = 50) -> list[InboxItem]:
        return list(InboxItem.query(f"inbox#{citizen_id}", scan_index_forward=False, limit=limit, consistent_read=True))

    def find(self, citizen_id: str, notification_id: str) -> InboxItem | None:
        for item in InboxItem.query(f"inbox#{citizen_id}", consistent_read=True):
            if item.notification_id == notification_id:
                return item
        return None

    def mark_read(self, item: InboxItem, at: datetime) -> None:
        item.update(actions=[InboxItem.read_at.set(at)], condition=InboxItem.read_at.does_not_exist())


# ---- bulk jobs and alerts -------------------------------------------------------------------------------------


class JobStore:
    def stage_job(self, uow: UnitOfWork, bulk_id: str, doc: dict[str, Any], now: datetime) -> None:
        item = JobItem(f"bulk#{bulk_id}", "job", doc=json.dumps(doc, default=str))
        item.expires_at = expiry(now)
        uow.put(item, condition=JobItem.pk.does_not_exist(), tag="bulk-job")

    def stage_chunk(self, uow: UnitOfWork, bulk_id: str, chunk: int, rows: list[dict[str, Any]], now: datetime) -> None:
        item = ChunkItem(f"bulk#{bulk_id}", f"chunk#{chunk:06d}", rows=json.dumps(rows))
        item.expires_at = expiry(now)
        uow.put(item, tag="bulk-chunk")

    def fetch_job(self, bulk_id: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(JobItem.get(f"bulk#{bulk_id}", "job", consistent_read=True).doc))
        except JobItem.DoesNotExist:
            return None

    def fetch_chunk(self, bulk_id: str, chunk: int) -> ChunkItem | None:
        try:
            return ChunkItem.get(f"bulk#{bulk_id}", f"chunk#{chunk:06d}", consistent_read=True)
        except ChunkItem.DoesNotExist:
            return None

    def stage_chunk_outcome(self, uow: UnitOfWork, item: ChunkItem, counts: dict[str, int]) -> None:
        uow.update(item, actions=[ChunkItem.outcome.set(json.dumps(counts))], tag="bulk-chunk")

    def progress(self, bulk_id: str) -> dict[str, int]:
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

    def stage_count(self, uow: UnitOfWork, bulk_id: str, notification_id: str, outcome: str) -> None:
        shard = int(notification_id[-2:], 16) % COUNTER_SHARDS
        item = CounterItem(f"bulk#{bulk_id}", f"count#{shard:02d}")
        attribute = CounterItem.delivered if outcome == "delivered" else CounterItem.failed
        uow.update(item, actions=[attribute.add(1)], tag="bulk-count")


class AlertStore:
    def stage_alert(self, uow: UnitOfWork, alert_id: str, doc: dict[str, Any], now: datetime) -> None:
        item = AlertItem(f"alert#{alert_id}", "alert", doc=json.dumps(doc, default=str))
        item.expires_at = expiry(now)
        uow.put(item, condition=AlertItem.pk.does_not_exist(), tag="alert")

    def fetch_alert(self, alert_id: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(AlertItem.get(f"alert#{alert_id}", "alert", consistent_read=True).doc))
        except AlertItem.DoesNotExist:
            return None


def now_utc() -> datetime:
    return datetime.now(UTC)
