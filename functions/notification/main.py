"""Notifications and alerts (NOT) entry points: thin. Parse, map to a command, run the use case (``handlers``), answer.

- ``notification_http`` (Knative Service ``pic-notification``): templates, notifications, bulk jobs, the
  citizen's in-app inbox and push endpoint, the notifications sent to a citizen (newest first, a page at a
  time), and what NOT knows about a citizen;
- ``notification_events`` (``pic-notification-events``): ``notification.requested`` from internal systems,
  ``alert.published`` and its pages, bulk chunks, and the projections of CON events, of C360's contact points
  (``citizen.updated``, ``citizen.unmerged``) and of the RGPD flags; after a person's erasure the projections
  honour its marker (ADR 0012);
- ``notification_delivery`` (``pic-notification-delivery``): ``notification.accepted``/``due`` → the
  channel adapters, exactly once; terminal statuses → signed callbacks to the requesting system.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from events.base import WebUrl, check_web_url
from events.citizen import CitizenUnmerged, CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged, PreferencesChanged, SubscriptionChanged
from events.notification import (
    TEMPLATE_ID_PATTERN,
    AlertPageReady,
    AlertPublished,
    BulkChunkReady,
    NotificationBatchRequested,
    NotificationDue,
    NotificationRequested,
    NotificationStatusChanged,
    Recipient,
)
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from functions.core import paging, webhooks
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.notification import bulk, handlers, service, templates
from functions.notification.bootstrap import ports
from functions.notification.service import NotificationRequest, Subscription


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- templates -----------------------------------------------------------------------------------------------


class Localised(Body):
    es: str = Field(min_length=1, max_length=templates.MAX_TEMPLATE_CHARS)
    en: str | None = Field(None, min_length=1, max_length=templates.MAX_TEMPLATE_CHARS)


class TemplatePut(Body):
    purpose: str = Field(examples=["service-notifications"], description="a purpose of policies/consent")
    subject: Localised
    body: Localised


class PreviewPost(Body):
    personalisation: dict[str, Any] | None = None
    language: Literal["es", "en"] = "es"


def _template_view(template: templates.Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "version": template.version,
        "purpose": template.purpose,
        "subject": template.content.subject,
        "body": template.content.body,
        "fields": list(template.fields),
        "readability": template.readability,
    }


def _check_template_id(template_id: str) -> None:
    if not re.match(TEMPLATE_ID_PATTERN, template_id):
        raise ValidationError(
            f"{template_id!r} is not a template id",
            errors=[{"field": "template", "message": "lower-case letters, digits and dashes, up to 64"}],
        )


def put_template(ctx: RequestContext, body: TemplatePut, template_id: str) -> Reply:
    """Store a new version when the content changed; the same content again changes nothing (200)."""
    _check_template_id(template_id)
    cmd = handlers.PutTemplate(
        template_id=template_id,
        purpose=body.purpose,
        subject=body.subject.model_dump(exclude_none=True),
        body=body.body.model_dump(exclude_none=True),
        by=ctx.subject.id,
    )
    return ctx.run(
        lambda: handlers.put_template(cmd, ports(), ctx.traceparent),
        lambda saved: Reply(201 if saved.created else 200, _template_view(saved.template)),
    )


def get_template(ctx: RequestContext, template_id: str) -> Reply:
    version = ctx.request.args.get("version")
    if version is not None and not version.isdigit():
        raise ValidationError("version must be a positive integer", errors=[{"field": "version", "message": "integer"}])
    template, versions = handlers.template_versions(template_id, int(version) if version else None, ports())
    return Reply(200, {**_template_view(template), "versions": versions})


def preview_template(ctx: RequestContext, body: PreviewPost, template_id: str) -> Reply:
    """The rendered message and the Fernández-Huerta clear-language score of the Spanish body."""
    return Reply(200, handlers.preview(template_id, body.personalisation, body.language, ports()))


# ---- notifications --------------------------------------------------------------------------------------------


class NotificationPost(Body):
    template: str = Field(pattern=TEMPLATE_ID_PATTERN)
    recipient: Recipient
    personalisation: dict[str, Any] = Field(default_factory=dict)
    language: Literal["es", "en"] | None = None
    reference: str | None = Field(None, max_length=128)
    callback_url: WebUrl | None = Field(None, max_length=500, pattern=r"^https?://")


class NotificationCreated(BaseModel):
    id: str
    status: str
    reason: str | None = None
    channel: str | None = None


def post_notification(ctx: RequestContext, body: NotificationPost) -> Reply:
    req = NotificationRequest(
        notification_id=service.new_notification_id(),
        template=body.template,
        recipient=body.recipient,
        personalisation=body.personalisation,
        requested_by=ctx.subject.id,
        language=body.language,
        reference=body.reference,
        callback_url=body.callback_url,
    )

    def created(doc: service.Doc) -> Reply:
        answer = NotificationCreated(id=doc["id"], status=doc["status"], reason=doc["reason"], channel=doc["channel"])
        return Reply(201, answer.model_dump(), {"Location": f"/v1/notifications/{doc['id']}"})

    return ctx.run(lambda: handlers.notify(req, ports(), ctx.traceparent), created)


def citizen_of_notification(ctx: RequestContext, params: dict[str, str]) -> str:
    """The citizen a notification went to ("" for one to an explicit address: a platform read)."""
    ctx.resource = handlers.notification_of(params["notification_id"], ports())
    return str(ctx.resource["recipient"].get("citizen_id") or "")


def get_notification(ctx: RequestContext, notification_id: str) -> Reply:
    return Reply(200, service.public_view(ctx.resource))


def notification_summary(view: dict[str, Any]) -> dict[str, Any]:
    """Whether it reached the person, not what it said or why."""
    return {"id": view["id"], "status": view["status"], "channel": view["channel"], "view": "summary"}


# ---- bulk ------------------------------------------------------------------------------------------------------


def post_bulk(ctx: RequestContext) -> Reply:
    """Store the rows in chunks and answer the job id at once; chunks are decided and enqueued by events."""
    raw = ctx.request.get_data(cache=True)  # at most MAX_BULK_BYTES: the route's limit, enforced by the kernel
    template_id, rows = bulk.parse_request(ctx.request.mimetype, raw, ctx.request.args.get("template", ""))
    cmd = handlers.SubmitBulk(template_id, rows, ctx.subject.id)

    def accepted(job: dict[str, Any]) -> Reply:
        return Reply(202, {**job, "status": "accepted"}, {"Location": f"/v1/notifications/bulk/{job['id']}"})

    return ctx.run(lambda: handlers.submit_bulk(cmd, ports(), ctx.traceparent), accepted)


def get_bulk(ctx: RequestContext, bulk_id: str) -> Reply:
    return Reply(200, handlers.bulk_progress(bulk_id, ports()))


# ---- the citizen's side: inbox, push endpoint, what NOT knows ------------------------------------------------------


def get_inbox(ctx: RequestContext, citizen_id: str) -> Reply:
    messages = [
        {
            "notification_id": m.notification_id,
            "subject": m.subject,
            "body": m.body,
            "language": m.language,
            "created_at": m.created_at.isoformat(),
            "read": m.read_at is not None,
            "read_at": m.read_at.isoformat() if m.read_at else None,
        }
        for m in handlers.inbox_of(citizen_id, ports())
    ]
    return Reply(200, {"citizen_id": citizen_id, "unread": sum(not m["read"] for m in messages), "messages": messages})


def inbox_summary(inbox: dict[str, Any]) -> dict[str, Any]:
    """How many messages and how many unread: no subjects or bodies."""
    total = len(inbox["messages"])
    return {"citizen_id": inbox["citizen_id"], "unread": inbox["unread"], "total": total, "view": "summary"}


def mark_read(ctx: RequestContext, citizen_id: str, notification_id: str) -> Reply:
    """Marking read twice is fine: the first time counts."""
    return ctx.run(lambda: handlers.mark_read(citizen_id, notification_id, ports(), ctx.traceparent),
                   lambda _: Reply(204))  # fmt: skip


def get_timeline(ctx: RequestContext, citizen_id: str) -> Reply:
    """The notifications sent to the citizen on every channel, newest first (``?limit=1..100&cursor=``)."""
    query = paging.ReadTimeline.from_args(citizen_id, ctx.request.args)
    page = handlers.citizen_timeline(query, ports())
    return Reply(200, page.body())


def timeline_summary(page: dict[str, Any]) -> dict[str, Any]:
    """Whether each reached the person and when (as ``notification_summary``), not what it was or why."""
    keys = ("id", "status", "channel", "created_at", "updated_at")
    items = [{k: item[k] for k in keys} for item in page["items"]]
    return {"items": items, "next_cursor": page["next_cursor"], "view": "summary"}


DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]+")


class PushEndpointPut(Body):
    endpoint: str = Field(
        min_length=8, max_length=500, description="the device's push endpoint (a Web Push URL) or its FCM token"
    )

    @field_validator("endpoint")
    @classmethod
    def _url_or_token(cls, value: str) -> str:
        """A URL must parse (``https://[x`` does not); a token is one word of the characters FCM uses."""
        if "://" in value:
            return check_web_url(value)
        if not DEVICE_TOKEN.fullmatch(value):
            raise ValueError("a push endpoint URL, or a device token of letters, digits and _ : . -")
        return value


PROFILE_WRITE_ATTEMPTS = 5  # the profile is also written by every CON and C360 projection: decide again more


def put_push_endpoint(ctx: RequestContext, body: PushEndpointPut, citizen_id: str) -> Reply:
    """The device's endpoint joins the citizen's profile; a concurrent projection is a lost race, decided
    again on what it wrote rather than handed to the caller as a 409."""
    return ctx.run(
        lambda: handlers.register_push_endpoint(citizen_id, body.endpoint, ports(), ctx.traceparent),
        lambda endpoint: Reply(200, {"citizen_id": citizen_id, "endpoint": endpoint}),
        attempts=PROFILE_WRITE_ATTEMPTS,
    )


def get_profile(ctx: RequestContext, citizen_id: str) -> Reply:
    """What NOT decides with: the projected consents, preferences and flags, reachable channels, subscriptions."""
    profile = handlers.profile_of(citizen_id, ports())
    view = profile.view
    return Reply(
        200,
        {
            "citizen_id": citizen_id,
            "consents": service.consents_view(view, ports().terms),
            "language": view.language,
            "channels": list(view.channels),
            "quiet_hours": view.quiet_hours,
            "restricted": view.restricted,
            "objections": list(view.objections),
            "reachable": view.reachable(),
            "blocked": view.blocked,  # per channel, the blocklist rule on the current address (bounces, complaints)
            "subscriptions": sorted(f"{s.topic}.{s.zone}" for s in profile.subscriptions),
        },
    )


def profile_summary(profile: dict[str, Any]) -> dict[str, Any]:
    """Which channels reach the person, and their restriction: no addresses, consents or zones."""
    keys = ("citizen_id", "reachable", "restricted")
    return {**{k: profile[k] for k in keys}, "view": "summary"}


# ---- providers' feedback and one-click unsubscribe ---------------------------------------------------------------

FEEDBACK_BYTES = 256 * 1024
FeedbackType = Literal["Delivery", "Bounce", "Complaint", "Open", "Click"]
FEEDBACK_KINDS = {"Delivery": "delivered", "Bounce": "bounced", "Complaint": "complained", "Open": "opened",
                  "Click": "clicked"}  # fmt: skip


class SesMail(BaseModel):
    """SES's ``mail`` object: NOT tags every message it sends with ``notification`` = its id."""

    model_config = ConfigDict(extra="ignore")
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesBounce(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bounceType: Literal["Permanent", "Transient", "Undetermined"]  # noqa: N815 - SES's own names


class SesClick(BaseModel):
    model_config = ConfigDict(extra="ignore")
    link: str = Field(max_length=2000)


class FeedbackPost(BaseModel):
    """An event of Amazon SES event publishing (the JSON an SNS notification's ``Message`` carries; only the
    fields NOT reads), posted with ``X-PIC-Signature`` over the body (``functions/core/webhooks.py``)."""

    model_config = ConfigDict(extra="ignore")
    eventType: FeedbackType  # noqa: N815 - SES's own names
    mail: SesMail
    bounce: SesBounce | None = None
    click: SesClick | None = None

    def notification_id(self) -> str:
        found = self.mail.tags.get("notification") or []
        if not found:
            where = {"field": "mail.tags.notification", "message": "the notification id"}
            raise ValidationError("the event names no notification", errors=[where])
        return found[0]


def post_feedback(ctx: RequestContext, body: FeedbackPost, provider: str) -> Reply:
    """A provider's feedback about a message, trusted by its signature alone (providers hold no PIC token):
    recorded once per kind, counted against the address's blocklist, announced as ``notification.engaged``."""
    raw = ctx.request.get_data(cache=True)
    now = int(ports().clock.now().timestamp())
    if not webhooks.verify(get_settings().feedback_secret, ctx.header("X-PIC-Signature") or "", raw, now):
        raise service.FeedbackSignatureError("X-PIC-Signature is missing, forged or older than 5 minutes")
    fb = handlers.Feedback(
        provider=provider,
        notification_id=body.notification_id(),
        kind=FEEDBACK_KINDS[body.eventType],
        bounce=("hard" if body.bounce.bounceType == "Permanent" else "soft") if body.bounce else None,
        url=body.click.link if body.click else None,
    )
    if fb.kind == "bounced" and fb.bounce is None:
        raise ValidationError("a Bounce event needs its bounce", errors=[{"field": "bounce", "message": "required"}])
    return ctx.run(lambda: handlers.feedback(fb, ports(), ctx.traceparent), lambda answer: Reply(200, answer),
                   attempts=PROFILE_WRITE_ATTEMPTS)  # fmt: skip


def get_unsubscribe(ctx: RequestContext, token: str) -> Reply:
    """What a one-click link would unsubscribe from (purpose, channel, done): reading it changes nothing, so a
    mail scanner that follows links unsubscribes nobody."""
    doc, _ = handlers.unsubscribe_target(token, ports())
    return Reply(200, handlers.unsubscribe_view(doc))


def post_unsubscribe(ctx: RequestContext, token: str) -> Reply:
    """RFC 8058 one-click (a mail client POSTs ``List-Unsubscribe=One-Click``) or the confirmation page's
    button: the body is not read, the signed token is the authority. Twice is fine."""
    return ctx.run(lambda: handlers.unsubscribe(token, ports(), ctx.traceparent), lambda done: Reply(200, done))


ROUTES = [
    Route("/v1/templates/<template_id>", "PUT", put_template, "Create or change a template (a new version)",
          request_model=TemplatePut, idempotent_writes=True, action="template.write", links={"template_id": "/id"}),
    Route("/v1/templates/<template_id>", "GET", get_template, "A template (?version=n), its fields and readability",
          action="template.read"),
    Route("/v1/templates/<template_id>/preview", "POST", preview_template,
          "Render a template and score its clear language (Fernández-Huerta)", request_model=PreviewPost,
          action="template.read"),
    Route("/v1/notifications", "POST", post_notification, "Notify a citizen or an explicit address",
          request_model=NotificationPost, response_model=NotificationCreated, status=201, idempotent_writes=True,
          action="notification.send", links={"notification_id": "/id"}),
    Route("/v1/notifications/bulk", "POST", post_bulk, "Up to 100,000 notifications (JSON or CSV) as one job",
          status=202, idempotent_writes=True, max_body_bytes=bulk.MAX_BULK_BYTES, links={"bulk_id": "/id"},
          action="notification.send"),
    Route("/v1/notifications/bulk/<bulk_id>", "GET", get_bulk, "A bulk job's progress and malformed rows",
          action="notification.read"),
    Route("/v1/notifications/<notification_id>", "GET", get_notification, "Status, reason and history",
          action="notification.read", citizen=citizen_of_notification,
          reads=Reads("notification", ("notifications",), notification_summary)),
    Route("/v1/citizens/<citizen_id>/inbox", "GET", get_inbox, "In-app messages, newest first",
          action="inbox.read", app="inbox", reads=Reads("inbox", ("notifications",), inbox_summary)),
    Route("/v1/citizens/<citizen_id>/notifications", "GET", get_timeline,
          "The notifications sent to the citizen on every channel, newest first (?limit=1..100&cursor=): "
          "template, channel, status, purpose, times; no message or address",
          action="notification.list", reads=Reads("notifications", ("notifications",), timeline_summary)),
    Route("/v1/citizens/<citizen_id>/inbox/<notification_id>/read", "POST", mark_read, "Mark an in-app message read",
          status=204, action="inbox.write", app="inbox"),
    Route("/v1/citizens/<citizen_id>/push-endpoint", "PUT", put_push_endpoint, "Register the device for push",
          request_model=PushEndpointPut, idempotent_writes=True, action="inbox.write"),
    Route("/v1/citizens/<citizen_id>/notification-profile", "GET", get_profile,
          "What the notification service decides with (projected consents, preferences, flags, subscriptions)",
          action="inbox.read", reads=Reads("notification-profile", ("notification-profile",), profile_summary)),
    Route("/v1/notification-feedback/<provider>", "POST", post_feedback,
          "A provider's feedback (SES event publishing: Delivery, Bounce, Complaint, Open, Click), signed "
          "X-PIC-Signature", request_model=FeedbackPost, action="notification.feedback", anonymous=True,
          max_body_bytes=FEEDBACK_BYTES),
    Route("/v1/unsubscribe/<token>", "GET", get_unsubscribe,
          "What a one-click unsubscribe link is for (purpose, channel, done); changes nothing",
          action="notification.unsubscribe", anonymous=True),
    Route("/v1/unsubscribe/<token>", "POST", post_unsubscribe,
          "One-click unsubscribe (RFC 8058): withdraw the message's purpose on its channel",
          action="notification.unsubscribe", anonymous=True),
]  # fmt: skip

http_api = HttpFunction("pic-notification", ROUTES)


@functions_framework.http
def notification_http(request: Request) -> Response:
    return http_api(request)


# ---- events: requests, alerts, bulk chunks, projections -------------------------------------------------------------


def on_requested(ctx: EventContext, data: Any) -> UnitOfWork:
    """An internal system's request: the same rules as the API; the id is derived from the event, so a
    redelivered event names the same notification."""
    assert isinstance(data, NotificationRequested)
    req = NotificationRequest(
        notification_id=service.derived_id("event", ctx.source, ctx.id),
        template=data.template,
        recipient=data.recipient,
        personalisation=data.personalisation,
        requested_by=ctx.source,
        reference=data.reference,
        callback_url=data.callback_url,
    )
    return handlers.notify(req, ports(), ctx.traceparent).unit


def on_alert(ctx: EventContext, data: Any) -> UnitOfWork:
    """Store the alert and start walking its subscribers, a page per event, groups in parallel."""
    assert isinstance(data, AlertPublished)
    return handlers.publish_alert(data, ctx.source, ctx.id, ports(), ctx.traceparent)


def on_alert_page(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, AlertPageReady)
    return handlers.alert_page(data, ports(), ctx.traceparent)


def on_bulk_chunk(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, BulkChunkReady)
    return handlers.bulk_chunk(data.bulk_id, data.chunk, ports(), ctx.traceparent)


def on_batch_requested(ctx: EventContext, data: Any) -> UnitOfWork:
    """A campaign's or a survey's page of recipients (through their relays)."""
    assert isinstance(data, NotificationBatchRequested)
    return handlers.batch_requested(data, ctx.source, ports(), ctx.traceparent)


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ConsentChanged)
    erasure = data.capture_channel == ERASURE_CAPTURE_CHANNEL and not data.after.granted
    return handlers.project_consent(data.citizen_id, data.purpose, data.after.model_dump(), data.changed_at, ports(),
                                    erasure)  # fmt: skip


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360's contact points for the golden record, as of the change (events without them change nothing)."""
    assert isinstance(data, CitizenUpdated)
    if data.contact is None:
        return UnitOfWork()
    return handlers.project_contacts(data.citizen_id, data.contact.email, data.contact.phone, data.updated_at, ports())


def on_citizen_unmerged(ctx: EventContext, data: Any) -> UnitOfWork:
    """An un-merge took records (and maybe contact points) away from the golden record ``citizen_id``."""
    assert isinstance(data, CitizenUnmerged)
    if data.contact is None:
        return UnitOfWork()
    contact = data.contact
    return handlers.project_contacts(data.citizen_id, contact.email, contact.phone, data.unmerged_at, ports())


def on_preferences_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, PreferencesChanged)
    preferences = data.after.model_dump(mode="json")
    return handlers.project_part(data.citizen_id, "preferences", preferences, data.changed_at, ports())


def on_subscription_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, SubscriptionChanged)
    sub = Subscription(data.citizen_id, data.subscription_id, data.topic, data.zone, data.change == "created",
                       data.changed_at)  # fmt: skip
    return handlers.project_subscription(sub, ports())


def on_rgpd_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    """Restriction (RGPD art. 18) and objections (art. 21) become policy input (latest ``changed_at`` wins)."""
    assert isinstance(data, RgpdFlagsChanged)
    value = {"restricted": data.restricted, "objections": sorted(set(data.objections))}
    return handlers.project_part(data.citizen_id, "flags", value, data.changed_at, ports())


def on_rgpd_request_completed(ctx: EventContext, data: Any) -> UnitOfWork:
    """A completed erasure says when each domain erased: drop the copies made in between (ADR 0012)."""
    assert isinstance(data, RgpdRequestCompleted)
    if data.right != "erasure":
        return UnitOfWork()
    return handlers.sweep_erased(data.request_id, data.citizen_id, data.answered, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the notification domain, the answer in the same unit of work as the
    erasure it reports."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-notification-events",
    {
        "es.madrid.pic.notification.requested.v1": on_requested,
        "es.madrid.pic.alert.published.v1": on_alert,
        "es.madrid.pic.alert.page.ready.v1": on_alert_page,
        "es.madrid.pic.notification.bulk.chunk.ready.v1": on_bulk_chunk,
        "es.madrid.pic.notification.batch.requested.v1": on_batch_requested,
        "es.madrid.pic.consent.changed.v1": on_consent_changed,
        "es.madrid.pic.preferences.changed.v1": on_preferences_changed,
        "es.madrid.pic.subscription.changed.v1": on_subscription_changed,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.citizen.unmerged.v1": on_citizen_unmerged,
        "es.madrid.pic.rgpd.flags.changed.v1": on_rgpd_flags_changed,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
        "es.madrid.pic.rgpd.request.completed.v1": on_rgpd_request_completed,
    },
)


@functions_framework.cloud_event
def notification_events(event: CloudEvent) -> None:
    event_api(event)


# ---- delivery and callbacks ------------------------------------------------------------------------------------------


def on_accepted(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, NotificationStatusChanged)
    return handlers.deliver(data.notification_id, ports(), ctx.traceparent)


def on_due(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, NotificationDue)
    return handlers.deliver(data.notification_id, ports(), ctx.traceparent, due=True)


def on_terminal(ctx: EventContext, data: Any) -> UnitOfWork:
    """A signed (HMAC-SHA256) status callback to the requester, if it gave a ``callback_url``. A callback that
    fails is answered 409, so the broker retries it with backoff and dead-letters it in the end."""
    assert isinstance(data, NotificationStatusChanged)
    callback = handlers.callback_for(data, ports())
    if callback is None:
        return UnitOfWork()
    now = int(ports().clock.now().timestamp())
    webhooks.deliver(callback.url, callback.payload, secret=get_settings().callback_secret, event_id=ctx.id, now=now)
    return UnitOfWork()


delivery_api = EventFunction(
    "pic-notification-delivery",
    {
        "es.madrid.pic.notification.accepted.v1": on_accepted,
        "es.madrid.pic.notification.due.v1": on_due,
        "es.madrid.pic.notification.delivered.v1": on_terminal,
        "es.madrid.pic.notification.permanent-failure.v1": on_terminal,
        "es.madrid.pic.notification.not-allowed.v1": on_terminal,
    },
)


@functions_framework.cloud_event
def notification_delivery(event: CloudEvent) -> None:
    delivery_api(event)
