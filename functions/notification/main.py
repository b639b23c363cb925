"""Notifications and alerts (NOT) entry points: thin. Parse, authorise, call the pipeline, commit, answer.

- ``notification_http`` (Knative Service ``pic-notification``): templates, notifications, bulk jobs, the
  citizen's in-app inbox and push endpoint, and what NOT knows about a citizen;
- ``notification_events`` (``pic-notification-events``): ``notification.requested`` from internal systems,
  ``alert.published`` and its pages, bulk chunks, and the projections of CON events, of C360's contact points
  (``citizen.updated``, ``citizen.unmerged``) and of the RGPD flags; after a person's erasure the projections
  honour its marker (ADR 0012);
- ``notification_delivery`` (``pic-notification-delivery``): ``notification.accepted``/``due`` → the
  channel adapters, exactly once; terminal statuses → signed callbacks to the requesting system.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from datetime import datetime
from typing import Any, Literal

import functions_framework
import pydantic
import requests
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
    NotificationDue,
    NotificationRequested,
    NotificationStatusChanged,
    Recipient,
)
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from functions.core import rights as core_rights
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import (
    ConflictError,
    MalformedRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
    pydantic_errors,
)
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_json
from functions.core.logging import get_logger
from functions.core.outbox import stage_event
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.core.terms import load_terms
from functions.notification import pipeline, rights, service, templates
from functions.notification.pipeline import Request as NotificationRequest
from functions.notification.pipeline import stores
from functions.notification.storage import InboxStore

MAX_BULK_RECIPIENTS = 100_000
MAX_BULK_BYTES = 32 * 1024 * 1024
CHUNKS_MAX = 90  # chunk events + the job commit in one TransactWriteItems (limit 100)
CHUNK_MIN = 500
MALFORMED_SHOWN = 1000
CSV_RECIPIENT_COLUMNS = ("citizen_id", "email", "phone")
CSV_RESERVED = (*CSV_RECIPIENT_COLUMNS, "reference")


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
    purposes = load_terms().purposes
    if body.purpose not in purposes:
        raise service.TemplateError(
            f"unknown purpose {body.purpose!r}",
            errors=[{"field": "purpose", "message": f"one of {', '.join(sorted(purposes))}"}],
        )
    content = templates.TemplateContent(
        purpose=body.purpose,
        subject=body.subject.model_dump(exclude_none=True),
        body=body.body.model_dump(exclude_none=True),
    )
    templates.check_languages(content)
    fields = templates.declared_fields(content)
    found = stores().templates.fetch(template_id)
    current, item = found if found else (None, None)
    if current is not None and current.content == content:
        return Reply(200, _template_view(current))
    version = current.version + 1 if current else 1
    readability = templates.readability(content.body["es"])
    template = templates.Template(template_id, version, content, fields, readability)
    uow = UnitOfWork()
    stores().templates.stage(uow, template, item, ctx.subject.id, pipeline.now())
    return ctx.commit(uow, Reply(201 if version == 1 else 200, _template_view(template)))


def get_template(ctx: RequestContext, template_id: str) -> Reply:
    version = ctx.request.args.get("version")
    if version is not None and not version.isdigit():
        raise ValidationError("version must be a positive integer", errors=[{"field": "version", "message": "integer"}])
    found = stores().templates.fetch(template_id, int(version) if version else None)
    if found is None:
        raise service.NotificationNotFoundError(
            f"no template {template_id!r}" + (f" version {version}" if version else "")
        )
    view = _template_view(found[0])
    view["versions"] = [t.version for t in stores().templates.versions(template_id)]
    return Reply(200, view)


def preview_template(ctx: RequestContext, body: PreviewPost, template_id: str) -> Reply:
    """The rendered message (placeholders shown as ((field)) when no personalisation is given) and the
    Fernández-Huerta clear-language score of the Spanish body."""
    template = pipeline.fetch_template(template_id)
    values = body.personalisation if body.personalisation is not None else {f: f"(({f}))" for f in template.fields}
    rendered = templates.render(template, values, body.language)
    return Reply(
        200,
        {
            "id": template.id,
            "version": template.version,
            "language": rendered.language,
            "subject": rendered.subject,
            "body": rendered.body,
            "fields": list(template.fields),
            "readability": template.readability,
            "readability_rendered": templates.readability(rendered.body) if rendered.language == "es" else None,
            "sms_segments": templates.sms_segments(rendered.body),
        },
    )


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
    uow, doc = pipeline.accept_one(req, ctx.traceparent)
    created = NotificationCreated(id=doc["id"], status=doc["status"], reason=doc["reason"], channel=doc["channel"])
    return ctx.commit(uow, Reply(201, created.model_dump(), {"Location": f"/v1/notifications/{doc['id']}"}))


def citizen_of_notification(ctx: RequestContext, params: dict[str, str]) -> str:
    """The citizen a notification went to ("" for one to an explicit address: a platform read)."""
    found = stores().notifications.fetch(params["notification_id"])
    if found is None:
        raise service.NotificationNotFoundError(f"no notification {params['notification_id']!r}")
    ctx.resource = found[0]
    return str(found[0]["recipient"].get("citizen_id") or "")


def get_notification(ctx: RequestContext, notification_id: str) -> Reply:
    return Reply(200, pipeline.public_view(ctx.resource))


def notification_summary(view: dict[str, Any]) -> dict[str, Any]:
    """Whether it reached the person, not what it said or why."""
    return {"id": view["id"], "status": view["status"], "channel": view["channel"], "view": "summary"}


# ---- bulk ------------------------------------------------------------------------------------------------------


class BulkRow(Body):
    recipient: Recipient
    personalisation: dict[str, Any] = Field(default_factory=dict)
    reference: str | None = Field(None, max_length=128)


def _bulk_rows(ctx: RequestContext) -> tuple[str, list[tuple[int, Any]]]:
    """The template id and the raw rows (numbered from 1) of a JSON or CSV bulk request."""
    request = ctx.request
    raw = request.get_data(cache=True)  # at most MAX_BULK_BYTES: the route's limit, enforced by the kernel
    if request.mimetype == "application/json":
        payload = parse_json(raw)
        if not isinstance(payload, dict) or not isinstance(payload.get("recipients"), list):
            raise ValidationError(
                'send {"template", "recipients": [...]}',
                errors=[{"field": "recipients", "message": "a list of {recipient, personalisation}"}],
            )
        template = payload.get("template")
        return str(template or ""), list(enumerate(payload["recipients"], start=1))
    if request.mimetype in ("text/csv", "application/csv"):
        return request.args.get("template", ""), _csv_rows(raw)
    raise UnsupportedMediaTypeError(f"send application/json or text/csv, not {request.mimetype or 'nothing'}")


def _csv_rows(raw: bytes) -> list[tuple[int, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedRequestError("the CSV is not UTF-8") from exc
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. a cell over the csv module's field limit (128 KiB)
        raise MalformedRequestError(f"the CSV cannot be read: {exc}") from exc
    header = lines[0] if lines else None
    if not header or not any(h.strip() in CSV_RECIPIENT_COLUMNS for h in header):
        raise ValidationError(
            "the CSV's first line names its columns, one of them citizen_id, email or phone",
            errors=[{"field": "header", "message": "needs a citizen_id, email or phone column"}],
        )
    names = [h.strip() for h in header]
    rows: list[tuple[int, Any]] = []
    for number, cells in enumerate(lines[1:], start=1):
        if not cells:
            continue
        if len(cells) != len(names):
            rows.append((number, ValueError(f"{len(cells)} values for {len(names)} columns")))
            continue
        values = dict(zip(names, (c.strip() for c in cells), strict=True))
        recipient = {k: values[k] for k in CSV_RECIPIENT_COLUMNS if values.get(k)}
        personalisation = {k: v for k, v in values.items() if k not in CSV_RESERVED and v != ""}
        rows.append(
            (
                number,
                {
                    "recipient": recipient,
                    "personalisation": personalisation,
                    "reference": values.get("reference") or None,
                },
            )
        )
    return rows


def _validate_row(
    template: templates.Template, number: int, raw: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A row ready to store, or its per-row errors (the rest of the job goes on)."""
    if isinstance(raw, ValueError):
        return None, {"row": number, "errors": [{"field": "(row)", "message": str(raw)}]}
    try:
        row = BulkRow.model_validate(raw)
        templates.check_personalisation(template.fields, row.personalisation)
        pipeline.direct_address(row.recipient)
    except pydantic.ValidationError as exc:
        return None, {"row": number, "errors": pydantic_errors(exc)}
    except ValidationError as exc:
        return None, {"row": number, "errors": exc.errors or [{"field": "(row)", "message": exc.detail}]}
    return {"row": number, **row.model_dump(exclude_none=True)}, None


def post_bulk(ctx: RequestContext) -> Reply:
    """Store the rows in chunks and answer the job id at once; chunks are decided and enqueued by events."""
    template_id, raw_rows = _bulk_rows(ctx)
    if len(raw_rows) > MAX_BULK_RECIPIENTS:
        raise PayloadTooLargeError(
            f"{len(raw_rows)} recipients; a bulk request takes at most {MAX_BULK_RECIPIENTS}", recipients=len(raw_rows)
        )
    if not raw_rows:
        raise ValidationError("no recipients", errors=[{"field": "recipients", "message": "at least one"}])
    template = pipeline.fetch_template(template_id)
    good, malformed = [], []
    for number, raw in raw_rows:
        row, error = _validate_row(template, number, raw)
        if row is not None:
            good.append(row)
        else:
            malformed.append(error)
    bulk_id = f"blk-{uuid.uuid4()}"
    at = pipeline.now()
    size = max(CHUNK_MIN, -(-len(good) // CHUNKS_MAX))
    chunks = [good[i : i + size] for i in range(0, len(good), size)]
    _store_chunks(bulk_id, chunks, at)
    doc = {
        "id": bulk_id,
        "template": template.id,
        "template_version": template.version,
        "total": len(raw_rows),
        "valid": len(good),
        "chunks": len(chunks),
        "malformed_count": len(malformed),
        "malformed": malformed[:MALFORMED_SHOWN],
        "requested_by": ctx.subject.id,
        "created_at": at.isoformat(),
    }
    uow = UnitOfWork()
    stores().jobs.stage_job(uow, bulk_id, doc, at)
    for n in range(len(chunks)):
        stage_event(uow, BulkChunkReady(bulk_id=bulk_id, chunk=n), subject=bulk_id, traceparent=ctx.traceparent, now=at)
    answer = {k: doc[k] for k in ("id", "template", "total", "valid", "malformed_count", "malformed")}
    return ctx.commit(
        uow, Reply(202, {**answer, "status": "accepted"}, {"Location": f"/v1/notifications/bulk/{bulk_id}"})
    )


def _store_chunks(bulk_id: str, chunks: list[list[dict[str, Any]]], at: datetime) -> None:
    """Chunks are inert until the job and their events commit, so they are written ahead, 25 at a time."""
    for start in range(0, len(chunks), 25):
        uow = UnitOfWork()
        for n in range(start, min(start + 25, len(chunks))):
            stores().jobs.stage_chunk(uow, bulk_id, n, chunks[n], at)
        uow.commit()


def get_bulk(ctx: RequestContext, bulk_id: str) -> Reply:
    job = stores().jobs.fetch_job(bulk_id)
    if job is None:
        raise service.NotificationNotFoundError(f"no bulk job {bulk_id!r}")
    progress = stores().jobs.progress(bulk_id)
    decided = progress.get("accepted", 0) + progress.get("not-allowed", 0)
    finished = progress["delivered"] + progress["failed"]
    state = "delivering" if progress["chunks_done"] == job["chunks"] else "deciding"
    if state == "delivering" and finished >= progress.get("accepted", 0):
        state = "done"
    return Reply(
        200,
        {
            **{
                k: job[k]
                for k in ("id", "template", "template_version", "total", "valid", "malformed_count", "created_at")
            },
            "state": state,
            "decided": decided,
            "accepted": progress.get("accepted", 0),
            "not_allowed": progress.get("not-allowed", 0),
            "delivered": progress["delivered"],
            "failed": progress["failed"],
            "malformed": job["malformed"],
        },
    )


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
        for m in InboxStore().messages(citizen_id)
    ]
    return Reply(200, {"citizen_id": citizen_id, "unread": sum(not m["read"] for m in messages), "messages": messages})


def inbox_summary(inbox: dict[str, Any]) -> dict[str, Any]:
    """How many messages and how many unread: no subjects or bodies."""
    total = len(inbox["messages"])
    return {"citizen_id": inbox["citizen_id"], "unread": inbox["unread"], "total": total, "view": "summary"}


def mark_read(ctx: RequestContext, citizen_id: str, notification_id: str) -> Reply:
    """Marking read twice is fine: the first time counts."""
    store = InboxStore()
    item = store.find(citizen_id, notification_id)
    if item is None:
        raise service.NotificationNotFoundError(f"no message {notification_id!r} in {citizen_id}'s inbox")
    if item.read_at is None:
        try:
            store.mark_read(item, pipeline.now())
        except Exception as exc:  # the condition failed: read meanwhile
            if "ConditionalCheckFailed" not in str(exc):
                raise
    return Reply(204)


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


PROFILE_WRITE_ATTEMPTS = 5


def put_push_endpoint(ctx: RequestContext, body: PushEndpointPut, citizen_id: str) -> Reply:
    """The device's endpoint joins the citizen's profile, which the CON projections also write: a concurrent
    projection is a version conflict, so read-merge-write again rather than hand the caller a 409."""
    reply = Reply(200, {"citizen_id": citizen_id, "endpoint": body.endpoint})

    def write() -> Reply:
        uow = pipeline.project_part(citizen_id, "push_endpoint", body.endpoint, pipeline.now())
        return ctx.commit(uow, reply)

    for _ in range(PROFILE_WRITE_ATTEMPTS - 1):
        try:
            return write()
        except ConflictError:
            continue
    return write()  # the last attempt's conflict reaches the caller as a 409


def get_profile(ctx: RequestContext, citizen_id: str) -> Reply:
    """What NOT decides with: the projected consents, preferences and flags, reachable channels, subscriptions."""
    view = pipeline.views_of([citizen_id])[citizen_id]
    subs = stores().profiles.fetch_subscriptions(citizen_id)
    return Reply(
        200,
        {
            "citizen_id": citizen_id,
            "consents": view.consents,
            "language": view.language,
            "channels": list(view.channels),
            "quiet_hours": view.quiet_hours,
            "restricted": view.restricted,
            "objections": list(view.objections),
            "reachable": view.reachable(),
            "subscriptions": sorted(f"{s.topic}.{s.zone}" for s in subs),
        },
    )


def profile_summary(profile: dict[str, Any]) -> dict[str, Any]:
    """Which channels reach the person, and their restriction: no addresses, consents or zones."""
    keys = ("citizen_id", "reachable", "restricted")
    return {**{k: profile[k] for k in keys}, "view": "summary"}


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
          status=202, idempotent_writes=True, max_body_bytes=MAX_BULK_BYTES, links={"bulk_id": "/id"},
          action="notification.send"),
    Route("/v1/notifications/bulk/<bulk_id>", "GET", get_bulk, "A bulk job's progress and malformed rows",
          action="notification.read"),
    Route("/v1/notifications/<notification_id>", "GET", get_notification, "Status, reason and history",
          action="notification.read", citizen=citizen_of_notification,
          reads=Reads("notification", ("notifications",), notification_summary)),
    Route("/v1/citizens/<citizen_id>/inbox", "GET", get_inbox, "In-app messages, newest first",
          action="inbox.read", reads=Reads("inbox", ("notifications",), inbox_summary)),
    Route("/v1/citizens/<citizen_id>/inbox/<notification_id>/read", "POST", mark_read, "Mark an in-app message read",
          status=204, action="inbox.write"),
    Route("/v1/citizens/<citizen_id>/push-endpoint", "PUT", put_push_endpoint, "Register the device for push",
          request_model=PushEndpointPut, idempotent_writes=True, action="inbox.write"),
    Route("/v1/citizens/<citizen_id>/notification-profile", "GET", get_profile,
          "What the notification service decides with (projected consents, preferences, flags, subscriptions)",
          action="inbox.read", reads=Reads("notification-profile", ("notification-profile",), profile_summary)),
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
    uow, _ = pipeline.accept_one(req, ctx.traceparent)
    return uow


def on_alert(ctx: EventContext, data: Any) -> UnitOfWork:
    """Store the alert and start walking its subscribers, a page per event, groups in parallel."""
    assert isinstance(data, AlertPublished)
    if data.topic not in load_terms().topics:
        raise ValidationError(
            f"unknown topic {data.topic!r}", errors=[{"field": "topic", "message": "a declared topic"}]
        )
    keys = service.alert_zone_keys(data.topic, data.zones)
    alert_id = service.derived_id("alert", ctx.source, ctx.id).replace("ntf-", "alr-")
    at = pipeline.now()
    uow = UnitOfWork()
    doc = {**data.model_dump(mode="json"), "id": alert_id, "source": ctx.source, "keys": keys, "at": at.isoformat()}
    stores().alerts.stage_alert(uow, alert_id, doc, at)
    for group in pipeline.alert_groups(keys):
        stage_event(uow, AlertPageReady(alert_id=alert_id, topic_zones=group), subject=alert_id,
                    traceparent=ctx.traceparent, now=at)  # fmt: skip
    return uow


def on_alert_page(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, AlertPageReady)
    uow, following = pipeline.alert_page(data.alert_id, data.topic_zones, data.index, data.cursor, data.page,
                                         ctx.traceparent)  # fmt: skip
    if following:
        nxt = AlertPageReady(alert_id=data.alert_id, topic_zones=data.topic_zones, **following)
        stage_event(uow, nxt, subject=data.alert_id, traceparent=ctx.traceparent)
    return uow


def on_bulk_chunk(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, BulkChunkReady)
    return pipeline.bulk_chunk(data.bulk_id, data.chunk, ctx.traceparent)


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ConsentChanged)
    erasure = data.capture_channel == ERASURE_CAPTURE_CHANNEL and not data.after.granted
    return pipeline.project_consent(data.citizen_id, data.purpose, data.after.model_dump(), data.changed_at, erasure)


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360's contact points for the golden record, as of the change (events without them change nothing)."""
    assert isinstance(data, CitizenUpdated)
    if data.contact is None:
        return UnitOfWork()
    return pipeline.project_contacts(data.citizen_id, data.contact.email, data.contact.phone, data.updated_at)


def on_citizen_unmerged(ctx: EventContext, data: Any) -> UnitOfWork:
    """An un-merge took records (and maybe contact points) away from the golden record ``citizen_id``."""
    assert isinstance(data, CitizenUnmerged)
    if data.contact is None:
        return UnitOfWork()
    return pipeline.project_contacts(data.citizen_id, data.contact.email, data.contact.phone, data.unmerged_at)


def on_preferences_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, PreferencesChanged)
    return pipeline.project_part(data.citizen_id, "preferences", data.after.model_dump(mode="json"), data.changed_at)


def on_subscription_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, SubscriptionChanged)
    live = data.change == "created"
    return pipeline.project_subscription(data.citizen_id, data.subscription_id, data.topic, data.zone, live,
                                         data.changed_at)  # fmt: skip


def on_rgpd_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    """Restriction (RGPD art. 18) and objections (art. 21) become policy input (latest ``changed_at`` wins)."""
    assert isinstance(data, RgpdFlagsChanged)
    value = {"restricted": data.restricted, "objections": sorted(set(data.objections))}
    return pipeline.project_part(data.citizen_id, "flags", value, data.changed_at)


def on_rgpd_request_completed(ctx: EventContext, data: Any) -> UnitOfWork:
    """A completed erasure says when each domain erased: drop the copies made in between (ADR 0012)."""
    assert isinstance(data, RgpdRequestCompleted)
    if data.right != "erasure":
        return UnitOfWork()
    return pipeline.sweep_citizen(data.request_id, data.citizen_id, data.answered)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the notification domain (``rights.answer``), the answer in the same
    unit of work as the erasure it reports."""
    assert isinstance(data, RgpdRequestOpened)
    at = pipeline.now()
    uow = UnitOfWork()
    answered = rights.answer(data, uow, at)
    core_rights.stage_answer(uow, answered, ctx.traceparent)
    return uow


event_api = EventFunction(
    "pic-notification-events",
    {
        "es.madrid.pic.notification.requested.v1": on_requested,
        "es.madrid.pic.alert.published.v1": on_alert,
        "es.madrid.pic.alert.page.ready.v1": on_alert_page,
        "es.madrid.pic.notification.bulk.chunk.ready.v1": on_bulk_chunk,
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
    return pipeline.deliver(data.notification_id, ctx.traceparent)


def on_due(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, NotificationDue)
    return pipeline.deliver(data.notification_id, ctx.traceparent, due=True)


def on_terminal(ctx: EventContext, data: Any) -> UnitOfWork:
    """A signed (HMAC-SHA256) status callback to the requester, if it gave a ``callback_url``. A callback that
    fails is answered 409, so the broker retries it with backoff and dead-letters it in the end."""
    assert isinstance(data, NotificationStatusChanged)
    found = stores().notifications.fetch(data.notification_id)
    if found is None or not found[0].get("callback_url"):
        return UnitOfWork()
    doc = found[0]
    if not service.callback_host_allowed(doc["callback_url"], get_settings().callback_hosts):
        # allowed when accepted, not any more (the list changed): not called, and said so
        get_logger().warning("callback host no longer allowed", extra={"notification_id": doc["id"]})
        return UnitOfWork()
    payload = {
        "id": doc["id"],
        "reference": doc.get("reference"),
        "status": data.status,
        "reason": data.reason,
        "channel": data.channel,
        "at": data.changed_at.isoformat(),
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = service.sign(get_settings().callback_secret, int(time.time()), body)
    headers = {"Content-Type": "application/json", "X-PIC-Signature": signature, "X-PIC-Event-Id": ctx.id}
    try:
        # No redirects: a redirect could lead the POST to a host outside the allow-list.
        answer = requests.post(doc["callback_url"], data=body, headers=headers, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        raise ConflictError(f"the callback could not be delivered: {exc}") from exc
    if answer.status_code >= 300:
        raise ConflictError(f"the callback was answered {answer.status_code}")
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
