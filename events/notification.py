"""Notifications and alerts (NOT) events.

Internal systems ask PIC to notify a citizen (``notification.requested``); civil protection, mobility and
the other areas publish alerts (``alert.published``) that fan out to the citizens subscribed to their topic
and zone. PIC announces every step of a notification's lifecycle as ``notification.<status>.v1``:
accepted -> sending -> delivered | temporary-failure | permanent-failure, or not-allowed (with the reason).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from events.base import EventData, WebUrl

TEMPLATE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
Channel = Literal["email", "sms", "push", "inapp"]
Severity = Literal["minor", "moderate", "severe", "extreme"]  # CAP 1.2 <severity> (OASIS), as AEMET/ES-Alert use
Status = Literal[
    "requested", "accepted", "sending", "delivered", "temporary-failure", "permanent-failure", "not-allowed"
]


class Recipient(EventData):
    """Exactly one of: a citizen (contact points from C360 and their preferences), or an explicit address."""

    citizen_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _exactly_one(self) -> Recipient:
        given = [name for name in ("citizen_id", "email", "phone") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of citizen_id, email or phone")
        return self


class NotificationRequested(EventData):
    """An internal system asks PIC to notify someone with a template; the event ``source`` is the system."""

    template: str = Field(pattern=TEMPLATE_ID_PATTERN, examples=["ibi-recibo"])
    recipient: Recipient
    personalisation: dict[str, Any] = Field(default_factory=dict)
    reference: str | None = Field(None, max_length=128, description="the requester's own reference")
    callback_url: WebUrl | None = Field(None, max_length=500, description="signed status callbacks go here")


class NotificationStatusChanged(EventData):
    """Common shape of every lifecycle event: where the notification is now and why."""

    notification_id: str
    status: Status
    template: str
    template_version: int
    purpose: str
    channel: Channel | None = None
    reason: str | None = Field(None, description="machine code: no-channel, no-consent, restricted, ...")
    reasons: list[str] = Field(default_factory=list, description="the policy's sentences")
    attempt: int = 0
    deliver_after: datetime | None = Field(None, description="set when quiet hours defer the delivery")
    alert_id: str | None = None
    bulk_id: str | None = None
    changed_at: datetime
    # issue 16, contracts §2: the campaign a notification belongs to and its recipient's tags, echoed
    campaign_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class NotificationAccepted(NotificationStatusChanged):
    """Allowed by ``policies/notifications`` on a channel; delivery follows (or waits for ``deliver_after``)."""


class NotificationSending(NotificationStatusChanged):
    """One delivery attempt claimed the notification and is handing it to the provider."""


class NotificationDelivered(NotificationStatusChanged):
    """The provider took the message (SMTP 250, SMS/push 2xx, inbox written)."""


class NotificationTemporaryFailure(NotificationStatusChanged):
    """The provider failed transiently; PIC retries with backoff up to the channel's limit."""


class NotificationPermanentFailure(NotificationStatusChanged):
    """The provider refused the message for good, or the channel's retry limit was reached."""


class NotificationNotAllowed(NotificationStatusChanged):
    """``policies/notifications`` said no (or no reachable allowed channel): nothing is sent; ``reason`` says why."""


class NotificationDue(EventData):
    """Internal: a deferred notification's quiet hours ended; deliver it now."""

    notification_id: str
    due_at: datetime


class LocalisedText(EventData):
    es: str = Field(min_length=1, max_length=2000)
    en: str | None = Field(None, min_length=1, max_length=2000)


class AlertPublished(EventData):
    """An alert for a topic in some zones (district or barrio codes of Madrid), to every subscriber there."""

    topic: str = Field(min_length=1, max_length=64, examples=["civil-protection"])
    zones: list[str] = Field(min_length=1, max_length=152, examples=[["01", "113"]])
    severity: Severity
    text: LocalisedText
    title: LocalisedText | None = None

    @model_validator(mode="after")
    def _zone_codes(self) -> AlertPublished:
        bad = [z for z in self.zones if not (z.isdigit() and len(z) in (2, 3))]
        if bad:
            raise ValueError(f"zones must be district (2 digits) or barrio (3 digits) codes: {bad}")
        return self


class BulkChunkReady(EventData):
    """Internal: one chunk of a bulk job's recipients was stored and waits to be decided and enqueued."""

    bulk_id: str
    chunk: int = Field(ge=0)


class AlertPageReady(EventData):
    """Internal: the next page of an alert's subscribers waits to be fanned out. Each page event walks its
    own group of ``topic#zone`` index keys in order, a page at a time, so groups run in parallel."""

    alert_id: str
    topic_zones: list[str] = Field(min_length=1, description="<topic>#<zone code> keys of the projection's index")
    index: int = Field(0, ge=0, description="the key being walked")
    cursor: str | None = Field(None, description="where the previous page stopped (opaque)")
    page: int = Field(0, ge=0)


# ---- campaign and survey batches (issue 16, contracts §1; notx owns these models: the same text as the contract) ----


class BatchRecipient(EventData):
    citizen_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    personalisation: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)  # <= 8 entries, key <= 32, value <= 64 chars; echoed back


class NotificationBatchRequested(EventData):
    batch_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # the requester's id of this page
    template: str = Field(pattern=TEMPLATE_ID_PATTERN)  # rendered when no channel template applies
    channel_templates: dict[Channel, str] = Field(default_factory=dict)  # the template for the channel NOT chooses
    campaign_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    recipients: list[BatchRecipient] = Field(min_length=1, max_length=500)
    reference: str | None = Field(None, max_length=128)
