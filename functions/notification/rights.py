"""The notification domain's answer to data-subject requests (RGPD arts. 15 to 21), contracts.md §3.

- access (art. 15) and portability (art. 20): ``export_citizen`` — the projection (contact points included),
  subscriptions, in-app messages and the notifications sent to the person, by citizen id or to one of their
  addresses (found through the ``by-recipient`` index and the addresses' blind indexes);
- erasure (art. 17): ``erase_citizen``, staged in the same unit of work as the answer — records of legal
  notices (in-app, and the notifications sent) are kept under ``policies/rgpd/retention``
  (``notification/legal-notices``) and said so, with an erasure marker the projections honour (ADR 0012), and
  what this domain keeps outside its table until the store removes it (``rights.in_transit``); ``sweep``, when
  the request completes, drops what other domains' late events projected in between;
- rectification: not applicable (NOT holds copies: contact points are rectified in C360, which announces them);
- restriction (art. 18) and objection (art. 21): not applicable here — the flags arrive by their own event,
  ``rgpd.flags.changed`` (``handlers.project_part``), and ``policies/notifications`` honours them.
The answer's envelope (export size, outcome) is ``functions.core.rights``. Plain functions over the store, the
policy and the terms: the entry point is ``handlers.answer_rights``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.rgpd import DomainAction, RgpdDomainAnswered, RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.core.terms import Terms
from functions.notification import service
from functions.notification.service import ERASED_STATUS, Doc, InboxMessage, NotificationStore, Subscription

DOMAIN = "notification"


def export_actions(export: dict[str, Any]) -> list[DomainAction]:
    """What an export contains, counted per kind of data."""
    return rights.exported(
        {
            "projection of consents, preferences, contact points, RGPD flags and push endpoint": len(export["profile"]),
            "projection of alert subscriptions": len(export["subscriptions"]),
            "in-app messages": len(export["inbox"]),
            "notifications sent to the person (by citizen id or to their addresses)": len(export["notifications"]),
        }
    )


def answer(
    data: RgpdRequestOpened, uow: UnitOfWork, store: NotificationStore, policy: Policy, terms: Terms, at: datetime
) -> RgpdDomainAnswered:
    """This domain's answer to one request; an erasure's writes are staged in ``uow`` beside it."""
    answering = rights.Answering(data, DOMAIN, at)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_citizen(data.citizen_id, store, terms)
        return answering.with_export(export, export_actions(export))
    if data.right == "erasure":
        actions = erase_citizen(uow, data.request_id, data.citizen_id, Retention(store, policy, terms, at))
        return answering.with_actions(rights.erasure_actions(actions, policy, DOMAIN, at))
    # rectification: no identity attribute is held; restriction/objection: the flags event does the work
    return answering.not_applicable()


def sweep(request_id: str, citizen_id: str, answered: dict[str, datetime], store: NotificationStore) -> UnitOfWork:
    """``rgpd.request.completed`` of an erasure (``answered``: when each domain erased): drop what was projected
    from a domain between this domain's erasure and that domain's, subscriptions included (``service.swept``)."""
    parts, version = store.fetch_profile(citizen_id)
    uow = UnitOfWork()
    marker = parts.get(service.ERASED)
    if marker is None or marker["value"].get("request_id") != request_id:
        return uow  # no erasure here, or a later one's marker: that one's completion sweeps
    kept = service.swept(parts, answered)
    store.stage_profile(uow, citizen_id, kept, version)
    covered = [s for s in store.fetch_subscriptions(citizen_id) if service.erased_before(kept, s.changed_at, "consent")]
    rights.stage_deletions(uow, covered, store.stage_delete_subscription, room=MAX_DELETES_IN_TRANSACTION)
    return uow


# One TransactWriteItems holds at most 100 items: the answer, its idempotency record and the profile take three;
# deletions beyond this many are committed before the transaction (``rights.stage_deletions``).
MAX_DELETES_IN_TRANSACTION = 80
MAX_INBOX = 10_000
PARTS = {  # a projection part: its retention category, and how the answer names it
    "push_endpoint": ("push-endpoint", "push endpoint"),
    "consents": ("projection", "projection of consents"),
    "preferences": ("projection", "projection of contact preferences"),
    "contacts": ("contact-points", "projection of C360's contact points (e-mail, phone, their blind indexes)"),
    "flags": ("flags", "projection of RGPD restriction and objection flags"),
}
MARKER = (
    "erasure marker (the request and when): events about the person from before it, late, retried or replayed, "
    "do not re-create what the erasure erased"
)
TITLES = {
    "legal-notices": "in-app records of legal notices (Ley 39/2015 art. 41)",
    "messages": "in-app messages (campaigns, surveys, alerts)",
    "unclassified-messages": "in-app messages whose notification record is gone",
}
SENT = {
    "legal-notices": "notifications sent to the person under a legal obligation (address, subject, body, history)",
    "messages": "notifications sent to the person for campaigns, surveys and alerts (address, subject, body)",
    "unclassified-messages": "notifications sent to the person whose purpose is unknown",
}


def message_category(purpose: str | None, terms: Terms) -> str:
    """A message sent for a purpose resting on a legal obligation (RGPD art. 6.1.c: service notifications,
    Ley 39/2015 art. 41) is the record of a legal notice; any other purpose (campaigns, surveys, alerts) a
    plain message; a message whose notification record is gone cannot be classified (kept for review)."""
    if not purpose:
        return "unclassified-messages"
    declared = terms.purposes.get(purpose)
    return "legal-notices" if declared is not None and "6.1.c" in declared.legal_basis else "messages"


def sent_to(citizen_id: str, parts: dict[str, Any], store: NotificationStore) -> list[tuple[Doc, int]]:
    """The notifications sent to the person, by their citizen id or to one of their addresses (not erased)."""
    found = store.fetch_sent_to(service.recipient_keys(citizen_id, parts))
    return [(doc, version) for doc, version in found if doc.get("status") != ERASED_STATUS]


def export_citizen(citizen_id: str, store: NotificationStore, terms: Terms) -> dict[str, Any]:
    """Everything NOT holds about this citizen: the projection (consents, preferences, flags, contact points,
    push endpoint, an erasure marker), subscriptions, in-app messages with their purpose, and the
    notifications sent to them by citizen id or to one of their addresses (what was sent, where, how it went)."""
    parts, _ = store.fetch_profile(citizen_id)
    subscriptions = [
        {"topic": s.topic, "zone": s.zone, "changed_at": s.changed_at.isoformat()}
        for s in store.fetch_subscriptions(citizen_id)
        if s.live
    ]
    messages = store.fetch_inbox(citizen_id, MAX_INBOX)
    purposes = store.fetch_purposes([m.notification_id for m in messages]) if messages else {}
    inbox = [
        {
            "notification_id": m.notification_id,
            "purpose": purposes.get(m.notification_id),
            "subject": m.subject,
            "body": m.body,
            "language": m.language,
            "created_at": m.created_at.isoformat(),
            "read_at": m.read_at.isoformat() if m.read_at else None,
        }
        for m in messages
    ]
    notifications = [service.sent_view(doc) for doc, _ in sent_to(citizen_id, parts, store)]
    data = {"profile": parts, "subscriptions": subscriptions, "inbox": inbox, "notifications": notifications}
    return dict(json.loads(json.dumps(data, default=str)))


@dataclass(frozen=True)
class Retention:
    """What an erasure asks: ``policies/rgpd/retention`` for this domain's records at ``at``, the store, and the
    terms that say which purposes are legal obligations."""

    store: NotificationStore
    policy: Policy
    terms: Terms
    at: datetime

    def decide(self, category: str, record: dict[str, str] | None = None) -> dict[str, Any]:
        return rights.retention(self.policy, DOMAIN, category, self.at, record or {})

    def category_of(self, purpose: str | None) -> str:
        return message_category(purpose, self.terms)


@dataclass
class Erasure:
    """What ``erase_citizen`` did or staged, and the actions the answer reports (contracts.md §3)."""

    actions: list[DomainAction] = field(default_factory=list)

    def erased(self, what: str, count: int, category: str | None = None) -> None:
        if count:
            self.actions.append(rights.erased(what, count, category))

    def kept(self, what: str, count: int, decision: dict[str, Any]) -> None:
        if count:
            self.actions.append(rights.kept(what, count, decision))

    def by_category(
        self, titles: dict[str, str], erased: dict[str, list[Any]], kept: dict[str, tuple[int, dict[str, Any]]]
    ) -> None:
        for category, items in sorted(erased.items()):
            self.erased(titles[category], len(items), category)
        for category, (count, decision) in sorted(kept.items()):
            self.kept(titles[category], count, decision)


@dataclass(frozen=True)
class SentErasure:
    """A notification sent to the person that the erasure deletes (or, in flight, turns into a tombstone)."""

    doc: Doc
    version: int


def erase_citizen(uow: UnitOfWork, request_id: str, citizen_id: str, retention: Retention) -> list[DomainAction]:
    """Stage in ``uow`` the erasure (RGPD art. 17) of what may be erased, and report what is kept, each
    category asked of ``policies/rgpd/retention``: the push endpoint, the consents/preferences and contact
    points projections, the subscriptions, plain messages and the notifications sent for them are erased;
    records of legal notices (in-app, and the notifications sent to the person's id or addresses) are kept
    for their period, the RGPD flags indefinitely (they must keep being honoured), and an erasure marker
    with them (the projections do not re-create what was erased from late or replayed events)."""
    done = Erasure()
    store = retention.store
    parts, version = store.fetch_profile(citizen_id)
    sent = _plan_sent(citizen_id, parts, retention, done)  # found through the addresses' keys the profile holds
    _erase_profile(uow, request_id, citizen_id, (parts, version), retention, done)
    deletes: list[Subscription | InboxMessage | SentErasure] = []
    subscriptions = store.fetch_subscriptions(citizen_id)
    if subscriptions and retention.decide("subscriptions")["erase"]:
        deletes.extend(subscriptions)
        done.erased("projection of alert subscriptions", len(subscriptions), "subscriptions")
    deletes.extend(_plan_inbox(citizen_id, retention, done))
    deletes.extend(sent)
    rights.stage_deletions(
        uow, deletes, lambda unit, item: _stage_delete(unit, item, retention), room=MAX_DELETES_IN_TRANSACTION
    )
    return done.actions


def _stage_delete(uow: UnitOfWork, item: Subscription | InboxMessage | SentErasure, retention: Retention) -> None:
    if isinstance(item, SentErasure):
        retention.store.stage_erase_notification(uow, item.doc, item.version, retention.at)
    elif isinstance(item, InboxMessage):
        retention.store.stage_delete_message(uow, item)
    else:
        retention.store.stage_delete_subscription(uow, item)


def _erase_profile(
    uow: UnitOfWork, request_id: str, citizen_id: str, held: tuple[dict[str, Any], int | None], retention: Retention,
    done: Erasure,
) -> None:  # fmt: skip
    """Each part erased or kept as its category says; the kept ones stay with this erasure's marker."""
    parts, version = held
    keep: dict[str, Any] = {}
    for name, part in parts.items():
        if name == service.ERASED:  # an earlier erasure's marker: this one's replaces it (``marked_erased``)
            keep[name] = part
            continue
        category, shown = PARTS.get(name, (name, name))
        decision = retention.decide(category)
        if decision["erase"]:
            done.erased(shown, 1, category)
        else:
            keep[name] = part
            done.kept(shown, 1, decision)
    retention.store.stage_profile(uow, citizen_id, service.marked_erased(keep, request_id, retention.at), version)
    done.kept(MARKER, 1, retention.decide("erasure-marker"))


def _plan_sent(citizen_id: str, parts: dict[str, Any], retention: Retention, done: Erasure) -> list[SentErasure]:
    """The notifications sent to the person, per category: erased, or kept with the latest ``keep_until``."""
    erased: dict[str, list[SentErasure]] = {}
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    for doc, version in sent_to(citizen_id, parts, retention.store):
        category = retention.category_of(doc.get("purpose"))
        decision = retention.decide(category, {"created_at": str(doc.get("created_at"))})
        if decision["erase"]:
            erased.setdefault(category, []).append(SentErasure(doc, version))
        else:
            kept[category] = _latest(kept.get(category), decision)
    done.by_category(SENT, erased, kept)
    return [s for items in erased.values() for s in items]


def _latest(held: tuple[int, dict[str, Any]] | None, decision: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One more kept record of a category, reported with the latest ``keep_until`` of them."""
    count, latest = held or (0, decision)
    if str(decision.get("keep_until") or "") > str(latest.get("keep_until") or ""):
        latest = decision
    return count + 1, latest


def _plan_inbox(citizen_id: str, retention: Retention, done: Erasure) -> list[InboxMessage]:
    """In-app messages per category: erased, or kept with the latest ``keep_until`` of their category."""
    messages = retention.store.fetch_inbox(citizen_id, MAX_INBOX)
    purposes = retention.store.fetch_purposes([m.notification_id for m in messages]) if messages else {}
    erased: dict[str, list[InboxMessage]] = {}
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    for message in messages:
        category = retention.category_of(purposes.get(message.notification_id))
        decision = retention.decide(category, {"created_at": message.created_at.isoformat()})
        if decision["erase"]:
            erased.setdefault(category, []).append(message)
        else:
            kept[category] = _latest(kept.get(category), decision)
    done.by_category(TITLES, erased, kept)
    return [m for items in erased.values() for m in items]
