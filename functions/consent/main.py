"""Consent & preferences entry points: thin. Parse, authorise, call the service, commit, answer.

- ``consent_http``: the channel API under ``/v1/citizens/{id}/...`` (Knative Service ``pic-consent``).
- ``consent_events``: ``es.madrid.pic.consent.change.requested.v1`` from internal systems
  (Knative Service ``pic-consent-events``). Both paths run the same use case, ``handlers.change_consent``;
  the use cases are in ``handlers.py`` and the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.consent import Actor, ConsentChangeRequested, Preferences
from functions.consent import handlers, service
from functions.consent.bootstrap import ports
from functions.consent.storage import proof_view
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork

NAME = "pic-consent"
CONFLICT_ATTEMPTS = 6  # a citizen's consents are one item: changes to two purposes at once race for it


# ---- request and response bodies (also the OpenAPI schemas) -------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentPut(Body):
    granted: bool
    channels: list[str] = Field(default_factory=list, description="channels the consent covers")
    text_version: str | None = Field(None, description="version of the text shown; required to give consent")
    language: Literal["es", "en"] = "es"
    capture_channel: Literal["app", "web", "office", "phone", "chat", "whatsapp", "paper"] = "app"


class ConsentEntry(BaseModel):
    purpose: str
    channel: str | None
    granted: bool
    requires_consent: bool
    legal_basis: str
    text_version: str | None
    changed_at: datetime | None
    proof_id: str | None
    current_text_version: str | None


class ConsentsView(BaseModel):
    citizen_id: str
    mode: Literal["a", "b"]
    consents: list[ConsentEntry]


class SubscriptionPost(Body):
    topic: str = Field(examples=["traffic"])
    zone: str = Field(pattern=r"^[0-9]{2,3}$", examples=["01", "011"], description="district or barrio code")


class SubscriptionView(BaseModel):
    id: str
    topic: str
    zone: dict[str, str]
    created_at: datetime


# ---- who acts ------------------------------------------------------------------------------------------


def actor(ctx: RequestContext) -> Actor:
    """Who acts, as ``policies/authz`` decided (the kernel asked it): the citizen, or an agent on their
    behalf (recorded with the change, with the purpose they stated), or an internal system."""
    subject = ctx.subject
    if ctx.on_behalf:
        return Actor(kind="agent", id=subject.id, level=subject.level)
    if subject.role == "system":
        return Actor(kind="system", id=subject.id)
    return Actor(kind="citizen", id=subject.id)


# ---- consents --------------------------------------------------------------------------------------


def get_consents(ctx: RequestContext, citizen_id: str) -> Reply:
    return Reply(200, _consents_view(ports().store.fetch_state(citizen_id)))


def get_purpose(ctx: RequestContext, citizen_id: str, purpose: str) -> Reply:
    if purpose not in ports().terms.purposes:  # nothing is shown: nothing is recorded as shown
        raise service.ConsentError(f"unknown purpose {purpose!r}")
    view = _consents_view(ports().store.fetch_state(citizen_id))
    view["consents"] = [c for c in view["consents"] if c["purpose"] == purpose]
    ctx.shown_sections = [f"consents.{purpose}:{ctx.view}"]
    return Reply(200, view)


def consents_summary(view: dict[str, Any]) -> dict[str, Any]:
    """What an agent whose view is a summary sees: the mode and which purposes are granted, no proofs,
    channels, dates or text versions (RGPD art. 5.1.c)."""
    granted = sorted({c["purpose"] for c in view["consents"] if c["granted"] and c["requires_consent"]})
    return {"citizen_id": view["citizen_id"], "mode": view["mode"], "granted": granted, "view": "summary"}


def put_consent(ctx: RequestContext, body: ConsentPut, citizen_id: str, purpose: str) -> Reply:
    cmd = service.ChangeConsent(
        citizen_id=citizen_id,
        purpose=purpose,
        granted=body.granted,
        channels=tuple(body.channels),
        text_version=body.text_version,
        language=body.language,
        actor=actor(ctx),
        capture_channel=body.capture_channel,
        access_purpose=ctx.purpose,
    )
    return ctx.run(
        lambda: handlers.change_consent(cmd, ports(), ctx.traceparent),
        lambda state: Reply(200, _consents_view(state)),
        attempts=CONFLICT_ATTEMPTS,
    )


def _consents_view(state: service.ConsentState) -> dict[str, Any]:
    entries = handlers.views_of(state, ports())
    return ConsentsView(citizen_id=state.citizen_id, mode=state.mode, consents=entries).model_dump(mode="json")


def get_history(ctx: RequestContext, citizen_id: str) -> Reply:
    try:
        limit = min(max(int(ctx.request.args.get("limit", "50")), 1), 200)
    except ValueError as exc:
        raise ValidationError("limit must be an integer 1-200") from exc
    try:
        proofs, cursor = ports().store.fetch_history(citizen_id, limit, ctx.request.args.get("cursor"))
    except ValueError as exc:
        raise ValidationError("cursor is not one this API gave") from exc
    return Reply(200, {"citizen_id": citizen_id, "proofs": [proof_view(p) for p in proofs], "next_cursor": cursor})


def history_summary(page: dict[str, Any]) -> dict[str, Any]:
    """A summary of the proofs: how many on this page and when the latest was recorded."""
    proofs = page["proofs"]
    latest = proofs[0].get("recorded_at") if proofs else None
    return {"citizen_id": page["citizen_id"], "proofs": len(proofs), "latest": latest, "view": "summary"}


def get_terms(ctx: RequestContext) -> Reply:
    """The published purposes, channels, topics and current consent texts: what a channel shows."""
    terms = ports().terms
    language = ctx.request.args.get("language", "es")
    if language not in ("es", "en"):
        raise ValidationError(
            f"language must be es or en, not {language!r}", errors=[{"field": "language", "message": "es or en"}]
        )
    purposes = []
    for pid, p in terms.purposes.items():
        text = terms.text(pid, p.current_text_version or "", language)
        purposes.append(
            {
                "purpose": pid,
                "legal_basis": p.legal_basis,
                "requires_consent": p.requires_consent,
                "legal_obligation": p.legal_obligation,
                "channel_scoped": p.channel_scoped,
                "text_version": p.current_text_version,
                "text": text.text if text else None,
                "text_sha256": text.sha256 if text else None,
            }
        )
    return Reply(
        200,
        {"language": language, "purposes": purposes, "channels": list(terms.channels), "topics": list(terms.topics)},
    )


# ---- contact decisions -----------------------------------------------------------------------------


class ContactDecision(BaseModel):
    citizen_id: str
    purpose: str
    channel: str
    allow: bool
    defer: bool
    defer_until: datetime | None = Field(None, description="when quiet hours end, if the answer is to wait")
    legal_basis: str
    reasons: list[str]
    mode: Literal["a", "b"]
    decided_at: datetime


def get_contact_decision(ctx: RequestContext, citizen_id: str) -> Reply:
    """``policies/consent`` for this citizen now: what notifications and campaigns must honour.

    Whoever asks reads personal data (the access log records it, an internal system's question too: it is
    a recipient, RGPD art. 15.1.c); notifications decide on their own projection, not per call here.
    """
    args = ctx.request.args
    missing = [name for name in ("purpose", "channel") if not args.get(name)]
    if missing:
        raise ValidationError(
            "purpose and channel are required query parameters",
            errors=[{"field": name, "message": "required"} for name in missing],
        )
    message = {k: args[k] for k in ("topic", "severity") if args.get(k)}
    answer = handlers.contact_decision(citizen_id, args["purpose"], args["channel"], message or None, ports())
    view = ContactDecision(
        citizen_id=citizen_id,
        purpose=args["purpose"],
        channel=args["channel"],
        allow=answer.allow,
        defer=answer.defer,
        defer_until=answer.defer_until,
        legal_basis=answer.legal_basis,
        reasons=answer.reasons,
        mode=answer.state.mode,
        decided_at=answer.decided_at,
    )
    return Reply(200, view)


def decision_summary(view: dict[str, Any]) -> dict[str, Any]:
    """The answer without the citizen's preferences and flags behind it."""
    keys = ("citizen_id", "purpose", "channel", "allow", "defer", "decided_at")
    return {**{k: view[k] for k in keys}, "view": "summary"}


# ---- preferences -----------------------------------------------------------------------------------


def get_preferences(ctx: RequestContext, citizen_id: str) -> Reply:
    prefs, _ = ports().store.fetch_preferences(citizen_id)
    return Reply(200, prefs)


def put_preferences(ctx: RequestContext, body: Preferences, citizen_id: str) -> Reply:
    return ctx.run(
        lambda: handlers.change_preferences(citizen_id, body, actor(ctx), ports(), ctx.traceparent),
        lambda preferences: Reply(200, preferences.model_dump(mode="json")),
    )


def preferences_summary(prefs: dict[str, Any]) -> dict[str, Any]:
    """Language and channels; not the quiet hours."""
    return {"language": prefs.get("language"), "channels": prefs.get("channels"), "view": "summary"}


# ---- subscriptions ---------------------------------------------------------------------------------


def _subscription_view(sub: service.Subscription) -> dict[str, Any]:
    zone = {"code": sub.zone.code, "kind": sub.zone.kind, "name": sub.zone.name, "district": sub.zone.district}
    return SubscriptionView(id=sub.id, topic=sub.topic, zone=zone, created_at=sub.created_at).model_dump(mode="json")


def get_subscriptions(ctx: RequestContext, citizen_id: str) -> Reply:
    subs = ports().store.fetch_subscriptions(citizen_id)
    return Reply(200, {"citizen_id": citizen_id, "subscriptions": [_subscription_view(s) for s in subs]})


def subscriptions_summary(page: dict[str, Any]) -> dict[str, Any]:
    """The topics subscribed to, not the zones (where the person lives or works)."""
    topics = sorted({s["topic"] for s in page["subscriptions"]})
    return {"citizen_id": page["citizen_id"], "count": len(page["subscriptions"]), "topics": topics, "view": "summary"}


def subscription_summary(sub: dict[str, Any]) -> dict[str, Any]:
    return {"id": sub["id"], "topic": sub["topic"], "view": "summary"}


def post_subscription(ctx: RequestContext, body: SubscriptionPost, citizen_id: str) -> Reply:
    """Subscribing twice to the same topic and zone answers the existing subscription (200, not 201)."""

    def reply(done: handlers.Subscribed) -> Reply:
        view = _subscription_view(done.subscription)
        if not done.created:
            return Reply(200, view)
        return Reply(201, view, {"Location": f"{ctx.request.path}/{done.subscription.id}"})

    return ctx.run(
        lambda: handlers.subscribe(citizen_id, body.topic, body.zone, actor(ctx), ports(), ctx.traceparent), reply
    )


def delete_subscription(ctx: RequestContext, citizen_id: str, subscription_id: str) -> Reply:
    return ctx.run(
        lambda: handlers.unsubscribe(citizen_id, subscription_id, actor(ctx), ports(), ctx.traceparent),
        lambda _: Reply(204),
    )


CITIZEN = "/v1/citizens/<citizen_id>"
CONSENTS = Reads("consents", ("consents",), consents_summary)
ROUTES = [
    Route("/v1/consent-terms", "GET", get_terms, "Published purposes, channels, topics and consent texts", public=True),
    Route(
        f"{CITIZEN}/consents",
        "GET",
        get_consents,
        "Current consents and mode (a/b)",
        response_model=ConsentsView,
        action="consent.read",
        app="consents",
        reads=CONSENTS,
    ),
    Route(
        f"{CITIZEN}/consents/history",
        "GET",
        get_history,
        "Proof records, newest first",
        action="consent.read",
        app="consents",
        reads=Reads("consent-history", ("consent-history",), history_summary),
    ),
    Route(
        f"{CITIZEN}/consents/<purpose>",
        "GET",
        get_purpose,
        "Current consent for one purpose",
        response_model=ConsentsView,
        action="consent.read",
        app="consents",
        reads=CONSENTS,
    ),
    Route(
        f"{CITIZEN}/consents/<purpose>",
        "PUT",
        put_consent,
        "Give or withdraw consent for a purpose",
        request_model=ConsentPut,
        response_model=ConsentsView,
        idempotent_writes=True,
        action="consent.write",
        app="consents",
        reads=CONSENTS,
    ),
    Route(
        f"{CITIZEN}/contact-decision",
        "GET",
        get_contact_decision,
        "May the council contact this citizen for ?purpose on ?channel now (policies/consent)",
        response_model=ContactDecision,
        action="contact.decide",
        reads=Reads("contact-decision", ("contact-decision",), decision_summary),
    ),
    Route(
        f"{CITIZEN}/preferences",
        "GET",
        get_preferences,
        "Language, channels, quiet hours",
        response_model=Preferences,
        action="preferences.read",
        app="consents",
        reads=Reads("preferences", ("preferences",), preferences_summary),
    ),
    Route(
        f"{CITIZEN}/preferences",
        "PUT",
        put_preferences,
        "Replace preferences",
        request_model=Preferences,
        response_model=Preferences,
        idempotent_writes=True,
        action="preferences.write",
        app="consents",
        reads=Reads("preferences", ("preferences",), preferences_summary),
    ),
    Route(
        f"{CITIZEN}/subscriptions",
        "GET",
        get_subscriptions,
        "Alert subscriptions by topic and zone",
        action="subscriptions.read",
        app="alerts",
        reads=Reads("subscriptions", ("subscriptions",), subscriptions_summary),
    ),
    Route(
        f"{CITIZEN}/subscriptions",
        "POST",
        post_subscription,
        "Subscribe to alerts of a topic in a zone",
        request_model=SubscriptionPost,
        response_model=SubscriptionView,
        status=201,
        idempotent_writes=True,
        links={"subscription_id": "/id"},
        action="subscriptions.write",
        app="alerts",
        reads=Reads("subscriptions", ("subscriptions",), subscription_summary),
    ),
    Route(
        f"{CITIZEN}/subscriptions/<subscription_id>",
        "DELETE",
        delete_subscription,
        "Unsubscribe",
        status=204,
        action="subscriptions.write",
        app="alerts",
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def consent_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_change_requested(ctx: EventContext, data: Any) -> UnitOfWork:
    """A back-office's consent change: the same rules as the channel API, the actor from the event."""
    assert isinstance(data, ConsentChangeRequested)
    cmd = service.ChangeConsent(
        citizen_id=data.citizen_id,
        purpose=data.purpose,
        granted=data.granted,
        channels=tuple(data.channels),
        text_version=data.text_version,
        language=data.language,
        actor=data.actor,
        capture_channel=data.capture_channel,
        captured_at=data.captured_at,
        document_ref=data.document_ref,
        access_purpose=f"event {ctx.source}#{ctx.id}",
    )
    return handlers.change_consent(cmd, ports(), ctx.traceparent).unit


# ---- data-subject rights (RGPD): the consent domain's answer and its projection of the flags ------------
# The RGPD event models (and ``rights``) are imported with the first such event: the HTTP function (same
# module) never needs them and a cold start should not pay for them (docs/benchmarks.md).


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for this domain: export, erasure, flags."""
    from events.rgpd import RgpdRequestOpened

    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


def on_rgpd_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    """Project the restriction/objection flags that ``policies/consent`` honours."""
    from events.rgpd import RgpdFlagsChanged

    assert isinstance(data, RgpdFlagsChanged)
    return handlers.project_flags(data, ports())


event_api = EventFunction(
    "pic-consent-events",
    {
        "es.madrid.pic.consent.change.requested.v1": on_change_requested,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
        "es.madrid.pic.rgpd.flags.changed.v1": on_rgpd_flags_changed,
    },
)


@functions_framework.cloud_event
def consent_events(event: CloudEvent) -> None:
    event_api(event)
