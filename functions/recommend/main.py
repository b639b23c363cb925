"""Recommendations (REC, issue 18) entry points: thin. Parse, map to a command, call the use case, answer.

- ``recommend_http`` (Knative Service ``pic-recommend``): the citizen's suggestions (each with its reason, es/en,
  the data it used and a link to act) and their feedback. Only the citizen: agents see none (README, Decisions).
- ``recommend_events`` (``pic-recommend-events``): the facts projected (consent mode, RGPD flags, C360's Padrón
  facts, IBI receipts and payments, direct debits, vehicles, cards, bookings, zones, the agenda) and
  ``rgpd.request.opened``.
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict

from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork
from functions.recommend import handlers
from functions.recommend.bootstrap import ports

NAME = "pic-recommend"
APP = "suggestions"


class SuggestionFeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feedback: Literal["useful", "not-useful", "dont-show-again"]


def get_suggestions(ctx: RequestContext, citizen_id: str) -> Reply:
    """The suggestions for the citizen now, or none and why (mode a, an objection, a restriction)."""
    return Reply(200, handlers.citizen_suggestions(citizen_id, ports()).view())


def post_feedback(ctx: RequestContext, citizen_id: str, suggestion_id: str, body: SuggestionFeedbackBody) -> Reply:
    """Useful (counted), not useful (hides this suggestion), don't show again (hides its rule for the person)."""
    cmd = handlers.GiveFeedback(citizen_id, suggestion_id, body.feedback)
    return ctx.run(lambda: handlers.give_feedback(cmd, ports()), lambda done: Reply(200, done))


def suggestions_summary(view: dict[str, Any]) -> dict[str, Any]:
    """How many suggestions, not what or why (the facts behind them are the citizen's)."""
    return {"allowed": view["allowed"], "count": len(view["suggestions"]), "view": "summary"}


ROUTES = [
    Route("/v1/citizens/<citizen_id>/suggestions", "GET", get_suggestions,
          "The citizen's suggestions (mode b only): each with its reason in words, the data it used and a link",
          action="recommend.suggestions.read", reads=Reads("suggestions", ("suggestions",), suggestions_summary),
          app=APP),
    Route("/v1/citizens/<citizen_id>/suggestions/<suggestion_id>/feedback", "POST", post_feedback,
          "Feedback on a suggestion: useful, not-useful (hides it), dont-show-again (hides its rule)",
          request_model=SuggestionFeedbackBody, idempotent_writes=True, action="recommend.suggestions.feedback",
          app=APP, max_body_bytes=1024),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def recommend_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def _on(handler: Any) -> Any:
    def on(ctx: EventContext, data: Any) -> UnitOfWork:
        return handler(data, ports())  # type: ignore[no-any-return]

    on.__name__ = handler.__name__
    return on


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    return handlers.answer_rights(data, ports(), ctx.traceparent)


PREFIX = "es.madrid.pic."
event_api = EventFunction(
    "pic-recommend-events",
    {
        f"{PREFIX}consent.changed.v1": _on(handlers.on_consent_changed),
        f"{PREFIX}rgpd.flags.changed.v1": _on(handlers.on_flags_changed),
        f"{PREFIX}citizen.updated.v1": _on(handlers.on_citizen_updated),
        f"{PREFIX}tax.receipt.issued.v1": _on(handlers.on_receipt_issued),
        f"{PREFIX}tax.receipt.paid.v1": _on(handlers.on_receipt_paid),
        f"{PREFIX}tax.direct-debit.signed.v1": _on(handlers.on_debit_signed),
        f"{PREFIX}tax.direct-debit.cancelled.v1": _on(handlers.on_debit_cancelled),
        f"{PREFIX}vehicle.registered.v1": _on(handlers.on_vehicle_registered),
        f"{PREFIX}card.issued.v1": _on(handlers.on_card_issued),
        f"{PREFIX}card.revoked.v1": _on(handlers.on_card_revoked),
        f"{PREFIX}booking.confirmed.v1": _on(handlers.on_booking_confirmed),
        f"{PREFIX}zones.changed.v1": _on(handlers.on_zones_changed),
        f"{PREFIX}agenda.event.published.v1": _on(handlers.on_agenda_event),
        f"{PREFIX}rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def recommend_events(event: CloudEvent) -> None:
    event_api(event)
