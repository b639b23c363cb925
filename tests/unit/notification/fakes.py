"""An in-memory ``NotificationStore`` (``functions.notification.service``) and channel providers: the
notification handlers' unit tests run on them. Writes go through ``tests/unit/fakes.py``'s ``Ledger``: applied
all or nothing when the test commits the unit, a stale version or a present key raising ``LostRaceError`` like
DynamoDB's conditions. ``calls`` counts the store calls per kind (reads, writes staged, units committed ahead):
what ``docs/benchmarks.md`` budgets per operation."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from functions.core.clock import Clock
from functions.core.policy import Policy, get_policy
from functions.core.store import UnitOfWork
from functions.core.terms import Terms, load_terms
from functions.notification.channels import Channel, DeliveryFailed, InAppInbox, Outbound, Provider
from functions.notification.handlers import NotificationPorts
from functions.notification.service import (
    ERASED_STATUS,
    TERMINAL,
    Chunk,
    Doc,
    InboxMessage,
    Subscription,
    TokenBucket,
)
from functions.notification.templates import Template
from tests.unit.fakes import Ledger


@dataclass
class FakeNotificationStore:
    ledger: Ledger = field(default_factory=Ledger)
    templates: dict[tuple[str, int], Template] = field(default_factory=dict)
    notifications: dict[str, Doc] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    inbox: dict[tuple[str, str], InboxMessage] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunks: dict[tuple[str, int], Chunk] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: dict[str, str] = field(default_factory=dict)  # release markers: notification id -> deliver_after
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # address key -> blocklist state
    calls: Counter[str] = field(default_factory=Counter)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def commit_ahead(self, uow: UnitOfWork) -> None:
        self.calls["commit"] += 1
        self.ledger.commit(uow)

    def _read(self, what: str) -> None:
        self.calls[f"read:{what}"] += 1

    def _stage(self, uow: UnitOfWork, key: str, expected: int | None, apply: Any, *, any_version: bool = False) -> None:
        self.calls[f"write:{key.split('#')[0]}"] += 1
        self.ledger.stage(uow, key, expected, apply, any_version=any_version)

    # ---- templates ----------------------------------------------------------------------------------
    def fetch_template(self, template_id: str, version: int | None = None) -> tuple[Template, int] | None:
        self._read("template")
        return self._template(template_id, version)

    def fetch_template_and_profile(
        self, template_id: str, citizen_id: str | None
    ) -> tuple[tuple[Template, int] | None, dict[str, Any]]:
        self._read("template+profile")  # one BatchGetItem of both, as the adapter does
        return self._template(template_id, None), copy.deepcopy(self.profiles.get(citizen_id or "", {}))

    def _template(self, template_id: str, version: int | None) -> tuple[Template, int] | None:
        mine = {v: t for (i, v), t in self.templates.items() if i == template_id}
        number = max(mine, default=0) if version is None else version
        if number not in mine:
            return None
        return mine[number], self.ledger.version(f"template#{template_id}") or 0

    def fetch_template_versions(self, template_id: str) -> list[Template]:
        self._read("template-versions")
        return [t for (i, _), t in sorted(self.templates.items()) if i == template_id]

    def stage_template(self, uow: UnitOfWork, template: Template, current: int | None, by: str, at: datetime) -> None:
        apply = lambda: self.templates.__setitem__((template.id, template.version), template)  # noqa: E731
        self._stage(uow, f"template#{template.id}", current or None, apply)

    # ---- notifications ------------------------------------------------------------------------------
    def fetch_notification(self, notification_id: str) -> tuple[Doc, int] | None:
        self._read("notification")
        doc = self.notifications.get(notification_id)
        return (copy.deepcopy(doc), self.ledger.version(f"ntf#{notification_id}") or 0) if doc else None

    def fetch_existing(self, notification_ids: Sequence[str]) -> set[str]:
        self._read("existing")
        return {i for i in notification_ids if i in self.notifications}

    def fetch_sent_to(self, recipient_keys: Sequence[str]) -> list[tuple[Doc, int]]:
        self._read("sent-to")
        found = [d for d in self.notifications.values() if d.get("recipient_key") in recipient_keys]
        return [(copy.deepcopy(d), self.ledger.version(f"ntf#{d['id']}") or 0) for d in found]

    def fetch_purposes(self, notification_ids: Sequence[str]) -> dict[str, str]:
        self._read("purposes")
        return {i: str(self.notifications[i].get("purpose") or "") for i in notification_ids if i in self.notifications}

    def stage_notification(self, uow: UnitOfWork, doc: Doc, at: datetime) -> None:
        def apply() -> None:
            self.notifications[doc["id"]] = copy.deepcopy(doc)
            if doc["status"] == "accepted" and doc.get("deliver_after"):
                self.due[doc["id"]] = doc["deliver_after"]

        self._stage(uow, f"ntf#{doc['id']}", None, apply)

    def stage_status(self, uow: UnitOfWork, doc: Doc, version: int, expected_status: str) -> None:
        self._stage(uow, f"ntf#{doc['id']}", version, lambda: self.notifications.__setitem__(doc["id"], doc))

    def stage_erase_notification(self, uow: UnitOfWork, doc: Doc, version: int, at: datetime) -> None:
        if doc.get("status") in TERMINAL:
            apply: Any = lambda: self.notifications.pop(doc["id"])  # noqa: E731
        else:
            tombstone = {"id": doc["id"], "status": ERASED_STATUS, "updated_at": at.isoformat(), "history": []}
            apply = lambda: self.notifications.__setitem__(doc["id"], tombstone)  # noqa: E731
        self._stage(uow, f"ntf#{doc['id']}", version, apply)

    # ---- the citizen projection ---------------------------------------------------------------------
    def fetch_profile(self, citizen_id: str) -> tuple[dict[str, Any], int | None]:
        self._read("profile")
        return copy.deepcopy(self.profiles.get(citizen_id, {})), self.ledger.version(f"cit#{citizen_id}")

    def fetch_profiles(self, citizen_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self._read("profiles")
        return {c: copy.deepcopy(self.profiles[c]) for c in citizen_ids if c in self.profiles}

    def stage_profile(self, uow: UnitOfWork, citizen_id: str, parts: dict[str, Any], version: int | None) -> None:
        self._stage(uow, f"cit#{citizen_id}", version, lambda: self.profiles.__setitem__(citizen_id, parts))

    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None:
        self._read("subscription")
        return self.subscriptions.get((citizen_id, subscription_id))

    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        self._read("subscriptions")
        return [s for (c, _), s in sorted(self.subscriptions.items()) if c == citizen_id]

    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        key = (sub.citizen_id, sub.subscription_id)
        self._stage(uow, f"sub#{key}", None, lambda: self.subscriptions.__setitem__(key, sub), any_version=True)

    def stage_delete_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        key = (sub.citizen_id, sub.subscription_id)
        self._stage(uow, f"sub#{key}", None, lambda: self.subscriptions.pop(key, None), any_version=True)

    def fetch_subscribers(self, topic_zone: str, cursor: Any, limit: int) -> tuple[list[str], Any]:
        self._read("subscribers")
        ids = sorted(
            s.citizen_id for s in self.subscriptions.values() if s.live and f"{s.topic}#{s.zone}" == topic_zone
        )
        start = int(cursor["n"]) if cursor else 0
        page = ids[start : start + limit]
        return page, ({"n": start + limit} if start + limit < len(ids) else None)

    # ---- the inbox ----------------------------------------------------------------------------------
    def fetch_inbox(self, citizen_id: str, limit: int) -> list[InboxMessage]:
        self._read("inbox")
        mine = [m for (c, _), m in self.inbox.items() if c == citizen_id]
        return sorted(mine, key=lambda m: m.created_at, reverse=True)[:limit]

    def fetch_inbox_message(self, citizen_id: str, notification_id: str) -> InboxMessage | None:
        self._read("inbox")
        return self.inbox.get((citizen_id, notification_id))

    def stage_inbox_message(self, uow: UnitOfWork, message: InboxMessage) -> None:
        key = (message.citizen_id, message.notification_id)
        self._stage(uow, f"inbox#{key}", None, lambda: self.inbox.__setitem__(key, message))

    def stage_read(self, uow: UnitOfWork, message: InboxMessage, at: datetime) -> None:
        key = (message.citizen_id, message.notification_id)
        read = replace(message, read_at=at)
        self._stage(uow, f"inbox#{key}", self.ledger.version(f"inbox#{key}"), lambda: self.inbox.__setitem__(key, read))

    def stage_delete_message(self, uow: UnitOfWork, message: InboxMessage) -> None:
        key = (message.citizen_id, message.notification_id)
        self._stage(uow, f"inbox#{key}", None, lambda: self.inbox.pop(key, None), any_version=True)

    # ---- bulk jobs and alerts -----------------------------------------------------------------------
    def fetch_job(self, bulk_id: str) -> dict[str, Any] | None:
        self._read("job")
        return self.jobs.get(bulk_id)

    def fetch_chunk(self, bulk_id: str, number: int) -> Chunk | None:
        self._read("chunk")
        return self.chunks.get((bulk_id, number))

    def fetch_progress(self, bulk_id: str) -> dict[str, int]:
        self._read("progress")
        totals: dict[str, int] = {"chunks_done": 0, "delivered": 0, "failed": 0}
        for (b, _), chunk in self.chunks.items():
            if b == bulk_id and chunk.outcome is not None:
                totals["chunks_done"] += 1
                for name, n in chunk.outcome.items():
                    totals[name] = totals.get(name, 0) + n
        totals["delivered"] += self.counts[(bulk_id, "delivered")]
        totals["failed"] += sum(n for (b, outcome), n in self.counts.items() if b == bulk_id and outcome != "delivered")
        return totals

    def stage_job(self, uow: UnitOfWork, bulk_id: str, doc: dict[str, Any], at: datetime) -> None:
        self._stage(uow, f"bulk#{bulk_id}", None, lambda: self.jobs.__setitem__(bulk_id, doc))

    def stage_chunk(self, uow: UnitOfWork, chunk: Chunk, at: datetime) -> None:
        key = (chunk.bulk_id, chunk.number)
        self._stage(uow, f"chunk#{key}", None, lambda: self.chunks.__setitem__(key, chunk), any_version=True)

    def stage_chunk_outcome(self, uow: UnitOfWork, chunk: Chunk, counts: dict[str, int]) -> None:
        key = (chunk.bulk_id, chunk.number)
        decided = replace(chunk, outcome=counts)
        self._stage(uow, f"outcome#{key}", None, lambda: self.chunks.__setitem__(key, decided))

    def stage_count(self, uow: UnitOfWork, bulk_id: str, notification_id: str, outcome: str) -> None:
        def apply() -> None:
            self.counts[(bulk_id, outcome)] += 1

        self._stage(uow, f"count#{bulk_id}#{notification_id}", None, apply, any_version=True)

    def fetch_alert(self, alert_id: str) -> dict[str, Any] | None:
        self._read("alert")
        return self.alerts.get(alert_id)

    def stage_alert(self, uow: UnitOfWork, alert_id: str, doc: dict[str, Any], at: datetime) -> None:
        self._stage(uow, f"alert#{alert_id}", None, lambda: self.alerts.__setitem__(alert_id, doc))

    # ---- the blocklist ----------------------------------------------------------------------------------
    def fetch_block(self, key: str) -> tuple[dict[str, Any], int | None]:
        self._read("block")
        return copy.deepcopy(self.blocks.get(key, {})), self.ledger.version(f"blk#{key}")

    def stage_block(self, uow: UnitOfWork, key: str, state: dict[str, Any], version: int | None) -> None:
        self._stage(uow, f"blk#{key}", version, lambda: self.blocks.__setitem__(key, copy.deepcopy(state)))


@dataclass
class FakeChannel:
    """A provider that records what it was given, or fails as told (``failures``: permanent or not, in order)."""

    name: str
    sent: list[Outbound] = field(default_factory=list)
    failures: list[bool] = field(default_factory=list)

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        if self.failures:
            permanent = self.failures.pop(0)
            raise DeliveryFailed(f"{self.name} said no", permanent=permanent)
        self.sent.append(message)
        return message.notification_id


def fake_ports(
    store: FakeNotificationStore, clock: Clock, policy: Policy | None = None, terms: Terms | None = None
) -> NotificationPorts:
    """The real policy engine and terms over the fake store, channels that record (the in-app one the real
    adapter, into the fake store), the test's clock."""
    channels: list[Channel] = [FakeChannel(name) for name in ("email", "sms", "push")]
    channels.append(InAppInbox(store))  # the real adapter: the message joins the unit that marks it delivered
    providers = {c.name: Provider(c, TokenBucket(rate=1e6, capacity=1e6)) for c in channels}
    return NotificationPorts(
        store=store, policy=policy or get_policy(), terms=terms or load_terms(), clock=clock, providers=providers
    )


def channel(ports: NotificationPorts, name: str) -> FakeChannel:
    found = ports.providers[name].channel
    assert isinstance(found, FakeChannel)
    return found
