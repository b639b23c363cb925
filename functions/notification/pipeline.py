"""The notification pipeline over the real stores: decide and enqueue, deliver exactly once, fan out.

``main.py`` calls these from HTTP and CloudEvent entry points; the rules themselves are in ``service.py``
(pure) and ``policies/notifications``.

Exactly one message per notification: delivery first takes a token from the provider's bucket, then
CLAIMS the notification with a conditional write (status accepted/temporary-failure → sending, on the
version read). Of any number of concurrent or repeated deliveries of the same event only one claim
succeeds; the others see the notification sending or done and acknowledge. The final status and the
in-app message (for the inbox) commit together. A claim whose worker died (sending for longer than
``SENDING_LEASE``) may be taken again: only then can a message go out twice (at-least-once after a crash).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from events.base import EventData
from events.notification import (
    NotificationAccepted,
    NotificationDelivered,
    NotificationNotAllowed,
    NotificationPermanentFailure,
    NotificationSending,
    NotificationStatusChanged,
    NotificationTemporaryFailure,
    Recipient,
)
from events.rgpd import DomainAction
from functions.core import rights
from functions.core.errors import ConflictError
from functions.core.outbox import stage_event
from functions.core.policy import Policy, get_policy
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.core.terms import load_terms
from functions.notification import service, templates
from functions.notification.channels import DeliveryFailed, Outbound, providers
from functions.notification.release import stage_marker
from functions.notification.service import CitizenView, Message
from functions.notification.storage import (
    ERASED_STATUS,
    AlertStore,
    InboxItem,
    InboxStore,
    JobStore,
    NotificationStore,
    ProfileStore,
    StateItem,
    SubscriptionItem,
    TemplateStore,
    citizen_view,
    expiry,
)

SENDING_LEASE = timedelta(seconds=120)
TX_NOTIFICATIONS = 30  # notification + event (+ release marker) = 3 items; TransactWriteItems takes 100
STATUS_EVENTS: dict[str, type[NotificationStatusChanged]] = {
    "accepted": NotificationAccepted,
    "not-allowed": NotificationNotAllowed,
    "sending": NotificationSending,
    "delivered": NotificationDelivered,
    "temporary-failure": NotificationTemporaryFailure,
    "permanent-failure": NotificationPermanentFailure,
}


@dataclass(frozen=True)
class Stores:
    templates: TemplateStore = field(default_factory=TemplateStore)
    notifications: NotificationStore = field(default_factory=NotificationStore)
    profiles: ProfileStore = field(default_factory=ProfileStore)
    jobs: JobStore = field(default_factory=JobStore)
    alerts: AlertStore = field(default_factory=AlertStore)


@lru_cache(maxsize=1)
def stores() -> Stores:
    return Stores()


@lru_cache(maxsize=1)
def policy() -> Policy:
    return get_policy()


def now() -> datetime:
    return datetime.now(UTC)


# ---- who the recipient is ------------------------------------------------------------------------------


def views_of(citizen_ids: list[str]) -> dict[str, CitizenView]:
    """What deciding needs about each citizen, from this domain's own projection (contact points included:
    C360 announces them in ``citizen.updated``; no other domain's table is read)."""
    unique = list(dict.fromkeys(citizen_ids))
    profiles: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), 100):
        profiles.update(stores().profiles.fetch_many(unique[start : start + 100]))
    return {c: citizen_view(c, profiles.get(c, {})) for c in unique}


# ---- deciding ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One message to decide: from the API, an internal system's event, a bulk row or an alert."""

    notification_id: str
    template: str
    recipient: Recipient
    personalisation: dict[str, Any]
    requested_by: str
    language: str | None = None
    reference: str | None = None
    callback_url: str | None = None
    bulk_id: str | None = None


def fetch_template(template_id: str) -> templates.Template:
    found = stores().templates.fetch(template_id)
    if found is None:
        raise service.TemplateNotFoundError(
            f"no template {template_id!r}", errors=[{"field": "template", "message": "no such template"}]
        )
    return found[0]


_CHOICES: dict[tuple[Any, ...], service.Choice] = {}
CHOICE_MEMO_SIZE = 50_000


def decide(
    message: Message, view: CitizenView | None, direct: tuple[str, str] | None, at: datetime
) -> tuple[service.Choice, str | None]:
    """Ask the policy for each candidate channel in order; the choice and the address to use.

    Citizens alike (same consents, preferences, flags and reachable channels, same message and minute) get
    the same choice: it is memoised per process, so a fan-out asks the engine (and writes the decision log)
    once per distinct input rather than once per citizen.
    """
    candidates: tuple[str, ...]
    if direct is not None:
        candidates, reachable = (direct[0],), [direct[0]]
    else:
        assert view is not None
        candidates, reachable = view.candidates(), view.reachable()
    key = _choice_key(message, view, candidates, reachable, at)
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _decide(message, view, candidates, reachable, at)
        if len(_CHOICES) >= CHOICE_MEMO_SIZE:
            _CHOICES.clear()
        _CHOICES[key] = choice
    if not choice.allowed or choice.channel is None:
        return choice, None
    return choice, (direct[1] if direct else view.address(choice.channel) if view else None)


@lru_cache(maxsize=4)
def _local_minute(at: datetime) -> str:
    return at.astimezone(service.MADRID).strftime("%Y-%m-%dT%H:%M")


def _choice_key(
    message: Message, view: CitizenView | None, candidates: tuple[str, ...], reachable: list[str], at: datetime
) -> tuple[Any, ...]:
    local_minute = _local_minute(at)
    if view is None:
        return (message, local_minute, candidates, tuple(reachable), None)
    consents = json.dumps(view.consents, sort_keys=True) if view.consents else ""
    quiet = (view.quiet_hours or {}).get("start"), (view.quiet_hours or {}).get("end")
    return (message, local_minute, candidates, tuple(reachable), consents, quiet, view.restricted, view.objections)


def _decide(
    message: Message, view: CitizenView | None, candidates: tuple[str, ...], reachable: list[str], at: datetime
) -> service.Choice:
    decisions = []
    # Reachable channels first (in the citizen's order), stopping at the first allowed one: a fan-out asks
    # about one channel for most citizens. The others are asked only to give the reasons of a refusal.
    ordered = [c for c in candidates if c in reachable] + [c for c in candidates if c not in reachable]
    for channel in ordered:
        decision = policy().decide("notifications", service.policy_input(message, channel, view, reachable, at))
        decisions.append((channel, decision))
        if decision.allow:
            break
    return service.choose(decisions, lambda: service.quiet_hours_end(view.quiet_hours if view else None, at))


def direct_address(recipient: Recipient) -> tuple[str, str] | None:
    if recipient.email:
        return "email", service.normalise_email(recipient.email)
    if recipient.phone:
        return "sms", service.normalise_phone(recipient.phone)
    return None


def new_doc(
    req: Request, template: templates.Template, choice: service.Choice, address: str | None, rendered: Any, at: datetime
) -> dict[str, Any]:
    status = "accepted" if choice.allowed else "not-allowed"
    when = at.isoformat()
    history = [{"status": "requested", "at": when}]
    entry: dict[str, Any] = {"status": status, "at": when, "channel": choice.channel}
    if choice.reason:
        entry["reason"] = choice.reason
    history.append(entry)
    return {
        "id": req.notification_id,
        "status": status,
        "template": template.id,
        "template_version": template.version,
        "purpose": template.purpose,
        "recipient": req.recipient.model_dump(exclude_none=True),
        "recipient_key": service.recipient_key(req.recipient.model_dump(exclude_none=True)),
        "channel": choice.channel,
        "address": address,
        "language": rendered.language if rendered else None,
        "subject": rendered.subject if rendered else None,
        "body": rendered.body if rendered else None,
        "reason": choice.reason if not choice.allowed or choice.deliver_after else None,
        "reasons": choice.reasons,
        "legal_basis": choice.legal_basis,
        "deliver_after": choice.deliver_after.isoformat() if choice.deliver_after else None,
        "attempt": 0,
        "requested_by": req.requested_by,
        "reference": req.reference,
        "callback_url": req.callback_url,
        "bulk_id": req.bulk_id,
        "alert_id": None,
        "created_at": when,
        "updated_at": when,
        "history": history,
        "expires_at": expiry(at),
    }


def prepare(req: Request, template: templates.Template, view: CitizenView | None, at: datetime) -> dict[str, Any]:
    """Validate, decide and render one request (no writes). Raises the 422 problems of bad input."""
    values = templates.check_personalisation(template.fields, req.personalisation)
    direct = direct_address(req.recipient)
    message = Message(purpose=template.purpose)
    choice, address = decide(message, view, direct, at)
    language = req.language or (view.language if view else "es")
    rendered = templates.render(template, values, language) if choice.allowed else None
    return new_doc(req, template, choice, address, rendered, at)


def status_event(doc: dict[str, Any], at: datetime) -> EventData:
    model = STATUS_EVENTS[doc["status"]]
    return model(
        notification_id=doc["id"],
        status=doc["status"],
        template=doc["template"],
        template_version=doc["template_version"],
        purpose=doc["purpose"],
        channel=doc.get("channel"),
        reason=doc.get("reason"),
        reasons=doc.get("reasons") or [],
        attempt=doc.get("attempt", 0),
        deliver_after=doc.get("deliver_after"),
        alert_id=doc.get("alert_id"),
        bulk_id=doc.get("bulk_id"),
        changed_at=at,
    )


def stage_new(uow: UnitOfWork, doc: dict[str, Any], traceparent: str | None, at: datetime) -> None:
    """The notification and its first status event, together (the condition refuses a second copy); a
    notification deferred by quiet hours also gets its release marker (``release.py``)."""
    stores().notifications.stage_new(uow, doc, at)
    if doc["status"] == "accepted" and doc.get("deliver_after"):
        stage_marker(uow, doc["id"], datetime.fromisoformat(doc["deliver_after"]))
    stage_event(uow, status_event(doc, at), subject=doc["id"], traceparent=traceparent, now=at)


def accept_one(req: Request, traceparent: str | None) -> tuple[UnitOfWork, dict[str, Any]]:
    """The unit of work for one notification (API or event): decided, rendered, stored, announced."""
    service.check_callback_url(req.callback_url, get_settings().callback_hosts)
    at = now()
    template = fetch_template(req.template)
    view = views_of([req.recipient.citizen_id])[req.recipient.citizen_id] if req.recipient.citizen_id else None
    doc = prepare(req, template, view, at)
    uow = UnitOfWork()
    stage_new(uow, doc, traceparent, at)
    return uow, doc


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The notification as its requester sees it: status, channel, why, history; no message body."""
    keys = (
        "id", "status", "reason", "reasons", "legal_basis", "channel", "template", "template_version", "purpose",
        "deliver_after", "attempt", "reference", "bulk_id", "alert_id", "created_at", "updated_at", "history",
    )  # fmt: skip
    return {k: doc.get(k) for k in keys}


# ---- delivering -------------------------------------------------------------------------------------------------


def _moved(doc: dict[str, Any], status: str, at: datetime, **extra: Any) -> dict[str, Any]:
    entry = {"status": status, "at": at.isoformat(), "attempt": extra.get("attempt", doc.get("attempt", 0))}
    if extra.get("reason"):
        entry["reason"] = extra["reason"]
    service.check_transition(doc["status"], status)
    return {**doc, **extra, "status": status, "updated_at": at.isoformat(), "history": [*doc["history"], entry]}


def deliver(notification_id: str, traceparent: str | None, due: bool = False) -> UnitOfWork:
    """Deliver one notification exactly once; answers the unit of work that records the outcome. ``due``: the
    release job says its quiet hours are over (an accepted notification otherwise waits for them)."""
    found = stores().notifications.fetch(notification_id)
    if found is None:
        raise ConflictError(f"notification {notification_id} is not readable yet; retry")
    doc, version = found
    at = now()
    if not _deliverable(doc, at, due):
        return UnitOfWork()
    provider = providers()[doc["channel"]]
    provider.bucket.take(2.0)  # before the claim: a rate-limited retry must not leave it "sending"
    claimed = _moved(
        {**doc, "status": "accepted" if doc["status"] == "sending" else doc["status"]},
        "sending",
        at,
        attempt=doc.get("attempt", 0) + 1,
        claimed_at=at.isoformat(),
    )
    claim = UnitOfWork()
    stores().notifications.stage_update(claim, claimed, version, expected_status=doc["status"])
    stage_event(claim, status_event(claimed, at), subject=notification_id, traceparent=traceparent, now=at)
    try:
        claim.commit()
    except ConflictError:
        return UnitOfWork()  # another delivery holds it: nothing to do here
    return _send(claimed, version + 1, provider, traceparent)


def _deliverable(doc: dict[str, Any], at: datetime, due: bool) -> bool:
    if doc["status"] == "accepted":
        after = doc.get("deliver_after")
        return due or not after or datetime.fromisoformat(after) <= at
    if doc["status"] == "temporary-failure":
        return True
    if doc["status"] == "sending":
        claimed = str(doc.get("claimed_at") or "")
        return bool(claimed) and datetime.fromisoformat(claimed) + SENDING_LEASE < at
    return False


def _send(doc: dict[str, Any], version: int, provider: Any, traceparent: str | None) -> UnitOfWork:
    at = now()
    uow = UnitOfWork()
    outbound = Outbound(doc["id"], doc["channel"], doc["address"], doc["subject"], doc["body"], doc["language"], at)
    try:
        provider.channel.send(outbound, uow)
    except DeliveryFailed as failure:
        return _failed(doc, version, failure, traceparent)
    done = _moved(doc, "delivered", at, delivered_at=at.isoformat())
    _stage_outcome(uow, done, version, traceparent, at)
    return uow


def _stage_outcome(uow: UnitOfWork, doc: dict[str, Any], version: int, traceparent: str | None, at: datetime) -> None:
    stores().notifications.stage_update(uow, doc, version, expected_status="sending")
    stage_event(uow, status_event(doc, at), subject=doc["id"], traceparent=traceparent, now=at)
    if doc.get("bulk_id") and doc["status"] in service.TERMINAL:
        stores().jobs.stage_count(uow, doc["bulk_id"], doc["id"], doc["status"])


def _failed(doc: dict[str, Any], version: int, failure: DeliveryFailed, traceparent: str | None) -> UnitOfWork:
    """Temporary: record it and answer 409 (the broker retries with backoff). Permanent or out of retries:
    record it; out of retries is answered 422 so the broker dead-letters the event with the reason."""
    at = now()
    attempt = int(doc.get("attempt", 1))
    retry = not failure.permanent and service.retries_left(doc["channel"], attempt)
    status = "temporary-failure" if retry else "permanent-failure"
    reason = "provider-temporary" if retry else "retries-exhausted" if not failure.permanent else "provider-refused"
    moved = _moved(doc, status, at, reason=reason, reasons=[failure.detail], attempt=attempt)
    uow = UnitOfWork()
    _stage_outcome(uow, moved, version, traceparent, at)
    if retry:
        uow.commit()
        delay = service.retry_delay(attempt + 1)
        raise ConflictError(f"{doc['channel']} failed temporarily ({failure.detail}); retry in {delay:.1f}s")
    if reason == "retries-exhausted":
        uow.commit()
        raise service.DeliveryExhaustedError(
            f"{doc['channel']} failed {attempt} times, the channel's limit: {failure.detail}", notification=doc["id"]
        )
    return uow


# ---- bulk ---------------------------------------------------------------------------------------------------------


def commit_in_batches(docs: Iterable[dict[str, Any]], traceparent: str | None, at: datetime) -> int:
    """Store notifications and their events, TX_NOTIFICATIONS per transaction; answers how many were written."""
    written = 0
    batch: list[dict[str, Any]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == TX_NOTIFICATIONS:
            written += _commit_batch(batch, traceparent, at)
            batch = []
    if batch:
        written += _commit_batch(batch, traceparent, at)
    return written


def _commit_batch(batch: list[dict[str, Any]], traceparent: str | None, at: datetime) -> int:
    uow = UnitOfWork()
    for doc in batch:
        stage_new(uow, doc, traceparent, at)
    uow.commit()
    return len(batch)


def fresh(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop notifications already stored (a retried chunk or page) and repeats within the list."""
    unique = list({d["id"]: d for d in docs}.values())
    done: set[str] = set()
    for start in range(0, len(unique), 100):
        done |= stores().notifications.existing(d["id"] for d in unique[start : start + 100])
    return [d for d in unique if d["id"] not in done]


def bulk_chunk(bulk_id: str, chunk_no: int, traceparent: str | None) -> UnitOfWork:
    """Decide and enqueue one stored chunk of a bulk job; the chunk's counts commit with the last batch."""
    job = stores().jobs.fetch_job(bulk_id)
    chunk = stores().jobs.fetch_chunk(bulk_id, chunk_no)
    if job is None or chunk is None:
        raise ConflictError(f"bulk job {bulk_id} chunk {chunk_no} is not readable yet; retry")
    uow = UnitOfWork()
    if chunk.outcome:
        return uow
    at = now()
    template = fetch_template(job["template"])
    rows = json.loads(chunk.rows)
    citizens = [r["recipient"]["citizen_id"] for r in rows if r["recipient"].get("citizen_id")]
    views = views_of(citizens) if citizens else {}
    docs, counts = [], {"accepted": 0, "not-allowed": 0, "invalid": 0}
    for row in rows:
        recipient = Recipient.model_validate(row["recipient"])
        req = Request(
            notification_id=service.derived_id("bulk", bulk_id, str(row["row"])),
            template=template.id,
            recipient=recipient,
            personalisation=row["personalisation"],
            requested_by=job["requested_by"],
            reference=row.get("reference"),
            bulk_id=bulk_id,
        )
        view = views.get(recipient.citizen_id) if recipient.citizen_id else None
        doc = prepare(req, template, view, at)
        counts[doc["status"]] += 1
        docs.append(doc)
    todo = fresh(docs)
    last = todo[-(len(todo) % TX_NOTIFICATIONS or TX_NOTIFICATIONS) :] if todo else []
    commit_in_batches(todo[: len(todo) - len(last)], traceparent, at)
    for doc in last:
        stage_new(uow, doc, traceparent, at)
    stores().jobs.stage_chunk_outcome(uow, chunk, counts)
    return uow


# ---- alerts ------------------------------------------------------------------------------------------------------

ALERT_PAGE = 250
ALERT_GROUPS = 90


def alert_groups(keys: list[str]) -> list[list[str]]:
    """Split an alert's index keys into at most ALERT_GROUPS groups walked in parallel."""
    groups = min(len(keys), ALERT_GROUPS)
    return [keys[i::groups] for i in range(groups)]


def alert_page(
    alert_id: str, keys: list[str], index: int, cursor: str | None, page: int, traceparent: str | None
) -> tuple[UnitOfWork, dict[str, Any] | None]:
    """Fan one page of subscribers out; answers the unit of work and the next page to ask for (or None)."""
    alert = stores().alerts.fetch_alert(alert_id)
    if alert is None:
        raise ConflictError(f"alert {alert_id} is not readable yet; retry")
    start = json.loads(cursor) if cursor else None
    citizen_ids, last_key = stores().profiles.subscribers(keys[index], start, ALERT_PAGE)
    at = now()
    message = Message(purpose=service.ALERT_PURPOSE, kind="alert", topic=alert["topic"], severity=alert["severity"])
    views = views_of(citizen_ids) if citizen_ids else {}
    docs = [alert_doc(alert_id, alert, views[c], message, at) for c in dict.fromkeys(citizen_ids)]
    commit_in_batches(fresh(docs), traceparent, at)
    if last_key:
        following: dict[str, Any] | None = {"index": index, "cursor": json.dumps(last_key), "page": page + 1}
    elif index + 1 < len(keys):
        following = {"index": index + 1, "cursor": None, "page": page + 1}
    else:
        following = None
    return UnitOfWork(), following


def alert_doc(
    alert_id: str, alert: dict[str, Any], view: CitizenView, message: Message, at: datetime
) -> dict[str, Any]:
    """The notification of one alert for one citizen: decided like any other, the alert's own text. A
    subscriber is known to PIC (they subscribed), so their in-app inbox is always a reachable channel."""
    view = view if view.known else replace(view, known=True)
    choice, address = decide(message, view, None, at)
    language = view.language if alert["text"].get(view.language) else "es"
    title = (alert.get("title") or {}).get(language) or (alert.get("title") or {}).get("es") or "Alerta"
    rendered = templates.Rendered(language, title, alert["text"][language]) if choice.allowed else None
    req = Request(
        notification_id=service.derived_id("alert", alert_id, view.citizen_id),
        template=f"alert-{alert['topic']}",
        recipient=Recipient.model_construct(citizen_id=view.citizen_id),  # an id from the index: valid
        personalisation={},
        requested_by=alert["source"],
    )
    doc = new_doc(req, _alert_template(req.template), choice, address, rendered, at)
    doc["alert_id"] = alert_id
    return doc


@lru_cache(maxsize=64)
def _alert_template(name: str) -> templates.Template:
    """Alerts carry their own text: a template-shaped stand-in names the topic in the notification."""
    return templates.Template(name, 1, templates.TemplateContent(service.ALERT_PURPOSE, {}, {}), ())


# ---- projections of CON events and RGPD flags --------------------------------------------------------------------


def project_consent(
    citizen_id: str, purpose: str, snapshot: dict[str, Any], at: datetime, erasure: bool = False
) -> UnitOfWork:
    """``consent.changed``: the purpose's consent as of the event, unless a later one is already held or the
    person's erasure covers it; an erasure's own withdrawal (``erasure``) only removes an older consent."""
    parts, version = stores().profiles.fetch(citizen_id)
    merged = service.merge_consent(parts, purpose, snapshot, at, erasure)
    uow = UnitOfWork()
    if merged is not None:
        stores().profiles.stage(uow, citizen_id, merged, version)
    return uow


def project_contacts(citizen_id: str, email: str | None, phone: str | None, at: datetime) -> UnitOfWork:
    """``citizen.updated``/``citizen.unmerged``: C360's contact points as of the event (the latest wins; the
    blind index of every address is kept for access and erasure), unless the person's erasure covers it."""
    parts, version = stores().profiles.fetch(citizen_id)
    merged = service.merge_contacts(parts, email, phone, at)
    uow = UnitOfWork()
    if merged is not None:
        stores().profiles.stage(uow, citizen_id, merged, version)
    return uow


def project_part(citizen_id: str, name: str, value: Any, at: datetime) -> UnitOfWork:
    """``preferences.changed``, ``rgpd.flags.changed``, a push endpoint: replace the part if newer (and, but
    for the flags an erasure keeps, not covered by the person's erasure)."""
    parts, version = stores().profiles.fetch(citizen_id)
    merged = service.merge_part(parts, name, value, at)
    uow = UnitOfWork()
    if merged is not None:
        stores().profiles.stage(uow, citizen_id, merged, version)
    return uow


def project_subscription(
    citizen_id: str, subscription_id: str, topic: str, zone: str, live: bool, at: datetime
) -> UnitOfWork:
    """``subscription.changed``: created or deleted as of the event; an older event, or one the person's
    erasure covers, changes nothing."""
    held = stores().profiles.fetch_subscription(citizen_id, subscription_id)
    uow = UnitOfWork()
    if held is not None and held.changed_at >= at:
        return uow
    if service.erased_before(stores().profiles.fetch(citizen_id)[0], at, "consent"):
        return uow
    stores().profiles.stage_subscription(uow, citizen_id, subscription_id, topic, zone, live, at)
    return uow


def sweep_citizen(request_id: str, citizen_id: str, answered: dict[str, datetime]) -> UnitOfWork:
    """``rgpd.request.completed`` of an erasure (``answered``: when each domain erased): drop what was projected
    from a domain between this domain's erasure and that domain's, subscriptions included (``service.swept``)."""
    parts, version = stores().profiles.fetch(citizen_id)
    uow = UnitOfWork()
    marker = parts.get(service.ERASED)
    if marker is None or marker["value"].get("request_id") != request_id:
        return uow  # no erasure here, or a later one's marker: that one's completion sweeps
    kept = service.swept(parts, answered)
    stores().profiles.stage(uow, citizen_id, kept, version)
    subscriptions = SubscriptionItem.query(f"cit#{citizen_id}", SubscriptionItem.sk.startswith("sub#"),
                                           consistent_read=True)  # fmt: skip
    covered = [s for s in subscriptions if service.erased_before(kept, s.changed_at, "consent")]
    room = MAX_DELETES_IN_TRANSACTION
    rights.stage_deletions(uow, covered, lambda unit, item: unit.delete(item, tag="rgpd-erasure"), room=room)
    return uow


# ---- data-subject rights (contracts.md §3): export and erasure, called by ``rights.answer`` ---------------------

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


def _purposes_of(messages: list[InboxItem]) -> dict[str, str]:
    """The purpose of each in-app message's notification (its template's purpose; alerts: ``alerts``)."""
    ids = list(dict.fromkeys(m.notification_id for m in messages))
    found: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        keys = [(f"ntf#{i}", "state") for i in ids[start : start + 100]]
        for item in StateItem.batch_get(keys, attributes_to_get=["pk", "doc"]):
            found[item.pk.removeprefix("ntf#")] = str(json.loads(item.doc).get("purpose") or "")
    return found


def recipient_keys(citizen_id: str, parts: dict[str, Any]) -> list[str]:
    """Whom the person was, to the notifications sent: their citizen id and every address C360 announced for
    them (the blind indexes the contact projection keeps)."""
    contacts = (parts.get("contacts") or {}).get("value") or {}
    return [f"cit#{citizen_id}", *contacts.get("keys", [])]


def sent_to(citizen_id: str, parts: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """The notifications sent to the person, by their citizen id or to one of their addresses (not erased)."""
    found = stores().notifications.fetch_sent_to(recipient_keys(citizen_id, parts))
    return [(doc, version) for doc, version in found if doc.get("status") != ERASED_STATUS]


def _sent_view(doc: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "status", "purpose", "template", "channel", "address", "subject", "body", "language", "created_at",
            "updated_at", "history")  # fmt: skip
    return {k: doc.get(k) for k in keys}


def export_citizen(citizen_id: str) -> dict[str, Any]:
    """Everything NOT holds about this citizen: the projection (consents, preferences, flags, contact points,
    push endpoint, an erasure marker), subscriptions, in-app messages with their purpose, and the
    notifications sent to them by citizen id or to one of their addresses (what was sent, where, how it went)."""
    parts, _ = stores().profiles.fetch(citizen_id)
    subscriptions = [
        {"topic": s.topic, "zone": s.zone, "changed_at": s.changed_at.isoformat()}
        for s in stores().profiles.fetch_subscriptions(citizen_id)
    ]
    messages = InboxStore().messages(citizen_id, limit=MAX_INBOX)
    purposes = _purposes_of(messages)
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
    notifications = [_sent_view(doc) for doc, _ in sent_to(citizen_id, parts)]
    data = {"profile": parts, "subscriptions": subscriptions, "inbox": inbox, "notifications": notifications}
    return dict(json.loads(json.dumps(data, default=str)))


def retention(category: str, record: dict[str, str], at: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one record (or category) of the notification domain."""
    return rights.retention(policy(), "notification", category, at, record)


def message_category(purpose: str | None) -> str:
    """A message sent for a purpose resting on a legal obligation (RGPD art. 6.1.c: service notifications,
    Ley 39/2015 art. 41) is the record of a legal notice; any other purpose (campaigns, surveys, alerts) a
    plain message; a message whose notification record is gone cannot be classified (kept for review)."""
    if not purpose:
        return "unclassified-messages"
    declared = load_terms().purposes.get(purpose)
    return "legal-notices" if declared is not None and "6.1.c" in declared.legal_basis else "messages"


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

    doc: dict[str, Any]
    version: int


def erase_citizen(uow: UnitOfWork, request_id: str, citizen_id: str, at: datetime) -> list[DomainAction]:
    """Stage in ``uow`` the erasure (RGPD art. 17) of what may be erased, and report what is kept, each
    category asked of ``policies/rgpd/retention``: the push endpoint, the consents/preferences and contact
    points projections, the subscriptions, plain messages and the notifications sent for them are erased;
    records of legal notices (in-app, and the notifications sent to the person's id or addresses) are kept
    for their period, the RGPD flags indefinitely (they must keep being honoured), and an erasure marker
    with them (the projections do not re-create what was erased from late or replayed events)."""
    done = Erasure()
    parts, version = stores().profiles.fetch(citizen_id)
    sent = _plan_sent(citizen_id, parts, at, done)  # found through the addresses' keys the profile holds
    _erase_profile(uow, request_id, citizen_id, (parts, version), at, done)
    deletes: list[Any] = []
    subscriptions = list(SubscriptionItem.query(f"cit#{citizen_id}", SubscriptionItem.sk.startswith("sub#"),
                                                consistent_read=True))  # fmt: skip
    if subscriptions and retention("subscriptions", {}, at)["erase"]:
        deletes.extend(subscriptions)
        done.erased("projection of alert subscriptions", len(subscriptions), "subscriptions")
    deletes.extend(_plan_inbox(citizen_id, at, done))
    deletes.extend(sent)
    rights.stage_deletions(
        uow, deletes, lambda unit, item: _stage_delete(unit, item, at), room=MAX_DELETES_IN_TRANSACTION
    )
    return done.actions


def _stage_delete(uow: UnitOfWork, item: Any, at: datetime) -> None:
    if isinstance(item, SentErasure):
        stores().notifications.stage_erase(uow, item.doc, item.version, at)
    else:
        uow.delete(item, tag="rgpd-erasure")


def _erase_profile(
    uow: UnitOfWork, request_id: str, citizen_id: str, held: tuple[dict[str, Any], int | None], at: datetime,
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
        decision = retention(category, {}, at)
        if decision["erase"]:
            done.erased(shown, 1, category)
        else:
            keep[name] = part
            done.kept(shown, 1, decision)
    stores().profiles.stage(uow, citizen_id, service.marked_erased(keep, request_id, at), version)
    done.kept(MARKER, 1, retention("erasure-marker", {}, at))


def _plan_sent(citizen_id: str, parts: dict[str, Any], at: datetime, done: Erasure) -> list[SentErasure]:
    """The notifications sent to the person, per category: erased, or kept with the latest ``keep_until``."""
    erased: dict[str, list[SentErasure]] = {}
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    for doc, version in sent_to(citizen_id, parts):
        category = message_category(doc.get("purpose"))
        decision = retention(category, {"created_at": str(doc.get("created_at"))}, at)
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


def _plan_inbox(citizen_id: str, at: datetime, done: Erasure) -> list[InboxItem]:
    """In-app messages per category: erased, or kept with the latest ``keep_until`` of their category."""
    messages = InboxStore().messages(citizen_id, limit=MAX_INBOX)
    purposes = _purposes_of(messages)
    erased: dict[str, list[InboxItem]] = {}
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    for message in messages:
        category = message_category(purposes.get(message.notification_id))
        decision = retention(category, {"created_at": message.created_at.isoformat()}, at)
        if decision["erase"]:
            erased.setdefault(category, []).append(message)
        else:
            kept[category] = _latest(kept.get(category), decision)
    done.by_category(TITLES, erased, kept)
    return [m for items in erased.values() for m in items]
