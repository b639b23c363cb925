"""Notifications and alerts use cases: one function per command, event or question, over the domain's ports.

A handler reads through the ``NotificationStore`` port, decides with the pure rules of ``service`` and
``policies/notifications``, and stages the notification, its status event and what goes with it in one unit
of work, which it returns (``Staged`` for a command, a ``UnitOfWork`` for an event): the entry point commits
it with the request's idempotency or the event's dedupe record, and runs the handler again if the commit lost
a race (``functions.core.retry``). Nothing here knows HTTP, CloudEvents or DynamoDB; the unit tests run these
handlers against in-memory fakes of the ports (``tests/unit/notification/test_handlers.py``).

Three use cases make writes durable before their own unit, through ``store.commit_ahead``, because the
domain needs the order: a delivery CLAIMS the notification (accepted/temporary-failure → sending, on the
version read) before the message goes out, so of any number of concurrent or repeated deliveries only one
sends; a fan-out (a bulk chunk, an alert page) writes more notifications than one transaction holds; a bulk
job's chunks are written before the job and their events. A claim whose worker died (sending for longer
than ``service.SENDING_LEASE``) may be taken again: only then can a message go out twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from events.base import EventData
from events.consent import Actor, ConsentChangeRequested
from events.notification import (
    AlertPageReady,
    AlertPublished,
    BatchRecipient,
    BulkChunkReady,
    NotificationAccepted,
    NotificationBatchRequested,
    NotificationDelivered,
    NotificationEngaged,
    NotificationNotAllowed,
    NotificationPermanentFailure,
    NotificationSending,
    NotificationStatusChanged,
    NotificationTemporaryFailure,
    Recipient,
)
from functions.core import channel_choice, paging, signed_links
from functions.core.clock import MADRID, Clock
from functions.core.errors import ConflictError, ValidationError
from functions.core.logging import get_logger
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.settings import get_settings
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms
from functions.notification import blocklist, bulk, service, templates
from functions.notification.channels import DeliveryFailed, InAppInbox, Outbound, Provider
from functions.notification.service import (
    Chunk,
    CitizenView,
    Doc,
    InboxMessage,
    Message,
    NotificationRequest,
    NotificationStore,
    Subscription,
)

if TYPE_CHECKING:  # the RGPD models load with the first RGPD event, off the HTTP function's cold start
    from events.rgpd import RgpdRequestOpened

TX_NOTIFICATIONS = 30  # notification + event (+ release marker) = 3 items; TransactWriteItems takes 100
ALERT_PAGE = 250
INBOX_PAGE = 50
CHOICE_MEMO_SIZE = 50_000
STATUS_EVENTS: dict[str, type[NotificationStatusChanged]] = {
    "accepted": NotificationAccepted,
    "not-allowed": NotificationNotAllowed,
    "sending": NotificationSending,
    "delivered": NotificationDelivered,
    "temporary-failure": NotificationTemporaryFailure,
    "permanent-failure": NotificationPermanentFailure,
}


@dataclass(frozen=True)
class NotificationPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``. ``choices`` memoises
    the policy's choice per distinct input (a fan-out asks the engine once per kind of citizen, not per citizen)."""

    store: NotificationStore
    policy: Policy
    terms: Terms
    clock: Clock
    providers: Mapping[str, Provider]
    choices: dict[tuple[Any, ...], service.Choice] = field(default_factory=dict, compare=False, hash=False)


# ---- who the recipient is, and deciding -----------------------------------------------------------------


def views_of(citizen_ids: list[str], ports: NotificationPorts) -> dict[str, CitizenView]:
    """What deciding needs about each citizen, from this domain's own projection (contact points included:
    C360 announces them in ``citizen.updated``; no other domain's table is read)."""
    unique = list(dict.fromkeys(citizen_ids))
    profiles = ports.store.fetch_profiles(unique) if unique else {}
    return {c: service.citizen_view(c, profiles.get(c, {})) for c in unique}


def template_of(template_id: str, ports: NotificationPorts) -> templates.Template:
    return _found(template_id, ports.store.fetch_template(template_id))


def _found(template_id: str, found: tuple[templates.Template, int] | None) -> templates.Template:
    """The stored template, or PIC's own of that id (``templates.platform_templates``)."""
    if found is None and templates.is_platform(template_id):
        platform = templates.platform_templates().get(template_id)
        found = (platform, 0) if platform else None
    if found is None:
        raise service.TemplateNotFoundError(
            f"no template {template_id!r}", errors=[{"field": "template", "message": "no such template"}]
        )
    return found[0]


def decide(
    message: Message, view: CitizenView | None, direct: tuple[str, str] | None, at: datetime, ports: NotificationPorts
) -> tuple[service.Choice, str | None]:
    """Ask the policy for each candidate channel in order; the choice and the address to use. Citizens alike
    (same consents, preferences, flags and reachable channels, same message and minute) share one choice."""
    candidates: tuple[str, ...]
    if direct is not None:
        candidates, reachable = (direct[0],), [direct[0]]
    else:
        assert view is not None
        candidates, reachable = view.candidates(), view.reachable()
    key = _choice_key(message, view, candidates, reachable, at)
    choice = ports.choices.get(key)
    if choice is None:
        choice = channel_choice.decide(message, view, candidates, reachable, at, ports.policy)
        if len(ports.choices) >= CHOICE_MEMO_SIZE:
            ports.choices.clear()
        ports.choices[key] = choice
    if not choice.allowed or choice.channel is None:
        return choice, None
    return choice, (direct[1] if direct else view.address(choice.channel) if view else None)


@lru_cache(maxsize=4)
def _local_minute(at: datetime) -> str:
    return at.astimezone(MADRID).strftime("%Y-%m-%dT%H:%M")


def _choice_key(
    message: Message, view: CitizenView | None, candidates: tuple[str, ...], reachable: list[str], at: datetime
) -> tuple[Any, ...]:
    local_minute = _local_minute(at)
    if view is None:
        return (message, local_minute, candidates, tuple(reachable), None)
    consents = json.dumps(view.consents, sort_keys=True) if view.consents else ""
    quiet = (view.quiet_hours or {}).get("start"), (view.quiet_hours or {}).get("end")
    blocked = tuple(sorted(view.blocked.items())) if view.blocked else ()
    return (message, local_minute, candidates, tuple(reachable), consents, quiet, view.restricted, view.objections,
            blocked)  # fmt: skip


def prepare(
    req: NotificationRequest, template: templates.Template, view: CitizenView | None, at: datetime,
    ports: NotificationPorts,
) -> Doc:  # fmt: skip
    """Validate, decide and render one request (no writes). Raises the 422 problems of bad input."""
    values = templates.check_personalisation(template.fields, req.personalisation)
    choice, address = decide(Message(purpose=template.purpose), view, service.direct_address(req.recipient), at, ports)
    return _rendered_doc(req, template, values, choice, address, view, at)


def _rendered_doc(
    req: NotificationRequest, template: templates.Template, values: dict[str, str], choice: service.Choice,
    address: str | None, view: CitizenView | None, at: datetime,
) -> Doc:  # fmt: skip
    """The decided notification, rendered when allowed; a message of a purpose one can drop (campaigns,
    surveys) carries its one-click unsubscribe link, filled by NOT (``{{ unsubscribe_url }}`` in a template)."""
    language = req.language or (view.language if view else "es")
    links = unsubscribe_links(req.notification_id, template.purpose) if choice.allowed else {}
    filled = {"unsubscribe_url": links["unsubscribe_url"]} if links else None
    rendered = templates.render(template, values, language, filled) if choice.allowed else None
    return {**service.new_doc(req, template, choice, address, rendered, at), **links}


def unsubscribe_links(notification_id: str, purpose: str) -> dict[str, str]:
    """The page a person confirms on (``unsubscribe_url``) and the API's one-click target (``List-Unsubscribe``,
    RFC 8058), both carrying a signed token of the notification, valid a year (``service.UNSUBSCRIBE_MAX_AGE``)."""
    if purpose not in service.UNSUBSCRIBE_PURPOSES:
        return {}
    token = signed_links.sign(service.UNSUBSCRIBE_LINK, {"n": notification_id})
    api_url = get_settings().api_url
    return {
        "unsubscribe_url": service.unsubscribe_url(api_url, token),
        "list_unsubscribe": service.unsubscribe_api_url(api_url, token),
    }


def status_event(doc: Doc, at: datetime) -> EventData:
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
        campaign_id=doc.get("campaign_id"),
        tags=doc.get("tags") or {},
        changed_at=at,
    )


def _stage_new(uow: UnitOfWork, doc: Doc, ports: NotificationPorts, traceparent: str | None, at: datetime) -> None:
    """The notification (with its release marker if deferred) and its first status event, together."""
    ports.store.stage_notification(uow, doc, at)
    stage_event(uow, status_event(doc, at), subject=doc["id"], traceparent=traceparent, now=at)


# ---- one notification ---------------------------------------------------------------------------------------


def notify(req: NotificationRequest, ports: NotificationPorts, traceparent: str | None) -> Staged[Doc]:
    """One notification (API or an internal system's event): decided, rendered, stored, announced. The store's
    condition refuses a second copy of the same id (a redelivered event names the same notification)."""
    service.check_callback_url(req.callback_url, get_settings().callback_hosts)
    at = ports.clock.now()
    citizen = req.recipient.citizen_id
    found, parts = ports.store.fetch_template_and_profile(req.template, citizen)
    view = service.citizen_view(citizen, parts) if citizen else None
    doc = prepare(req, _found(req.template, found), view, at, ports)
    uow = UnitOfWork()
    _stage_new(uow, doc, ports, traceparent, at)
    return Staged(uow, doc)


def notification_of(notification_id: str, ports: NotificationPorts) -> Doc:
    found = ports.store.fetch_notification(notification_id)
    if found is None:
        raise service.NotificationNotFoundError(f"no notification {notification_id!r}")
    return found[0]


# ---- delivering -------------------------------------------------------------------------------------------------


def deliver(notification_id: str, ports: NotificationPorts, traceparent: str | None, due: bool = False) -> UnitOfWork:
    """Deliver one notification exactly once; answers the unit of work that records the outcome. ``due``: the
    release job says its quiet hours are over (an accepted notification otherwise waits for them)."""
    found = ports.store.fetch_notification(notification_id)
    if found is None:
        raise ConflictError(f"notification {notification_id} is not readable yet; retry")
    doc, version = found
    at = ports.clock.now()
    if not service.deliverable(doc, at, due):
        return UnitOfWork()
    provider = ports.providers[doc["channel"]]
    provider.bucket.take(2.0)  # before the claim: a rate-limited retry must not leave it "sending"
    held = {**doc, "status": "accepted" if doc["status"] == "sending" else doc["status"]}
    claimed = service.moved(held, "sending", at, attempt=doc.get("attempt", 0) + 1, claimed_at=at.isoformat())
    if isinstance(provider.channel, InAppInbox):
        return _deliver_in_unit(doc["status"], claimed, version, provider, ports, traceparent)
    claim = UnitOfWork()
    ports.store.stage_status(claim, claimed, version, expected_status=doc["status"])
    stage_event(claim, status_event(claimed, at), subject=notification_id, traceparent=traceparent, now=at)
    try:
        ports.store.commit_ahead(claim)
    except ConflictError:
        return UnitOfWork()  # another delivery holds it: nothing to do here
    return _send(claimed, version + 1, provider, ports, traceparent)


def _deliver_in_unit(
    status: str, claimed: Doc, version: int, provider: Provider, ports: NotificationPorts, traceparent: str | None
) -> UnitOfWork:
    """An in-app message is written in the very unit that records it delivered: nothing leaves PIC before the
    commit, so no claim is committed ahead — the condition on the status and version read keeps it single (a
    concurrent delivery loses the race and, decided again, finds it delivered). One transaction where a message
    that leaves PIC takes two; the same ``sending`` and ``delivered`` steps and events."""
    at = ports.clock.now()
    uow = UnitOfWork()
    outbound = Outbound(claimed["id"], claimed["channel"], claimed["address"], claimed["subject"], claimed["body"],
                        claimed["language"], at)  # fmt: skip
    provider.channel.send(outbound, uow)
    stage_event(uow, status_event(claimed, at), subject=claimed["id"], traceparent=traceparent, now=at)
    done = service.moved(claimed, "delivered", at, delivered_at=at.isoformat())
    _stage_outcome(uow, done, version, ports, traceparent, at, expected_status=status)
    return uow


def _send(doc: Doc, version: int, provider: Provider, ports: NotificationPorts, traceparent: str | None) -> UnitOfWork:
    at = ports.clock.now()
    uow = UnitOfWork()
    outbound = Outbound(doc["id"], doc["channel"], doc["address"], doc["subject"], doc["body"], doc["language"], at,
                        doc.get("list_unsubscribe"))  # fmt: skip
    try:
        provider.channel.send(outbound, uow)
    except DeliveryFailed as failure:
        return _failed(doc, version, failure, ports, traceparent)
    done = service.moved(doc, "delivered", at, delivered_at=at.isoformat())
    _stage_outcome(uow, done, version, ports, traceparent, at)
    return uow


def _stage_outcome(
    uow: UnitOfWork, doc: Doc, version: int, ports: NotificationPorts, traceparent: str | None, at: datetime,
    expected_status: str = "sending",
) -> None:  # fmt: skip
    ports.store.stage_status(uow, doc, version, expected_status=expected_status)
    stage_event(uow, status_event(doc, at), subject=doc["id"], traceparent=traceparent, now=at)
    if doc.get("bulk_id") and doc["status"] in service.TERMINAL:
        ports.store.stage_count(uow, doc["bulk_id"], doc["id"], doc["status"])


def _failed(
    doc: Doc, version: int, failure: DeliveryFailed, ports: NotificationPorts, traceparent: str | None
) -> UnitOfWork:
    """Temporary: record it and answer 409 (the broker retries with backoff). Permanent or out of retries:
    record it; out of retries is answered 422 so the broker dead-letters the event with the reason."""
    at = ports.clock.now()
    attempt = int(doc.get("attempt", 1))
    status, reason = service.failure_outcome(doc["channel"], attempt, failure.permanent)
    failed = service.moved(doc, status, at, reason=reason, reasons=[failure.detail], attempt=attempt)
    uow = UnitOfWork()
    _stage_outcome(uow, failed, version, ports, traceparent, at)
    if status == "temporary-failure":
        ports.store.commit_ahead(uow)
        delay = service.retry_delay(attempt + 1)
        raise ConflictError(f"{doc['channel']} failed temporarily ({failure.detail}); retry in {delay:.1f}s")
    if reason == "retries-exhausted":
        ports.store.commit_ahead(uow)
        raise service.DeliveryExhaustedError(
            f"{doc['channel']} failed {attempt} times, the channel's limit: {failure.detail}", notification=doc["id"]
        )
    return uow


@dataclass(frozen=True)
class Callback:
    """A status callback to send: where, and the payload (the entry point signs and posts it)."""

    url: str
    payload: dict[str, Any]


def callback_for(data: NotificationStatusChanged, ports: NotificationPorts) -> Callback | None:
    """The requester's callback for a terminal status, if it gave a ``callback_url`` whose host is still
    allowed (the allow-list may have changed since the notification was accepted)."""
    found = ports.store.fetch_notification(data.notification_id)
    if found is None or not found[0].get("callback_url"):
        return None
    doc = found[0]
    if not service.callback_host_allowed(doc["callback_url"], get_settings().callback_hosts):
        # allowed when accepted, not any more (the list changed): not called, and said so
        get_logger().warning("callback host no longer allowed", extra={"notification_id": doc["id"]})
        return None
    payload = {
        "id": doc["id"],
        "reference": doc.get("reference"),
        "status": data.status,
        "reason": data.reason,
        "channel": data.channel,
        "at": data.changed_at.isoformat(),
    }
    return Callback(doc["callback_url"], payload)


# ---- templates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PutTemplate:
    template_id: str
    purpose: str
    subject: dict[str, str]
    body: dict[str, str]
    by: str


@dataclass(frozen=True)
class TemplateSaved:
    template: templates.Template
    created: bool  # the first version
    changed: bool  # False: the same content again, nothing stored


def put_template(cmd: PutTemplate, ports: NotificationPorts, traceparent: str | None) -> Staged[TemplateSaved]:
    """Store a new version when the content changed; the same content again changes nothing."""
    if cmd.purpose not in ports.terms.purposes:
        raise service.TemplateError(
            f"unknown purpose {cmd.purpose!r}",
            errors=[{"field": "purpose", "message": f"one of {', '.join(sorted(ports.terms.purposes))}"}],
        )
    if templates.is_platform(cmd.template_id):
        raise service.TemplateReservedError(
            f"{cmd.template_id!r} is PIC's own template (ids under {templates.PLATFORM_PREFIX!r} change in a release)"
        )
    content = templates.TemplateContent(purpose=cmd.purpose, subject=cmd.subject, body=cmd.body)
    templates.check_languages(content)
    fields = templates.declared_fields(content)
    if "unsubscribe_url" in fields and cmd.purpose not in service.UNSUBSCRIBE_PURPOSES:
        raise service.TemplateError(
            f"{{{{ unsubscribe_url }}}} is filled only for purposes one can unsubscribe from: {cmd.purpose!r} is not",
            errors=[{"field": "body", "message": "unsubscribe_url only in campaigns and surveys templates"}],
        )
    found = ports.store.fetch_template(cmd.template_id)
    current, version = found if found else (None, None)
    uow = UnitOfWork()
    if current is not None and current.content == content:
        return Staged(uow, TemplateSaved(current, created=False, changed=False))
    number = current.version + 1 if current else 1
    template = templates.Template(cmd.template_id, number, content, fields, templates.readability(content.body["es"]))
    ports.store.stage_template(uow, template, version, cmd.by, ports.clock.now())
    return Staged(uow, TemplateSaved(template, created=number == 1, changed=True))


def template_versions(
    template_id: str, version: int | None, ports: NotificationPorts
) -> tuple[templates.Template, list[int]]:
    """A template (its current or a given version) and the numbers of all its versions."""
    platform = templates.platform_templates().get(template_id) if templates.is_platform(template_id) else None
    if platform is not None and version in (None, 1):
        return replace(platform, readability=templates.readability(platform.content.body["es"])), [1]
    found = ports.store.fetch_template(template_id, version)
    if found is None:
        suffix = f" version {version}" if version is not None else ""
        raise service.NotificationNotFoundError(f"no template {template_id!r}{suffix}")
    return found[0], [t.version for t in ports.store.fetch_template_versions(template_id)]


def preview(
    template_id: str, personalisation: dict[str, Any] | None, language: str, ports: NotificationPorts
) -> dict[str, Any]:
    """The rendered message (placeholders shown as ((field)) when no personalisation is given) and the
    Fernández-Huerta clear-language score of the Spanish body."""
    template = template_of(template_id, ports)
    given = {f: f"(({f}))" for f in template.fields if f not in service.FILLED_BY_PIC}
    values = personalisation if personalisation is not None else given
    filled = {f: f"(({f}))" for f in template.fields if f in service.FILLED_BY_PIC}  # NOT fills it when sending
    rendered = templates.render(template, values, language, filled)
    return {
        "id": template.id,
        "version": template.version,
        "language": rendered.language,
        "subject": rendered.subject,
        "body": rendered.body,
        "fields": list(template.fields),
        "readability": template.readability,
        "readability_rendered": templates.readability(rendered.body) if rendered.language == "es" else None,
        "sms_segments": templates.sms_segments(rendered.body),
    }


# ---- bulk ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitBulk:
    template_id: str
    rows: list[tuple[int, Any]]  # numbered from 1: a row's raw value, or the ValueError that made it unreadable
    requested_by: str


def submit_bulk(cmd: SubmitBulk, ports: NotificationPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """Validate the rows, store the good ones in chunks, and stage the job with one event per chunk; the
    chunks are decided and enqueued by those events. Answers the job as its requester first sees it."""
    bulk.check_size(len(cmd.rows))
    template = template_of(cmd.template_id, ports)
    good, malformed = bulk.validate_rows(cmd.rows, template.fields)
    bulk_id = bulk.new_bulk_id()
    at = ports.clock.now()
    chunks = bulk.chunked(good)
    for start in range(0, len(chunks), bulk.CHUNKS_PER_UNIT):  # inert until the job and their events commit
        ahead = UnitOfWork()
        for number in range(start, min(start + bulk.CHUNKS_PER_UNIT, len(chunks))):
            ports.store.stage_chunk(ahead, Chunk(bulk_id, number, chunks[number]), at)
        ports.store.commit_ahead(ahead)
    doc = bulk.job_doc(bulk_id, template, len(cmd.rows), good, len(chunks), malformed, cmd.requested_by, at)
    uow = UnitOfWork()
    ports.store.stage_job(uow, bulk_id, doc, at)
    for number in range(len(chunks)):
        stage_event(uow, BulkChunkReady(bulk_id=bulk_id, chunk=number), subject=bulk_id, traceparent=traceparent,
                    now=at)  # fmt: skip
    return Staged(uow, {k: doc[k] for k in ("id", "template", "total", "valid", "malformed_count", "malformed")})


def bulk_progress(bulk_id: str, ports: NotificationPorts) -> dict[str, Any]:
    job = ports.store.fetch_job(bulk_id)
    if job is None:
        raise service.NotificationNotFoundError(f"no bulk job {bulk_id!r}")
    return bulk.progress_view(job, ports.store.fetch_progress(bulk_id))


def _fresh(docs: list[Doc], ports: NotificationPorts) -> list[Doc]:
    """Drop notifications already stored (a retried chunk or page) and repeats within the list."""
    unique = list({d["id"]: d for d in docs}.values())
    done = ports.store.fetch_existing([d["id"] for d in unique]) if unique else set()
    return [d for d in unique if d["id"] not in done]


def _commit_in_batches(docs: list[Doc], ports: NotificationPorts, traceparent: str | None, at: datetime) -> None:
    """Store notifications and their events ahead, TX_NOTIFICATIONS per transaction."""
    for start in range(0, len(docs), TX_NOTIFICATIONS):
        uow = UnitOfWork()
        for doc in docs[start : start + TX_NOTIFICATIONS]:
            _stage_new(uow, doc, ports, traceparent, at)
        ports.store.commit_ahead(uow)


def bulk_chunk(bulk_id: str, number: int, ports: NotificationPorts, traceparent: str | None) -> UnitOfWork:
    """Decide and enqueue one stored chunk of a bulk job; the chunk's counts commit with the last batch, so a
    redelivered chunk event finds it decided and stages nothing."""
    job = ports.store.fetch_job(bulk_id)
    chunk = ports.store.fetch_chunk(bulk_id, number)
    if job is None or chunk is None:
        raise ConflictError(f"bulk job {bulk_id} chunk {number} is not readable yet; retry")
    uow = UnitOfWork()
    if chunk.outcome is not None:
        return uow
    at = ports.clock.now()
    template = template_of(job["template"], ports)
    citizens = [r["recipient"]["citizen_id"] for r in chunk.rows if r["recipient"].get("citizen_id")]
    views = views_of(citizens, ports)
    docs, counts = [], {"accepted": 0, "not-allowed": 0, "invalid": 0}
    for row in chunk.rows:
        recipient = Recipient.model_validate(row["recipient"])
        req = NotificationRequest(
            notification_id=service.derived_id("bulk", bulk_id, str(row["row"])),
            template=template.id,
            recipient=recipient,
            personalisation=row["personalisation"],
            requested_by=job["requested_by"],
            reference=row.get("reference"),
            bulk_id=bulk_id,
        )
        doc = prepare(req, template, views.get(recipient.citizen_id) if recipient.citizen_id else None, at, ports)
        counts[doc["status"]] += 1
        docs.append(doc)
    todo = _fresh(docs, ports)
    last = todo[-(len(todo) % TX_NOTIFICATIONS or TX_NOTIFICATIONS) :] if todo else []
    _commit_in_batches(todo[: len(todo) - len(last)], ports, traceparent, at)
    for doc in last:
        _stage_new(uow, doc, ports, traceparent, at)
    ports.store.stage_chunk_outcome(uow, chunk, counts)
    return uow


# ---- batches of campaigns and surveys ----------------------------------------------------------------------------


def batch_requested(
    data: NotificationBatchRequested, source: str, ports: NotificationPorts, traceparent: str | None
) -> UnitOfWork:
    """A page of a campaign's or a survey's recipients, each decided at arrival (= send time) like a bulk row:
    consent, quiet hours and the blocklist by ``policies/notifications`` (memoised: people alike share one
    decision), rendered with the chosen channel's template. With a ``campaign_id`` the notification's id is
    the campaign's and the citizen's alone, so that whatever page or batch carries the person again (a
    redelivery, a dispatcher restarted after a crash) names the same notification, and ``_fresh`` (or the
    store's condition, in a race) keeps the first. Batches beyond one transaction are committed ahead; the last
    one commits with the event's dedupe record."""
    at = ports.clock.now()
    default, per_channel = _batch_templates(data, ports)
    message = Message(purpose=default.purpose)
    views = views_of([r.citizen_id for r in data.recipients], ports)
    docs = [
        batch_doc(data, source, recipient, default, per_channel, views[recipient.citizen_id], message, at, ports)
        for recipient in data.recipients
    ]
    todo = _fresh(docs, ports)
    last = todo[-(len(todo) % TX_NOTIFICATIONS or TX_NOTIFICATIONS) :] if todo else []
    _commit_in_batches(todo[: len(todo) - len(last)], ports, traceparent, at)
    uow = UnitOfWork()
    for doc in last:
        _stage_new(uow, doc, ports, traceparent, at)
    return uow


def _batch_templates(
    data: NotificationBatchRequested, ports: NotificationPorts
) -> tuple[templates.Template, dict[str, templates.Template]]:
    """The batch's templates (each read once), all of one purpose: else the batch is refused whole (a
    message must rest on one ground for every person, whatever channel reaches them)."""
    found: dict[str, templates.Template] = {}
    for template_id in dict.fromkeys([data.template, *data.channel_templates.values()]):
        try:
            found[template_id] = template_of(template_id, ports)
        except service.TemplateNotFoundError as exc:
            raise service.BatchRefusedError(f"the batch names no such template {template_id!r}",
                                            errors=exc.errors) from exc  # fmt: skip
    purposes = sorted({t.purpose for t in found.values()})
    if len(purposes) > 1:
        raise service.BatchRefusedError(
            f"the batch's templates have different purposes ({', '.join(purposes)}): one message, one purpose",
            errors=[{"field": "channel_templates", "message": f"templates of purpose {found[data.template].purpose}"}],
        )
    return found[data.template], {channel: found[t] for channel, t in data.channel_templates.items()}


def batch_id_of(data: NotificationBatchRequested, source: str, citizen_id: str) -> str:
    """Exactly once per person and campaign; else once per requester, page and person."""
    if data.campaign_id:
        return service.derived_id("campaign", data.campaign_id, citizen_id)
    return service.derived_id("batch", source, data.batch_id, citizen_id)


def batch_doc(
    data: NotificationBatchRequested, source: str, recipient: BatchRecipient, default: templates.Template,
    per_channel: dict[str, templates.Template], view: CitizenView, message: Message, at: datetime,
    ports: NotificationPorts,
) -> Doc:  # fmt: skip
    """One recipient of a batch: decided, then rendered with the template of the chosen channel. A recipient
    whose personalisation lacks a field of that template is not sent (``not-allowed``, reason
    ``personalisation-invalid``, the fields named): the rest of the page goes on. One personalisation serves
    every channel's template, so fields a template does not use are left out, not refused."""
    choice, address = decide(message, view, None, at, ports)
    template = per_channel.get(choice.channel or "", default)
    req = NotificationRequest(
        notification_id=batch_id_of(data, source, recipient.citizen_id),
        template=template.id,
        recipient=Recipient.model_construct(citizen_id=recipient.citizen_id),  # validated by BatchRecipient
        personalisation=recipient.personalisation,
        requested_by=source,
        reference=data.reference,
        campaign_id=data.campaign_id,
        batch_id=data.batch_id,
        tags=recipient.tags,
    )
    mine = {k: v for k, v in recipient.personalisation.items() if k in template.fields}  # one set for every channel
    try:
        values = templates.check_personalisation(template.fields, mine)
    except service.PersonalisationError as exc:
        fields = ", ".join(str(e["field"]) for e in exc.errors or [])
        refused = service.Choice(False, None, None, "personalisation-invalid", [f"{exc.detail} ({fields})"])
        return _rendered_doc(req, template, {}, refused, None, view, at)
    return _rendered_doc(req, template, values, choice, address, view, at)


# ---- providers' feedback, the blocklist, one-click unsubscribe -------------------------------------------------


FEEDBACK_STATUSES = frozenset({"delivered", "permanent-failure"})  # a provider tells after it took the message


@dataclass(frozen=True)
class Feedback:
    """What a provider told about a message it took: ``kind`` is ``delivered`` (nothing to announce) or one of
    ``NotificationEngaged``'s kinds."""

    provider: str
    notification_id: str
    kind: str
    bounce: str | None = None
    url: str | None = None


def feedback(fb: Feedback, ports: NotificationPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """Record the feedback on the notification (once per kind: a redelivered webhook changes nothing), count
    a bounce or a complaint against the address's blocklist state (``blocklist``), tell the citizen's
    projection when the address becomes blocked, and announce ``notification.engaged``."""
    doc, version = _sent(fb.notification_id, ports)
    answer: dict[str, Any] = {"notification_id": doc["id"], "kind": fb.kind, "recorded": False, "blocked": None}
    key = fb.kind if fb.kind != "bounced" else f"bounced-{fb.bounce}"
    engaged = dict(doc.get("engaged") or {})
    uow = UnitOfWork()
    if fb.kind == "delivered" or key in engaged:
        return Staged(uow, answer)
    at = ports.clock.now()
    engaged[key] = at.isoformat()
    ports.store.stage_status(uow, {**doc, "engaged": engaged}, version, expected_status=doc["status"])
    rule = blocklist.rule_of(fb.kind, fb.bounce)
    if rule is not None and doc["channel"] in ("email", "sms") and doc.get("address"):
        answer["blocked"] = _count_against_address(uow, doc, rule, at, ports)
    event = engaged_event(doc, fb.kind, at, bounce=fb.bounce, url=fb.url)
    stage_event(uow, event, subject=doc["id"], traceparent=traceparent, now=at)
    return Staged(uow, {**answer, "recorded": True})


def _sent(notification_id: str, ports: NotificationPorts) -> tuple[Doc, int]:
    found = ports.store.fetch_notification(notification_id)
    if found is None:
        raise service.NotificationNotFoundError(f"no notification {notification_id!r}")
    doc, version = found
    if not doc.get("channel") or doc.get("status") in ("not-allowed", service.ERASED_STATUS):
        raise service.FeedbackUnexpectedError(f"notification {notification_id!r} was not sent ({doc.get('status')})")
    if doc["status"] not in FEEDBACK_STATUSES:  # its delivery holds it (a claim on the version): do not race it
        raise ConflictError(f"notification {notification_id!r} is still being sent ({doc['status']}); retry")
    return doc, version


def _count_against_address(uow: UnitOfWork, doc: Doc, rule: str, at: datetime, ports: NotificationPorts) -> str | None:
    """The address's blocklist state after this feedback (by its blind index); a new block also goes into
    the citizen's projection, where every later decision reads it with no extra store call."""
    key = service.address_key(doc["channel"], doc["address"])
    state, version = ports.store.fetch_block(key)
    after = blocklist.record(state, rule, doc["id"], at)
    if after is None:
        return state.get("blocked")
    ports.store.stage_block(uow, key, after, version)
    citizen = doc["recipient"].get("citizen_id")
    new = blocklist.newly_blocked(state, after)
    if new and citizen:
        parts, profile_version = ports.store.fetch_profile(citizen)
        merged = service.merge_blocked(parts, key, str(after["blocked"]), at)
        if merged is not None:
            ports.store.stage_profile(uow, citizen, merged, profile_version)
    return after.get("blocked")


def engaged_event(
    doc: Doc, kind: str, at: datetime, bounce: str | None = None, url: str | None = None
) -> NotificationEngaged:
    return NotificationEngaged(
        notification_id=doc["id"],
        kind=kind,  # type: ignore[arg-type]  # one of EngagementKind, checked by the model
        bounce=bounce if kind == "bounced" else None,  # type: ignore[arg-type]
        channel=doc["channel"],
        template=doc["template"],
        purpose=doc["purpose"],
        campaign_id=doc.get("campaign_id"),
        tags=doc.get("tags") or {},
        url=url.split("?", 1)[0].split("#", 1)[0][:500] if url else None,
        at=at,
    )


def unsubscribe_target(token: str, ports: NotificationPorts) -> tuple[Doc, int]:
    """The notification a one-click link names, if it is one a person can unsubscribe from; else the link
    is not valid (404 ``link-invalid``; 410 ``link-expired`` after a year)."""
    claims = signed_links.verify(service.UNSUBSCRIBE_LINK, token, service.UNSUBSCRIBE_MAX_AGE)
    found = ports.store.fetch_notification(str(claims.get("n") or ""))
    if found is None:
        raise signed_links.LinkInvalidError("the message of this link is no longer kept")
    doc, version = found
    if doc.get("purpose") not in service.UNSUBSCRIBE_PURPOSES or not doc.get("channel"):
        raise signed_links.LinkInvalidError("this link unsubscribes from nothing")
    if not doc.get("recipient", {}).get("citizen_id"):
        raise signed_links.LinkInvalidError("this message went to no citizen")
    return doc, version


def unsubscribe_view(doc: Doc) -> dict[str, Any]:
    """What the confirmation page shows: which purpose, on which channel, and whether it is done. No name,
    no address: whoever holds the link (a mail scanner) learns nothing about the person."""
    done = "unsubscribed" in (doc.get("engaged") or {})
    return {"purpose": doc["purpose"], "channel": doc["channel"], "unsubscribed": done}


def unsubscribe(token: str, ports: NotificationPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """The one-click unsubscribe (RFC 8058): ask CON to withdraw the message's purpose on its channel for its
    citizen (``consent.change.requested``: CON records the withdrawal and its proof, and announces it as for any
    other change) and announce ``notification.engaged`` ``unsubscribed``. Twice is fine: the second time finds
    it done and asks nothing."""
    doc, version = unsubscribe_target(token, ports)
    if "unsubscribed" in (doc.get("engaged") or {}):
        return Staged(UnitOfWork(), unsubscribe_view(doc))
    at = ports.clock.now()
    citizen = str(doc["recipient"]["citizen_id"])
    parts, _ = ports.store.fetch_profile(citizen)
    consent = ((parts.get("consents") or {}).get("value") or {}).get(doc["purpose"])
    channels, text_version = service.withdrawal(consent, doc["channel"])
    done = {**doc, "engaged": {**(doc.get("engaged") or {}), "unsubscribed": at.isoformat()}}
    uow = UnitOfWork()
    ports.store.stage_status(uow, done, version, expected_status=doc["status"])
    request = ConsentChangeRequested(
        citizen_id=citizen,
        purpose=doc["purpose"],
        granted=False,
        channels=channels,
        text_version=text_version,
        language=doc.get("language") or "es",
        actor=Actor(kind="citizen", id=citizen),
        capture_channel=service.UNSUBSCRIBE_CAPTURE_CHANNEL,
        captured_at=at,
        document_ref=doc["id"],
    )
    stage_event(uow, request, subject=citizen, traceparent=traceparent, now=at, producer="pic-notification")
    stage_event(uow, engaged_event(doc, "unsubscribed", at), subject=doc["id"], traceparent=traceparent, now=at)
    return Staged(uow, unsubscribe_view(done))


# ---- alerts ------------------------------------------------------------------------------------------------------


def publish_alert(
    data: AlertPublished, source: str, event_id: str, ports: NotificationPorts, traceparent: str | None
) -> UnitOfWork:
    """Store the alert and start walking its subscribers, a page per event, groups in parallel."""
    if data.topic not in ports.terms.topics:
        raise ValidationError(
            f"unknown topic {data.topic!r}", errors=[{"field": "topic", "message": "a declared topic"}]
        )
    keys = service.alert_zone_keys(data.topic, data.zones)
    alert_id = service.derived_id("alert", source, event_id).replace("ntf-", "alr-")
    at = ports.clock.now()
    uow = UnitOfWork()
    doc = {**data.model_dump(mode="json"), "id": alert_id, "source": source, "keys": keys, "at": at.isoformat()}
    ports.store.stage_alert(uow, alert_id, doc, at)
    for group in service.alert_groups(keys):
        stage_event(uow, AlertPageReady(alert_id=alert_id, topic_zones=group), subject=alert_id,
                    traceparent=traceparent, now=at)  # fmt: skip
    return uow


def alert_page(data: AlertPageReady, ports: NotificationPorts, traceparent: str | None) -> UnitOfWork:
    """Fan one page of subscribers out (committed ahead, a retried page skips what exists) and stage the
    event of the next page, if any."""
    alert = ports.store.fetch_alert(data.alert_id)
    if alert is None:
        raise ConflictError(f"alert {data.alert_id} is not readable yet; retry")
    keys = data.topic_zones
    start = json.loads(data.cursor) if data.cursor else None
    citizen_ids, last_key = ports.store.fetch_subscribers(keys[data.index], start, ALERT_PAGE)
    at = ports.clock.now()
    message = Message(purpose=service.ALERT_PURPOSE, kind="alert", topic=alert["topic"], severity=alert["severity"])
    views = views_of(citizen_ids, ports)
    docs = [alert_doc(data.alert_id, alert, views[c], message, at, ports) for c in dict.fromkeys(citizen_ids)]
    _commit_in_batches(_fresh(docs, ports), ports, traceparent, at)
    uow = UnitOfWork()
    following: dict[str, Any] | None = None
    if last_key:
        following = {"index": data.index, "cursor": json.dumps(last_key), "page": data.page + 1}
    elif data.index + 1 < len(keys):
        following = {"index": data.index + 1, "cursor": None, "page": data.page + 1}
    if following:
        nxt = AlertPageReady(alert_id=data.alert_id, topic_zones=keys, **following)
        stage_event(uow, nxt, subject=data.alert_id, traceparent=traceparent)
    return uow


def alert_doc(
    alert_id: str, alert: dict[str, Any], view: CitizenView, message: Message, at: datetime, ports: NotificationPorts
) -> Doc:
    """The notification of one alert for one citizen: decided like any other, the alert's own text. A
    subscriber is known to PIC (they subscribed), so their in-app inbox is always a reachable channel."""
    view = view if view.known else replace(view, known=True)
    choice, address = decide(message, view, None, at, ports)
    language = view.language if alert["text"].get(view.language) else "es"
    title = (alert.get("title") or {}).get(language) or (alert.get("title") or {}).get("es") or "Alerta"
    rendered = templates.Rendered(language, title, alert["text"][language]) if choice.allowed else None
    req = NotificationRequest(
        notification_id=service.derived_id("alert", alert_id, view.citizen_id),
        template=f"alert-{alert['topic']}",
        recipient=Recipient.model_construct(citizen_id=view.citizen_id),  # an id from the index: valid
        personalisation={},
        requested_by=alert["source"],
    )
    doc = service.new_doc(req, _alert_template(req.template), choice, address, rendered, at)
    doc["alert_id"] = alert_id
    return doc


@lru_cache(maxsize=64)
def _alert_template(name: str) -> templates.Template:
    """Alerts carry their own text: a template-shaped stand-in names the topic in the notification."""
    return templates.Template(name, 1, templates.TemplateContent(service.ALERT_PURPOSE, {}, {}), ())


# ---- the citizen's side: inbox, push endpoint, what NOT knows ------------------------------------------------------


def inbox_of(citizen_id: str, ports: NotificationPorts) -> list[InboxMessage]:
    return ports.store.fetch_inbox(citizen_id, INBOX_PAGE)


def citizen_timeline(query: paging.ReadTimeline, ports: NotificationPorts) -> paging.TimelinePage:
    """The notifications sent to the citizen (to their id, on whatever channel was chosen), newest first. The
    ``by-recipient`` index orders a person's notifications by id, not by time: every one of them is read
    (one Query of the index, then BatchGetItem by the hundred) and the page is cut from them in time order."""
    key = service.recipient_key({"citizen_id": query.citizen_id})
    docs = [doc for doc, _ in ports.store.fetch_sent_to([key])]
    found = service.newest_first(docs, query.after, query.limit + 1)
    shown, cursor = paging.page(found, query.limit, service.position_of)
    return paging.TimelinePage([service.timeline_item(d) for d in shown], cursor)


def mark_read(citizen_id: str, notification_id: str, ports: NotificationPorts, traceparent: str | None) -> Staged[None]:
    """Marking read twice is fine: the first time counts (a concurrent first time wins the race, and this
    one, decided again, finds it read and stages nothing)."""
    message = ports.store.fetch_inbox_message(citizen_id, notification_id)
    if message is None:
        raise service.NotificationNotFoundError(f"no message {notification_id!r} in {citizen_id}'s inbox")
    uow = UnitOfWork()
    if message.read_at is None:
        ports.store.stage_read(uow, message, ports.clock.now())
    return Staged(uow, None)


def register_push_endpoint(
    citizen_id: str, endpoint: str, ports: NotificationPorts, traceparent: str | None
) -> Staged[str]:
    """The device's endpoint joins the citizen's profile, which the projections also write: a concurrent
    projection loses this one the race, and the entry point decides again on what it wrote."""
    return Staged(project_part(citizen_id, "push_endpoint", endpoint, ports.clock.now(), ports), endpoint)


@dataclass(frozen=True)
class Profile:
    """What NOT decides with about a citizen: the projection and the live subscriptions."""

    view: CitizenView
    subscriptions: list[Subscription]


def profile_of(citizen_id: str, ports: NotificationPorts) -> Profile:
    parts, _ = ports.store.fetch_profile(citizen_id)
    live = [s for s in ports.store.fetch_subscriptions(citizen_id) if s.live]
    return Profile(service.citizen_view(citizen_id, parts), live)


# ---- projections of CON, C360 and RGPD events ------------------------------------------------------------------


def _merged(citizen_id: str, ports: NotificationPorts, merge: Any) -> UnitOfWork:
    parts, version = ports.store.fetch_profile(citizen_id)
    merged = merge(parts)
    uow = UnitOfWork()
    if merged is not None:
        ports.store.stage_profile(uow, citizen_id, merged, version)
    return uow


def project_consent(
    citizen_id: str, purpose: str, snapshot: dict[str, Any], at: datetime, ports: NotificationPorts,
    erasure: bool = False,
) -> UnitOfWork:  # fmt: skip
    """``consent.changed``: the purpose's consent as of the event, unless a later one is already held or the
    person's erasure covers it; an erasure's own withdrawal (``erasure``) only removes an older consent."""
    return _merged(citizen_id, ports, lambda parts: service.merge_consent(parts, purpose, snapshot, at, erasure))


def project_contacts(
    citizen_id: str, email: str | None, phone: str | None, at: datetime, ports: NotificationPorts
) -> UnitOfWork:
    """``citizen.updated``/``citizen.unmerged``: C360's contact points as of the event (the latest wins; the
    blind index of every address is kept for access and erasure), unless the person's erasure covers it."""
    return _merged(citizen_id, ports, lambda parts: service.merge_contacts(parts, email, phone, at))


def project_part(citizen_id: str, name: str, value: Any, at: datetime, ports: NotificationPorts) -> UnitOfWork:
    """``preferences.changed``, ``rgpd.flags.changed``, a push endpoint: replace the part if newer (and, but
    for the flags an erasure keeps, not covered by the person's erasure)."""
    return _merged(citizen_id, ports, lambda parts: service.merge_part(parts, name, value, at))


def project_subscription(sub: Subscription, ports: NotificationPorts) -> UnitOfWork:
    """``subscription.changed``: created or deleted as of the event; an older event, or one the person's
    erasure covers, changes nothing."""
    held = ports.store.fetch_subscription(sub.citizen_id, sub.subscription_id)
    uow = UnitOfWork()
    if held is not None and held.changed_at >= sub.changed_at:
        return uow
    if service.erased_before(ports.store.fetch_profile(sub.citizen_id)[0], sub.changed_at, "consent"):
        return uow
    ports.store.stage_subscription(uow, sub)
    return uow


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: NotificationPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request, in the same unit of work as the erasure it reports."""
    from functions.core import rights as core_rights
    from functions.notification import rights

    uow = UnitOfWork()
    answered = rights.answer(data, uow, ports.store, ports.policy, ports.terms, ports.clock.now())
    core_rights.stage_answer(uow, answered, traceparent)
    return uow


def sweep_erased(
    request_id: str, citizen_id: str, answered: dict[str, datetime], ports: NotificationPorts
) -> UnitOfWork:
    """``rgpd.request.completed`` of an erasure: drop what was projected from a domain between this domain's
    erasure and that domain's (ADR 0012)."""
    from functions.notification import rights

    return rights.sweep(request_id, citizen_id, answered, ports.store)
