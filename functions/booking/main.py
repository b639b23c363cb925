"""Bookings (issue 18) entry points: thin. Parse, map to a command, call the use case, answer.

- ``booking_http`` (Knative Service ``pic-booking``): the catalogue and its slots (public: no personal data);
  the citizen's bookings (book, list, cancel; an agent on the citizen's behalf with a purpose); the centre's
  agent's no-show.
- ``booking_events`` (``pic-booking-events``): ``tax.receipt.paid`` (PAY charged a booking's precio público),
  ``citizen.updated`` (the Padrón facts the rules read), ``rgpd.request.opened``.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.citizen import CitizenUpdated
from events.payment import TaxReceiptPaid
from events.rgpd import RgpdRequestOpened
from functions.booking import handlers, service
from functions.booking.bootstrap import ports
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork

NAME = "pic-booking"
BOOK_ATTEMPTS = 6  # many people at one slot: each round of the race commits one of them


class BookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slot_id: str = Field(min_length=5, max_length=96, examples=["piscina-barcelo.202612091900"])
    waitlist: bool = Field(False, description="when the slot is full, join its waiting list instead of a refusal")


def get_resources(ctx: RequestContext) -> Reply:
    """The bookable resources (sample data: municipal sports centres' pools and courts, classes, activities)."""
    return Reply(200, {"resources": handlers.resources()}, {"Cache-Control": "public, max-age=300"})


def get_slots(ctx: RequestContext, resource_id: str) -> Reply:
    """A resource's slots over the next days with their free places and waiting list (no personal data)."""
    return Reply(200, handlers.slots(resource_id, ports()))


def get_bookings(ctx: RequestContext, citizen_id: str) -> Reply:
    return Reply(200, {"bookings": handlers.bookings_of(citizen_id, ports())})


def bookings_summary(view: dict[str, Any]) -> dict[str, Any]:
    """How many bookings and in which state: not where or when the person goes."""
    states: dict[str, int] = {}
    for b in view["bookings"]:
        states[b["state"]] = states.get(b["state"], 0) + 1
    return {"bookings": len(view["bookings"]), "states": states, "view": "summary"}


def post_booking(ctx: RequestContext, citizen_id: str, body: BookBody) -> Reply:
    """Book a place (held for payment when it has a price) or join the waiting list of a full slot."""
    cmd = handlers.Book(citizen_id, body.slot_id, body.waitlist)
    now = ports().clock.now
    return ctx.run(
        lambda: handlers.book(cmd, ports(), ctx.traceparent),
        lambda b: Reply(201, service.view(b, now())),
        attempts=BOOK_ATTEMPTS,
    )


def get_booking(ctx: RequestContext, citizen_id: str, booking_id: str) -> Reply:
    return Reply(200, service.view(handlers.booking_of(citizen_id, booking_id, ports()), ports().clock.now()))


def booking_summary(view: dict[str, Any]) -> dict[str, Any]:
    return {"booking_id": view["booking_id"], "state": view["state"], "view": "summary"}


def post_cancel(ctx: RequestContext, citizen_id: str, booking_id: str) -> Reply:
    """Give up a place or a waiting-list entry; the place goes to the first waiting (told through NOT)."""
    cmd = handlers.Cancel(citizen_id, booking_id, "agent" if ctx.subject.role == "agent" else "citizen")
    now = ports().clock.now
    return ctx.run(lambda: handlers.cancel(cmd, ports(), ctx.traceparent), lambda b: Reply(200, service.view(b, now())))


def post_no_show(ctx: RequestContext, citizen_id: str, booking_id: str) -> Reply:
    """The centre's agent records that the person did not come (the no-show rule counts it)."""
    cmd = handlers.NoShow(citizen_id, booking_id, f"{ctx.subject.role}:{ctx.subject.id}")
    now = ports().clock.now
    return ctx.run(
        lambda: handlers.mark_no_show(cmd, ports(), ctx.traceparent), lambda b: Reply(200, service.view(b, now()))
    )


BOOKINGS = "/v1/citizens/<citizen_id>/bookings"
ROUTES = [
    Route("/v1/bookings/resources", "GET", get_resources,
          "The bookable resources: municipal sports centres' pools and courts, classes, cultural activities",
          public=True),
    Route("/v1/bookings/resources/<resource_id>/slots", "GET", get_slots,
          "A resource's slots over the next days with their free places and waiting list", public=True),
    Route(BOOKINGS, "GET", get_bookings, "The citizen's bookings (next first, then past)",
          action="booking.read", reads=Reads("bookings", ("appointments",), bookings_summary), app="bookings"),
    Route(BOOKINGS, "POST", post_booking,
          "Book a place in a slot (held for payment through PAY when it has a price) or join its waiting list",
          request_model=BookBody, status=201, idempotent_writes=True, action="booking.write", app="bookings",
          links={"booking_id": "/booking_id"}),
    Route(f"{BOOKINGS}/<booking_id>", "GET", get_booking, "One of the citizen's bookings",
          action="booking.read", reads=Reads("bookings", ("appointments",), booking_summary), app="bookings"),
    Route(f"{BOOKINGS}/<booking_id>/cancel", "POST", post_cancel,
          "Cancel a booking or a waiting-list entry before the slot (the place goes to the first waiting)",
          idempotent_writes=True, action="booking.write", app="bookings"),
    Route(f"{BOOKINGS}/<booking_id>/no-show", "POST", post_no_show,
          "Record that the person did not come to a confirmed place (the centre's agent)",
          idempotent_writes=True, action="booking.no-show"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def booking_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------------


def on_receipt_paid(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, TaxReceiptPaid)
    return handlers.on_receipt_paid(data, ports(), ctx.traceparent)


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CitizenUpdated)
    return handlers.project_citizen(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-booking-events",
    {
        "es.madrid.pic.tax.receipt.paid.v1": on_receipt_paid,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def booking_events(event: CloudEvent) -> None:
    event_api(event)
