"""Notifications and alerts rules, pure: no Flask, no boto3, no pynamodb.

What PIC decides for each message, and how a notification moves through its lifecycle:

- the recipient is a citizen (contact points, channels and quiet hours, consents and RGPD flags from the
  projections this function keeps of C360's and CON's events) or an explicit e-mail/phone, validated with
  ``email-validator`` and ``phonenumbers``; every notification carries a ``recipient_key`` (the citizen id,
  or a blind index of the address) so that an access or erasure request finds what was sent to the person;
- ``policies/notifications`` is asked once per candidate channel, in the citizen's order of preference; the
  first allowed channel wins, else the first one quiet hours defer, else the notification is ``not-allowed``
  with a machine ``reason`` (``no-channel`` when no candidate can be reached) and the policy's sentences;
- the lifecycle requested → accepted → sending → delivered | temporary-failure | permanent-failure, with
  ``not-allowed`` straight from requested; every change is one event, and ``fold`` rebuilds the status from
  them in any order of arrival.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from events.notification import Recipient
from functions.core import contact
from functions.core.blind_index import blind_index
from functions.core.channel_choice import (  # one decision for NOT and whoever predicts it (a campaign's count)
    CHANNELS as CHANNELS,
)
from functions.core.channel_choice import DEFAULT_ORDER as DEFAULT_ORDER
from functions.core.channel_choice import Choice as Choice
from functions.core.channel_choice import Message as Message
from functions.core.channel_choice import candidates_of
from functions.core.channel_choice import choose as choose
from functions.core.channel_choice import policy_input as policy_input
from functions.core.channel_choice import quiet_hours_end as quiet_hours_end
from functions.core.errors import ConflictError, NotFoundError, PicError, ValidationError
from functions.core.errors import PayloadTooLargeError as PayloadTooLargeError
from functions.core.madrid import find_zone, zones
from functions.core.paging import Position
from functions.core.terms import Terms

if TYPE_CHECKING:  # the port names the kernel's unit of work and the templates; this module stays pure
    from functions.core.store import UnitOfWork
    from functions.notification.templates import Rendered, Template

ALERT_PURPOSE = "alerts"
RETRY_LIMIT = {"email": 5, "sms": 4, "push": 3, "inapp": 3}
TERMINAL = frozenset({"delivered", "permanent-failure", "not-allowed"})
NAMESPACE = uuid.UUID("6f1c3f0e-8a41-4c2e-9a57-5e7d2b0c9d11")
_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "not-allowed"}),
    "accepted": frozenset({"sending"}),
    "sending": frozenset({"delivered", "temporary-failure", "permanent-failure"}),
    "temporary-failure": frozenset({"sending", "permanent-failure"}),
}
_RANK = {s: i for i, s in enumerate(("requested", "accepted", "not-allowed", "sending", "temporary-failure"))}


class RecipientError(ValidationError):
    slug = "recipient-invalid"
    title = "The recipient is not valid"


class TemplateError(ValidationError):
    """A template that cannot be stored (bad syntax, a field that is not a plain name, a missing language)."""

    slug = "template-invalid"
    title = "The template is not valid"


class PersonalisationError(ValidationError):
    """Personalisation that does not fit the template: each missing or unknown field is named."""

    slug = "personalisation-invalid"
    title = "The personalisation does not fit the template"


class TemplateNotFoundError(PicError):
    status, slug, title = 422, "template-unknown", "No such template"


class TemplateReservedError(PicError):
    """Templates under ``pic-`` are PIC's own, shipped with the code that fills them in."""

    status, slug, title = 409, "template-reserved", "This template is PIC's own"


class NotificationNotFoundError(NotFoundError):
    slug, title = "notification-not-found", "No such notification"


class BatchRefusedError(PicError):
    """A batch NOT cannot send as asked (templates of different purposes): refused whole, so the broker
    dead-letters it with this reason (answered 400 to the broker)."""

    status, slug, title = 422, "batch-refused", "The batch cannot be sent as asked"


class FeedbackSignatureError(PicError):
    """A provider's feedback without a valid, recent ``X-PIC-Signature`` of its body."""

    status, slug, title = 403, "feedback-signature-invalid", "The feedback is not signed with the provider's key"


class FeedbackUnexpectedError(PicError):
    """Feedback about a notification that never left PIC (not allowed, or erased)."""

    status, slug, title = 422, "feedback-unexpected", "This notification was not sent"


class IllegalTransitionError(ValueError):
    """A status change the lifecycle does not allow (a bug, or an event from the past)."""


class DeliveryExhaustedError(PicError):
    """The channel's retry limit was reached: answered to the broker as 422, so it dead-letters the event."""

    status, slug, title = 422, "delivery-exhausted", "Delivery failed after the channel's retries"


# ---- recipients ------------------------------------------------------------------------------------


def normalise_email(raw: str) -> str:
    """The address as the provider will get it (``functions.core.contact``); ``RecipientError`` if it cannot
    be one."""
    try:
        return contact.email(raw)
    except contact.ContactError as exc:
        raise RecipientError(f"{raw!r} is {exc}", errors=[{"field": "recipient.email", "message": str(exc)}]) from exc


def normalise_phone(raw: str) -> str:
    """E.164 of a mobile that can take SMS (``functions.core.contact``); ``RecipientError`` otherwise."""
    try:
        number = contact.phone(raw)
    except contact.ContactError as exc:
        raise RecipientError(f"{raw!r} is {exc}", errors=[{"field": "recipient.phone", "message": str(exc)}]) from exc
    if not contact.is_mobile(number):
        raise RecipientError(
            f"{raw!r} is not a valid mobile number for SMS",
            errors=[{"field": "recipient.phone", "message": "a valid mobile number, e.g. +34 612 345 678"}],
        )
    return number


usable_email = contact.usable_email
usable_phone = contact.usable_phone


def address_key(channel: str, address: str) -> str:
    """The blind index (``functions.core.blind_index``) of an address already normalised: what notifications
    to it are found by, without the address in any key or index. E-mail is compared case-insensitively."""
    if channel == "email":
        return f"email#{blind_index('email', address.casefold())}"
    return f"phone#{blind_index('phone', address)}"


def recipient_key(recipient: dict[str, Any]) -> str:
    """Whom a notification went to, as the by-recipient index finds it: the citizen id, else the address."""
    if recipient.get("citizen_id"):
        return f"cit#{recipient['citizen_id']}"
    if recipient.get("email"):
        return address_key("email", normalise_email(str(recipient["email"])))
    return address_key("sms", normalise_phone(str(recipient["phone"])))


# ---- what the notification service knows about a citizen ------------------------------------------


@dataclass(frozen=True)
class CitizenView:
    """A citizen as the projections hold them: consents, preferences, RGPD flags, contact points."""

    citizen_id: str
    known: bool = False
    consents: dict[str, dict[str, Any]] = field(default_factory=dict)
    language: str = "es"
    channels: tuple[str, ...] = ()
    quiet_hours: dict[str, str] | None = None
    restricted: bool = False
    objections: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    push_endpoint: str | None = None
    blocked: dict[str, str] = field(default_factory=dict)  # channel -> the blocklist rule on its current address

    def address(self, channel: str) -> str | None:
        """Where a message on ``channel`` goes; the inbox needs only a citizen known to PIC."""
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.phone
        if channel == "push":
            return self.push_endpoint
        return self.citizen_id if self.known else None

    def candidates(self) -> tuple[str, ...]:
        """The channels to try, most preferred first: the citizen's own order, else the default one."""
        return candidates_of(self.channels)

    def reachable(self) -> list[str]:
        return [c for c in CHANNELS if self.address(c)]


# ---- projections --------------------------------------------------------------------------------------


# The erasure marker's part: {"value": {"request_id", "sources": {domain: when it erased}}, "at": when this
# domain erased}; ``sources`` arrive with ``rgpd.request.completed`` (ADR 0012).
ERASED = "erased"
KEPT_PARTS = frozenset({"flags"})  # what an erasure keeps: its events apply whenever they arrive
PART_DOMAINS = {"consents": "consent", "preferences": "consent", "contacts": "citizen"}  # whose copies they are


def erased_at(parts: dict[str, Any]) -> datetime | None:
    """When the person's erasure was done here (ADR 0012), if it was."""
    marker = parts.get(ERASED)
    return datetime.fromisoformat(marker["at"]) if marker else None


def erased_before(parts: dict[str, Any], at: datetime, domain: str | None = None) -> bool:
    """Whether a fact as of ``at`` (a copy of ``domain``'s data) is one the person's erasure erased: it
    happened before this domain erased, or before ``domain`` did. Its event, late, retried or replayed, must
    not re-create it."""
    erased = erased_at(parts)
    if erased is None:
        return False
    sources = parts[ERASED]["value"].get("sources") or {}
    until = max(erased, datetime.fromisoformat(sources[domain])) if domain in sources else erased
    return at <= until


def swept(parts: dict[str, Any], answered: dict[str, datetime]) -> dict[str, Any]:
    """The projection once the erasure completed (``answered``: when each domain erased): the copies made of a
    domain's data between this domain's erasure and that domain's are dropped, and the marker keeps the
    times, so that such an event arriving later is dropped too."""
    sources = {domain: at.isoformat() for domain, at in sorted(answered.items())}
    marker = parts[ERASED]
    marked = {**parts, ERASED: {**marker, "value": {**marker["value"], "sources": sources}}}
    kept: dict[str, Any] = {}
    for name, part in marked.items():
        domain = PART_DOMAINS.get(name)
        if name == "consents":
            at = {
                p: when
                for p, when in part["at"].items()
                if not erased_before(marked, datetime.fromisoformat(when), domain)
            }
            if at:
                kept[name] = {"value": {p: part["value"][p] for p in at}, "at": at}
        elif domain is None or not erased_before(marked, datetime.fromisoformat(part["at"]), domain):
            kept[name] = part
    return kept


def merge_part(parts: dict[str, Any], name: str, value: Any, at: datetime) -> dict[str, Any] | None:
    """The projection with part ``name`` replaced by ``value`` as of ``at``; ``None`` when the projection
    already holds a newer (or the same) change, so that redelivered and out-of-order events change nothing,
    or when the person's erasure covers it."""
    held = parts.get(name)
    if held and held.get("at") and datetime.fromisoformat(held["at"]) >= at:
        return None
    if name not in KEPT_PARTS and erased_before(parts, at, PART_DOMAINS.get(name)):
        return None
    return {**parts, name: {"value": value, "at": at.isoformat()}}


def merge_consent(
    parts: dict[str, Any], purpose: str, snapshot: dict[str, Any], at: datetime, erasure: bool = False
) -> dict[str, Any] | None:
    """The projection with one purpose's consent as of ``at`` (per purpose: the latest change wins). An
    erasure's own withdrawal (``erasure``) only removes an older consent: it never creates one."""
    consents = parts.get("consents") or {"value": {}, "at": {}}
    held = consents["at"].get(purpose)
    if (held and datetime.fromisoformat(held) >= at) or erased_before(parts, at, "consent"):
        return None
    if erasure:
        if held is None:
            return None
        left = {"value": _without(consents["value"], purpose), "at": _without(consents["at"], purpose)}
        return {**_without(parts, "consents"), **({"consents": left} if left["value"] else {})}
    merged = {"value": {**consents["value"], purpose: snapshot}, "at": {**consents["at"], purpose: at.isoformat()}}
    return {**parts, "consents": merged}


def merge_contacts(parts: dict[str, Any], email: Any, phone: Any, at: datetime) -> dict[str, Any] | None:
    """The projection of C360's contact points as of ``at`` (the latest change wins), and the blind index
    of every address the person ever had here (``keys``, kept across changes so that an access or erasure
    request finds what was sent to their former addresses too); ``None`` when nothing changes."""
    if erased_before(parts, at, "citizen"):
        return None
    held = parts.get("contacts") or {"value": {"email": None, "phone": None, "keys": []}, "at": None}
    current = {"email": usable_email(email), "phone": usable_phone(phone)}
    found = [address_key(c, a) for c, a in (("email", current["email"]), ("sms", current["phone"])) if a]
    keys = sorted({*held["value"]["keys"], *found})
    newer = held["at"] is None or datetime.fromisoformat(held["at"]) < at
    if not newer and keys == held["value"]["keys"]:
        return None
    value = {**(current if newer else held["value"]), "keys": keys}
    return {**parts, "contacts": {"value": value, "at": at.isoformat() if newer else held["at"]}}


def marked_erased(kept: dict[str, Any], request_id: str, at: datetime) -> dict[str, Any]:
    """The projection as an erasure leaves it: the parts it keeps (an earlier marker among them) and this
    erasure's marker (``at``: when it was done), unless a later erasure's is held."""
    held = erased_at(kept)
    if held is not None and held >= at:
        return kept
    return {**kept, ERASED: {"value": {"request_id": request_id}, "at": at.isoformat()}}


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


# ---- ids ---------------------------------------------------------------------------------------------


def new_notification_id() -> str:
    return f"ntf-{uuid.uuid4()}"


def derived_id(*parts: str) -> str:
    """A notification id fixed by what caused it (an event, a bulk row, an alert and a citizen), so that
    doing the same work twice names the same notification and the store's condition refuses the copy."""
    return f"ntf-{uuid.uuid5(NAMESPACE, '#'.join(parts))}"


# ---- zones --------------------------------------------------------------------------------------------


def alert_zone_keys(topic: str, codes: Iterable[str]) -> list[str]:
    """Every ``topic#zone`` whose subscribers an alert reaches: a district alert reaches the district's
    subscribers and those of each of its barrios; a barrio alert, that barrio's and its district's.
    Unknown codes raise ``ValidationError`` naming them."""
    unknown = [c for c in codes if find_zone(c) is None]
    if unknown:
        raise ValidationError(
            f"unknown zone code(s) {', '.join(unknown)}",
            errors=[{"field": "zones", "message": f"not a district or barrio of Madrid: {', '.join(unknown)}"}],
        )
    reached: set[str] = set()
    for code in codes:
        zone = find_zone(code)
        assert zone is not None
        reached.add(zone.code)
        if zone.kind == "district":
            reached |= {z.code for z in zones().values() if z.kind == "barrio" and z.district == zone.code}
        else:
            reached.add(zone.district)
    return [f"{topic}#{code}" for code in sorted(reached)]


# ---- lifecycle ----------------------------------------------------------------------------------------


def check_transition(current: str, new: str) -> None:
    if new not in _TRANSITIONS.get(current, frozenset()):
        raise IllegalTransitionError(f"a notification cannot go from {current} to {new}")


@dataclass(frozen=True)
class StatusEvent:
    status: str
    attempt: int
    at: datetime


def fold(events: Iterable[StatusEvent]) -> str:
    """The status a set of lifecycle events leads to, whatever order they arrived in (a callback receiver
    or a projection may see them out of order): a terminal status wins; else the latest attempt's furthest
    step."""
    ordered = sorted(events, key=lambda e: (e.status in TERMINAL, e.attempt, _RANK.get(e.status, 99), e.at))
    return ordered[-1].status if ordered else "requested"


def retry_delay(attempt: int, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential backoff before attempt ``attempt`` (1-based), capped: 0.5 s, 1 s, 2 s, ..."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def retries_left(channel: str, attempt: int) -> bool:
    return attempt < RETRY_LIMIT.get(channel, 3)


# ---- rate limiting -------------------------------------------------------------------------------------


class TokenBucket:
    """A token bucket per provider: ``rate`` tokens a second, bursts up to ``capacity``. Thread-safe.

    One bucket per process; with N replicas, configure each with the provider's limit divided by N.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate, self.capacity, self._clock = rate, capacity, clock
        self._tokens = capacity
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def try_take(self) -> float:
        """Take a token and answer 0.0, or answer how many seconds until one is available (taking none)."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def take(self, max_wait: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Wait for a token up to ``max_wait`` seconds; ``ConflictError`` (retried by the broker) beyond."""
        waited = 0.0
        while (wait := self.try_take()) > 0:
            if waited + wait > max_wait:
                raise ConflictError("the provider's rate limit is reached; retry later", headers={"Retry-After": "1"})
            sleep(wait)
            waited += wait


# ---- signed callbacks ------------------------------------------------------------------------------------


def callback_host_allowed(url: str, allowed: str) -> bool:
    """Whether ``url``'s host is in the allow-list ``allowed`` (``PIC_CALLBACK_HOSTS``): an exact host, or
    ``*.suffix`` for the hosts under it. PIC POSTs to the URL from inside the cluster, so an unlisted host
    would let whoever can request a notification make PIC call any internal address (SSRF, OWASP A10)."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # not a URL at all (``https://[x``): no host to allow
        return False
    if not host:
        return False
    for entry in (e.strip().lower().rstrip(".") for e in allowed.split(",")):
        if entry.startswith("*.") and host.endswith(entry[1:]) and host != entry[2:]:
            return True
        if entry and host == entry:
            return True
    return False


def check_callback_url(url: str | None, allowed: str) -> None:
    """A 422 naming the field for a callback URL outside the allow-list (nothing is stored or sent)."""
    if url is not None and not callback_host_allowed(url, allowed):
        raise ValidationError(
            "callback_url's host is not among the hosts PIC may call back (PIC_CALLBACK_HOSTS)",
            errors=[{"field": "callback_url", "message": "host not allowed"}],
        )


# ---- what a use case works on: commands, records, the notification document ---------------------------

RETENTION = timedelta(days=400)  # a year of proof that a notice was sent, then TTL
SENDING_LEASE = timedelta(seconds=120)  # a claim older than this (its worker died) may be taken again
ERASED_STATUS = "erased"  # a notification erased while in flight: nothing left to deliver


def expiry(now: datetime) -> int:
    """The TTL (epoch seconds) of what is stored at ``now``."""
    return int((now + RETENTION).timestamp())


@dataclass(frozen=True)
class NotificationRequest:
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
    campaign_id: str | None = None
    batch_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


# ---- one-click unsubscribe (RFC 8058) ------------------------------------------------------------------

UNSUBSCRIBE_PURPOSES = frozenset({"campaigns", "surveys"})  # the purposes resting on consent a person can drop
UNSUBSCRIBE_LINK = "unsubscribe"  # the signed link's purpose (functions/core/signed_links.py)
UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600
UNSUBSCRIBE_CAPTURE_CHANNEL = "unsubscribe-link"  # how CON's proof records where the withdrawal came from
FILLED_BY_PIC = ("unsubscribe_url",)  # personalisation fields NOT fills itself, never the requester


def unsubscribe_url(api_url: str, token: str) -> str:
    return f"{api_url.rstrip('/')}/app/unsubscribe/{token}"


def unsubscribe_api_url(api_url: str, token: str) -> str:
    """Where a mail client's one-click POST goes (``List-Unsubscribe``): the API route itself."""
    return f"{api_url.rstrip('/')}/v1/unsubscribe/{token}"


def withdrawal(consent: dict[str, Any] | None, channel: str) -> tuple[list[str], str]:
    """What CON is asked to record for an unsubscribe on ``channel``: the channel withdrawn (CON keeps the
    others) and the text version the consent was given under (CON checks no text for a withdrawal)."""
    text_version = str((consent or {}).get("text_version") or "unsubscribe-link")
    return [channel], text_version


@dataclass(frozen=True)
class Subscription:
    """A projected alert subscription (``subscription.changed``), live or removed as of ``changed_at``."""

    citizen_id: str
    subscription_id: str
    topic: str
    zone: str
    live: bool
    changed_at: datetime


@dataclass(frozen=True)
class InboxMessage:
    """An in-app message as the citizen's inbox holds it."""

    citizen_id: str
    notification_id: str
    subject: str
    body: str
    language: str
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True)
class Chunk:
    """A stored chunk of a bulk job's rows; ``outcome`` (counts) once decided."""

    bulk_id: str
    number: int
    rows: list[dict[str, Any]]
    outcome: dict[str, int] | None = None


Doc = dict[str, Any]  # a notification as stored (id, status, recipient, channel, rendered message, history)


def new_doc(
    req: NotificationRequest, template: Template, choice: Choice, address: str | None, rendered: Rendered | None,
    at: datetime,
) -> Doc:  # fmt: skip
    """A decided notification: accepted (maybe deferred) or not-allowed, with its first two history steps."""
    status = "accepted" if choice.allowed else "not-allowed"
    when = at.isoformat()
    entry: dict[str, Any] = {"status": status, "at": when, "channel": choice.channel}
    if choice.reason:
        entry["reason"] = choice.reason
    recipient = req.recipient.model_dump(exclude_none=True)
    return {
        "id": req.notification_id,
        "status": status,
        "template": template.id,
        "template_version": template.version,
        "purpose": template.purpose,
        "recipient": recipient,
        "recipient_key": recipient_key(recipient),
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
        "campaign_id": req.campaign_id,
        "batch_id": req.batch_id,
        "tags": dict(req.tags),
        "created_at": when,
        "updated_at": when,
        "history": [{"status": "requested", "at": when}, entry],
        "expires_at": expiry(at),
    }


def moved(doc: Doc, status: str, at: datetime, **extra: Any) -> Doc:
    """``doc`` after a lifecycle step (checked), with its history entry."""
    entry = {"status": status, "at": at.isoformat(), "attempt": extra.get("attempt", doc.get("attempt", 0))}
    if extra.get("reason"):
        entry["reason"] = extra["reason"]
    check_transition(doc["status"], status)
    return {**doc, **extra, "status": status, "updated_at": at.isoformat(), "history": [*doc["history"], entry]}


def deliverable(doc: Doc, at: datetime, due: bool) -> bool:
    """May a delivery claim ``doc`` now: accepted and not deferred (or ``due``: its quiet hours are over), a
    temporary failure, or a claim whose worker died (older than ``SENDING_LEASE``)."""
    if doc["status"] == "accepted":
        after = doc.get("deliver_after")
        return due or not after or datetime.fromisoformat(after) <= at
    if doc["status"] == "temporary-failure":
        return True
    if doc["status"] == "sending":
        claimed = str(doc.get("claimed_at") or "")
        return bool(claimed) and datetime.fromisoformat(claimed) + SENDING_LEASE < at
    return False


def failure_outcome(channel: str, attempt: int, permanent: bool) -> tuple[str, str]:
    """The status and reason after a failed attempt: temporary while the channel has retries left."""
    if not permanent and retries_left(channel, attempt):
        return "temporary-failure", "provider-temporary"
    return "permanent-failure", "provider-refused" if permanent else "retries-exhausted"


def public_view(doc: Doc) -> dict[str, Any]:
    """The notification as its requester sees it: status, channel, why, history; no message body."""
    keys = (
        "id", "status", "reason", "reasons", "legal_basis", "channel", "template", "template_version", "purpose",
        "deliver_after", "attempt", "reference", "bulk_id", "alert_id", "campaign_id", "batch_id", "tags", "engaged",
        "created_at", "updated_at", "history",
    )  # fmt: skip
    return {k: doc.get(k) for k in keys}


def sent_view(doc: Doc) -> dict[str, Any]:
    """A notification sent to the person, as their access request shows it."""
    keys = ("id", "status", "purpose", "template", "channel", "address", "subject", "body", "language", "created_at",
            "updated_at", "history")  # fmt: skip
    return {k: doc.get(k) for k in keys}


def timeline_item(doc: Doc) -> dict[str, Any]:
    """A notification in the citizen's timeline: what template, on which channel, in which status, for what
    purpose and when; no message, no address."""
    return {
        "id": doc["id"],
        "template_id": doc.get("template"),
        "channel": doc.get("channel"),
        "status": doc.get("status"),
        "purpose": doc.get("purpose"),
        "created_at": doc.get("created_at"),
        "updated_at": doc.get("updated_at"),
    }


def position_of(doc: Doc) -> Position:
    """Where a notification sits in its citizen's timeline: when it was created, then its id."""
    return Position(datetime.fromisoformat(str(doc["created_at"])), str(doc["id"]))


def newest_first(docs: Iterable[Doc], after: Position | None, limit: int) -> list[Doc]:
    """Up to ``limit`` notifications, newest first, strictly after ``after`` (a tombstone of an erased one,
    without a creation time, is left out)."""
    dated = sorted((d for d in docs if d.get("created_at")), key=position_of, reverse=True)
    return [d for d in dated if after is None or position_of(d) < after][:limit]


ALERT_GROUPS = 90
ALERT_GROUPS = 90


def alert_groups(keys: list[str]) -> list[list[str]]:
    """Split an alert's index keys into at most ALERT_GROUPS groups walked in parallel."""
    groups = min(len(keys), ALERT_GROUPS)
    return [keys[i::groups] for i in range(groups)]


def recipient_keys(citizen_id: str, parts: dict[str, Any]) -> list[str]:
    """Whom the person was, to the notifications sent: their citizen id and every address C360 announced for
    them (the blind indexes the contact projection keeps)."""
    contacts = (parts.get("contacts") or {}).get("value") or {}
    return [f"cit#{citizen_id}", *contacts.get("keys", [])]


def direct_address(recipient: Recipient) -> tuple[str, str] | None:
    """The channel and normalised address of a notification to an explicit address (None: to a citizen)."""
    if recipient.email:
        return "email", normalise_email(recipient.email)
    if recipient.phone:
        return "sms", normalise_phone(recipient.phone)
    return None


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
        email=_stored(contacts.get("email")),
        phone=_stored(contacts.get("phone")),
        push_endpoint=value.get("push_endpoint"),
        blocked=blocked_channels(value.get("blocked"), _stored(contacts.get("email")), _stored(contacts.get("phone"))),
    )


def blocked_channels(blocked: dict[str, str] | None, email: str | None, phone: str | None) -> dict[str, str]:
    """Per channel, the blocklist rule that blocks the citizen's CURRENT address there (a block on a former
    address does not follow the person to a new one). Only hashed when the person has a block at all."""
    if not blocked:
        return {}
    found = {}
    for channel, address in (("email", email), ("sms", phone)):
        if address and (rule := blocked.get(address_key(channel, address))):
            found[channel] = rule
    return found


def merge_blocked(parts: dict[str, Any], key: str, rule: str, at: datetime) -> dict[str, Any] | None:
    """The projection with the address ``key`` blocked by ``rule`` (``None`` when it already says so): the
    decision of every later message to the person reads it with the rest of their profile, no extra read."""
    held = dict((parts.get("blocked") or {}).get("value") or {})
    if held.get(key) == rule:
        return None
    held[key] = rule
    return {**parts, "blocked": {"value": held, "at": at.isoformat()}}


def _stored(address: Any) -> str | None:
    """A contact point as ``merge_contacts`` stored it, already normalised on the way in: validating it again
    on every message cost a fan-out a fifth of its CPU (docs/benchmarks.md, "CPU per operation")."""
    return address if isinstance(address, str) and address else None


def consents_view(view: CitizenView, terms: Terms) -> dict[str, dict[str, Any]]:
    """The projected consents as the profile shows them. A purpose that needs no consent (a legal obligation:
    service notifications) shows its legal basis and the channels it goes by (the citizen's chosen ones, else
    their order of preference), not a ``granted: false`` that refuses nothing."""
    shown: dict[str, dict[str, Any]] = {}
    for purpose, snapshot in view.consents.items():
        declared = terms.purposes.get(purpose)
        if declared is None or declared.requires_consent:
            shown[purpose] = snapshot
            continue
        channels = [c for c in snapshot.get("channels") or () if c in CHANNELS] or list(view.candidates())
        shown[purpose] = {"requires_consent": False, "legal_basis": declared.legal_basis, "channels": channels}
    return shown


# ---- the port ------------------------------------------------------------------------------------------


class NotificationStore(Protocol):
    """What the notification use cases read and write; ``storage.DynamoNotificationStore`` is the real one,
    ``tests/unit/notification/fakes.py`` an in-memory one. Reads are consistent unless they say otherwise."""

    def commit_ahead(self, uow: UnitOfWork) -> None:
        """Make ``uow`` durable before the use case's own unit: a delivery's claim before the message goes
        out, the batches of a fan-out beyond one transaction, a bulk job's chunks before the job."""

    # templates
    def fetch_template(self, template_id: str, version: int | None = None) -> tuple[Template, int] | None: ...
    def fetch_template_and_profile(
        self, template_id: str, citizen_id: str | None
    ) -> tuple[tuple[Template, int] | None, dict[str, Any]]:
        """A notification's template and its recipient's projection (``{}`` without a citizen), in one read."""

    def fetch_template_versions(self, template_id: str) -> list[Template]: ...
    def stage_template(self, uow: UnitOfWork, template: Template, current: int | None, by: str, at: datetime) -> None:
        """The new version and the ``current`` pointer, conditioned on ``current`` (the pointer's version read)."""

    # notifications
    def fetch_notification(self, notification_id: str) -> tuple[Doc, int] | None: ...
    def fetch_existing(self, notification_ids: Sequence[str]) -> set[str]: ...
    def fetch_sent_to(self, recipient_keys: Sequence[str]) -> list[tuple[Doc, int]]:
        """The notifications sent to these recipient keys (through an eventually consistent index)."""

    def fetch_purposes(self, notification_ids: Sequence[str]) -> dict[str, str]: ...
    def stage_notification(self, uow: UnitOfWork, doc: Doc, at: datetime) -> None:
        """A new notification (refused if it exists), with its release marker when quiet hours defer it."""

    def stage_status(self, uow: UnitOfWork, doc: Doc, version: int, expected_status: str) -> None: ...
    def stage_erase_notification(self, uow: UnitOfWork, doc: Doc, version: int, at: datetime) -> None: ...

    # the citizen projection
    def fetch_profile(self, citizen_id: str) -> tuple[dict[str, Any], int | None]: ...
    def fetch_profiles(self, citizen_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def stage_profile(self, uow: UnitOfWork, citizen_id: str, parts: dict[str, Any], version: int | None) -> None: ...
    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None: ...
    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        """Every projected subscription of the citizen, removed ones (``live`` false) included."""

    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None: ...
    def stage_delete_subscription(self, uow: UnitOfWork, sub: Subscription) -> None: ...
    def fetch_subscribers(self, topic_zone: str, cursor: Any, limit: int) -> tuple[list[str], Any]: ...

    # the inbox
    def fetch_inbox(self, citizen_id: str, limit: int) -> list[InboxMessage]: ...
    def fetch_inbox_message(self, citizen_id: str, notification_id: str) -> InboxMessage | None: ...
    def stage_inbox_message(self, uow: UnitOfWork, message: InboxMessage) -> None: ...
    def stage_read(self, uow: UnitOfWork, message: InboxMessage, at: datetime) -> None: ...
    def stage_delete_message(self, uow: UnitOfWork, message: InboxMessage) -> None: ...

    # bulk jobs and alerts
    def fetch_job(self, bulk_id: str) -> dict[str, Any] | None: ...
    def fetch_chunk(self, bulk_id: str, number: int) -> Chunk | None: ...
    def fetch_progress(self, bulk_id: str) -> dict[str, int]: ...
    def stage_job(self, uow: UnitOfWork, bulk_id: str, doc: dict[str, Any], at: datetime) -> None: ...
    def stage_chunk(self, uow: UnitOfWork, chunk: Chunk, at: datetime) -> None: ...
    def stage_chunk_outcome(self, uow: UnitOfWork, chunk: Chunk, counts: dict[str, int]) -> None: ...
    def stage_count(self, uow: UnitOfWork, bulk_id: str, notification_id: str, outcome: str) -> None: ...
    def fetch_alert(self, alert_id: str) -> dict[str, Any] | None: ...
    def stage_alert(self, uow: UnitOfWork, alert_id: str, doc: dict[str, Any], at: datetime) -> None: ...

    # the blocklist, per address (its blind index)
    def fetch_block(self, key: str) -> tuple[dict[str, Any], int | None]: ...
    def stage_block(self, uow: UnitOfWork, key: str, state: dict[str, Any], version: int | None) -> None: ...
