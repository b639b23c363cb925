"""Campaigns (CAMP) entry points: thin. Parse, map to a command, call the use case, answer.

- ``campaign_http`` (Knative Service ``pic-campaign``): segments (``/v1/segments``: save, new version, read,
  count by channel, rebuild) and campaigns (``/v1/campaigns``: create, read with live progress, approve,
  schedule, pause, resume, cancel, the impact report as JSON, CSV, PNG or SVG). Campaign managers are agents
  of area ``comunicacion`` (``policies/authz``); four-eyes is the domain's rule (``service.transition``).
- ``campaign_events`` (``pic-campaign-events``): the audience projection (``citizen.updated``, ``consent.changed``,
  ``preferences.changed``, ``subscription.changed``, ``rgpd.flags.changed``, ``case.updated``,
  ``interaction.logged``, the areas' ``position.item.upserted`` with the record links ``citizen.updated`` names),
  NOT's status events of campaign notifications (the impact counters) and data-subject requests.
The dispatcher is ``python -m functions.campaign.dispatch``; the export ``python -m functions.campaign.export``.
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict

from events.case import CaseUpdated
from events.citizen import CitizenUpdated
from events.consent import ConsentChanged, PreferencesChanged, SubscriptionChanged
from events.interaction import InteractionLogged
from events.notification import NotificationEngaged, NotificationStatusChanged
from events.payment import PaymentSucceeded
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from events.survey import SurveyAnswered
from functions.campaign import handlers, report, service
from functions.campaign.bootstrap import ports
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reply, RequestContext, Route, parse_query
from functions.core.logging import get_logger
from functions.core.store import UnitOfWork

NAME = "pic-campaign"
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "png": "image/png",
           "svg": "image/svg+xml"}  # fmt: skip


def _by(ctx: RequestContext) -> str:
    """Who acts, as the history records it: ``role:id``."""
    return f"{ctx.subject.role}:{ctx.subject.id}"


def _audited(ctx: RequestContext, what: str, target: str) -> None:
    """Every manager's action in the structured log too (the campaign's history keeps it with the campaign)."""
    get_logger().info("campaign action", extra={"action": what, "target": target, "by": _by(ctx)})


# ---- segments ----------------------------------------------------------------------------------------------


def post_segment(ctx: RequestContext, body: service.SegmentPost) -> Reply:
    """Save a segment: its filter validated (each error named), explained in words."""
    _audited(ctx, "segment.create", body.name)

    def reply(segment: service.Segment) -> Reply:
        return Reply(201, handlers.segment_view(segment, ports()), {"Location": f"/v1/segments/{segment.id}"})

    return ctx.run(lambda: handlers.create_segment(body, _by(ctx), ports()), reply)


def put_segment(ctx: RequestContext, body: service.SegmentPut, segment_id: str) -> Reply:
    """A new version of the segment's filter (the earlier ones are kept for the campaigns naming them)."""
    _audited(ctx, "segment.version", segment_id)
    return ctx.run(
        lambda: handlers.update_segment(segment_id, body, ports()),
        lambda segment: Reply(200, handlers.segment_view(segment, ports())),
    )


def get_segments(ctx: RequestContext) -> Reply:
    found = ports().store.fetch_segments()
    return Reply(200, {"segments": [{"id": s.id, "name": s.name, "version": s.version} for s in found]})


def get_segment(ctx: RequestContext, segment_id: str) -> Reply:
    """The segment, its explanation, and its members now (snapshot ± deltas) when it has been built."""
    return Reply(200, handlers.segment_view(handlers.find_segment(segment_id, ports()), ports()))


def post_count(ctx: RequestContext, body: service.CountPost, segment_id: str) -> Reply:
    """How many the segment reaches, by the channel NOT will choose, with a pseudonymised sample."""
    return Reply(200, handlers.count_segment(segment_id, body, ports()))


def post_rebuild(ctx: RequestContext, segment_id: str) -> Reply:
    """The full rebuild: a fresh export, a new snapshot, the deltas it includes dropped."""
    _audited(ctx, "segment.rebuild", segment_id)
    return ctx.run(
        lambda: handlers.rebuild_segment(segment_id, ports()),
        lambda segment: Reply(200, handlers.segment_view(segment, ports())),
    )


# ---- campaigns ---------------------------------------------------------------------------------------------


def post_campaign(ctx: RequestContext, body: service.CampaignPost) -> Reply:
    """A draft campaign; its templates checked at NOT with the manager's own token."""
    cmd = handlers.CreateCampaign(body, _by(ctx), ctx.header("Authorization"), ctx.traceparent)
    _audited(ctx, "campaign.create", body.name)

    def reply(campaign: service.Campaign) -> Reply:
        return Reply(201, service.campaign_view(campaign), {"Location": f"/v1/campaigns/{campaign.id}"})

    return ctx.run(lambda: handlers.create_campaign(cmd, ports()), reply)


def get_campaigns(ctx: RequestContext) -> Reply:
    found = ports().store.fetch_campaigns()
    return Reply(200, {"campaigns": [{"id": c.id, "name": c.post.name, "state": c.state} for c in found]})


def get_campaign(ctx: RequestContext, campaign_id: str) -> Reply:
    """The campaign, its history and its live progress (targeted, dispatched, the impact counters)."""
    return Reply(200, handlers.campaign_progress(campaign_id, ports()))


def _action(action: str) -> Any:
    def handler(ctx: RequestContext, campaign_id: str) -> Reply:
        _audited(ctx, f"campaign.{action}", campaign_id)
        step: Any = lambda: handlers.act(campaign_id, action, _by(ctx), ports())  # noqa: E731
        return ctx.run(step, lambda campaign: Reply(200, service.campaign_view(campaign)))

    handler.__name__ = f"post_{action}"
    handler.__doc__ = f"{action.capitalize()} the campaign (recorded in its history)."
    return handler


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "csv", "png", "svg"] = "json"
    language: Literal["es", "en"] = "es"


def get_report(ctx: RequestContext, campaign_id: str) -> Reply:
    """The impact: targeted, dispatched, sent, delivered, failed, engagement; by district, channel and variant
    (``?format=json|csv|png|svg&language=es|en``)."""
    query = parse_query(ctx.request, ReportQuery)
    found = handlers.campaign_report(campaign_id, ports())
    if query.format == "json":
        return Reply(200, found)
    name = f"campaign-{campaign_id}"
    if query.format == "csv":
        body = report.as_csv(found).encode()
    else:
        campaign = handlers.find_campaign(campaign_id, ports())
        body = report.plot(found, campaign.post.name, "png" if query.format == "png" else "svg", query.language)
    disposition = "attachment" if query.format == "csv" else "inline"
    headers = {
        "Content-Type": FORMATS[query.format],
        "Content-Disposition": f'{disposition}; filename="{name}.{query.format}"',
    }
    return Reply(200, body, headers)


ROUTES = [
    Route("/v1/segments", "POST", post_segment, "Save a segment (a validated filter, explained in words)",
          request_model=service.SegmentPost, status=201, idempotent_writes=True, links={"segment_id": "/id"},
          action="segment.edit"),
    Route("/v1/segments", "GET", get_segments, "The saved segments", action="segment.read"),
    Route("/v1/segments/<segment_id>", "GET", get_segment, "A segment, its explanation and its members now",
          action="segment.read"),
    Route("/v1/segments/<segment_id>", "PUT", put_segment, "A new version of a segment's filter",
          request_model=service.SegmentPut, action="segment.edit"),
    Route("/v1/segments/<segment_id>/count", "POST", post_count,
          "Count a segment by the channel NOT will choose, with a pseudonymised sample",
          request_model=service.CountPost, action="segment.read"),
    Route("/v1/segments/<segment_id>/rebuild", "POST", post_rebuild, "Rebuild a saved segment's snapshot in full",
          action="segment.edit"),
    Route("/v1/campaigns", "POST", post_campaign, "Create a campaign (a draft)", request_model=service.CampaignPost,
          status=201, idempotent_writes=True, links={"campaign_id": "/id"}, action="campaign.edit"),
    Route("/v1/campaigns", "GET", get_campaigns, "The campaigns, newest first", action="campaign.read"),
    Route("/v1/campaigns/<campaign_id>", "GET", get_campaign, "A campaign with its history and live progress",
          action="campaign.read"),
    Route("/v1/campaigns/<campaign_id>/approve", "POST", _action("approve"),
          "Approve a campaign (four-eyes: not its creator)", action="campaign.approve"),
    *[Route(f"/v1/campaigns/<campaign_id>/{a}", "POST", _action(a), f"{a.capitalize()} a campaign",
            action="campaign.send") for a in ("schedule", "pause", "resume", "cancel")],
    Route("/v1/campaigns/<campaign_id>/report", "GET", get_report,
          "A campaign's impact report (?format=json|csv|png|svg&language=es|en)", action="campaign.read"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def campaign_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------------


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CitizenUpdated)
    return handlers.on_citizen_updated(data, ports())


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ConsentChanged)
    return handlers.on_consent_changed(data, ports())


def on_preferences_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, PreferencesChanged)
    return handlers.on_preferences_changed(data, ports())


def on_subscription_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, SubscriptionChanged)
    return handlers.on_subscription_changed(data, ports())


def on_flags_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdFlagsChanged)
    return handlers.on_flags_changed(data, ports())


def on_case_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CaseUpdated)
    return handlers.on_case_updated(data, ports())


def on_item_upserted(ctx: EventContext, data: Any) -> UnitOfWork:
    """An area system's item (its source, the CloudEvent's, names the system whose record it is)."""
    assert isinstance(data, PositionItemUpserted)
    return handlers.on_item_upserted(ctx.source, data, ports())


def on_interaction_logged(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, InteractionLogged)
    return handlers.on_interaction_logged(data, ports())


def on_status(ctx: EventContext, data: Any) -> UnitOfWork:
    """NOT's status of a notification: counted when it belongs to a campaign's run."""
    assert isinstance(data, NotificationStatusChanged)
    return handlers.on_status(data, ports())


def on_engaged(ctx: EventContext, data: Any) -> UnitOfWork:
    """A provider's feedback or an unsubscribe: counted when it belongs to a campaign's run."""
    assert isinstance(data, NotificationEngaged)
    return handlers.on_engaged(data, ports())


def on_payment(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, PaymentSucceeded)
    return handlers.on_payment(data, ports())


def on_survey_answered(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, SurveyAnswered)
    return handlers.on_survey_answered(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-campaign-events",
    {
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.consent.changed.v1": on_consent_changed,
        "es.madrid.pic.preferences.changed.v1": on_preferences_changed,
        "es.madrid.pic.subscription.changed.v1": on_subscription_changed,
        "es.madrid.pic.rgpd.flags.changed.v1": on_flags_changed,
        "es.madrid.pic.case.updated.v1": on_case_updated,
        "es.madrid.pic.position.item.upserted.v1": on_item_upserted,
        "es.madrid.pic.interaction.logged.v1": on_interaction_logged,
        "es.madrid.pic.notification.accepted.v1": on_status,
        "es.madrid.pic.notification.not-allowed.v1": on_status,
        "es.madrid.pic.notification.delivered.v1": on_status,
        "es.madrid.pic.notification.permanent-failure.v1": on_status,
        "es.madrid.pic.notification.engaged.v1": on_engaged,
        "es.madrid.pic.payment.succeeded.v1": on_payment,
        "es.madrid.pic.survey.answered.v1": on_survey_answered,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def campaign_events(event: CloudEvent) -> None:
    event_api(event)
